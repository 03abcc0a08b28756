package main

// What every command gets the same way: examples in its help, typed
// placeholders, one-line usage errors, required flags checked before its
// action runs.

import (
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"
)

// example is one line of a command's EXAMPLES help section.
type example struct {
	Cmd  string // what to type
	What string // what it does
}

// withExamples adds an EXAMPLES section to c's help, after its options.
func withExamples(c *cli.Command, ex ...example) *cli.Command {
	var b strings.Builder
	b.WriteString("\nEXAMPLES:\n")
	for _, e := range ex {
		fmt.Fprintf(&b, "   %s\n      %s\n", e.Cmd, e.What)
	}
	c.CustomHelpTemplate = cli.CommandHelpTemplate + strings.ReplaceAll(b.String(), "{{", `{{"{{"}}`)
	return c
}

// finishCommands gives every command, at every level, one-line usage
// errors (never the help on stdout) and required flags that are checked
// by reprove rather than by urfave/cli (which prints the help).
func finishCommands(cmds []*cli.Command, st *runState) {
	for _, c := range cmds {
		c.HideHelpCommand = true
		c.OnUsageError = func(cc *cli.Context, err error, _ bool) error {
			st.cmd = commandPath(cc)
			return usagef("%s", flagMessage(err))
		}
		required := takeRequired(c.Flags)
		switch {
		case c.Action != nil:
			act := c.Action
			c.Action = func(cc *cli.Context) error {
				st.cmd = commandPath(cc)
				for _, name := range required {
					if !cc.IsSet(name) {
						return usagef("--%s is required", name)
					}
				}
				return act(cc)
			}
		case len(c.Subcommands) > 0:
			c.Action = func(cc *cli.Context) error {
				st.cmd = commandPath(cc)
				if cc.NArg() > 0 {
					return usagef("unknown command %q%s", cc.Args().First(), suggest(cc.Args().First(), cc.Command.VisibleCommands()))
				}
				return usagef("%s needs a command: %s", cc.Command.Name, strings.Join(commandNames(cc.Command.VisibleCommands()), ", "))
			}
		}
		finishCommands(c.Subcommands, st)
	}
}

// commandPath is "reprove verify" or "reprove key generate".
func commandPath(cc *cli.Context) string {
	var names []string
	for _, x := range cc.Lineage() {
		if x.Command != nil && x.Command.Name != "" && x.Command.Name != cc.App.Name {
			names = append(names, x.Command.Name)
		}
	}
	path := []string{"reprove"}
	for i := len(names) - 1; i >= 0; i-- {
		path = append(path, names[i])
	}
	return strings.Join(path, " ")
}

func commandNames(cmds []*cli.Command) []string {
	var names []string
	for _, c := range cmds {
		names = append(names, c.Name)
	}
	return names
}

// takeRequired turns off urfave/cli's own check of required flags (it
// prints the whole help) and returns their names for finishCommands to
// check; the help says "(required)".
func takeRequired(flags []cli.Flag) []string {
	var names []string
	for _, f := range flags {
		rf, ok := f.(cli.RequiredFlag)
		if !ok || !rf.IsRequired() {
			continue
		}
		v := reflect.ValueOf(f).Elem()
		v.FieldByName("Required").SetBool(false)
		if u := v.FieldByName("Usage"); u.IsValid() && !strings.HasSuffix(u.String(), "(required)") {
			u.SetString(u.String() + " (required)")
		}
		names = append(names, f.Names()[0])
	}
	return names
}

var (
	undefinedFlag = regexp.MustCompile(`^flag provided but not defined: -+(.*)$`)
	flagNeedsArg  = regexp.MustCompile(`^flag needs an argument: -+(.*)$`)
	badFlagValue  = regexp.MustCompile(`^invalid value "(.*)" for flag -+([^:]*): (.*)$`)
)

// flagMessage rewords the flag package's errors in reprove's terms.
func flagMessage(err error) string {
	msg := err.Error()
	if m := undefinedFlag.FindStringSubmatch(msg); m != nil {
		return "unknown flag " + dashes(m[1])
	}
	if m := flagNeedsArg.FindStringSubmatch(msg); m != nil {
		return "flag " + dashes(m[1]) + " needs a value"
	}
	if m := badFlagValue.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("%s %q: %s", dashes(m[2]), m[1], m[3])
	}
	return msg
}

func dashes(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// suggest is `; did you mean "verify"?` for a mistyped command name.
func suggest(name string, cmds []*cli.Command) string {
	type cand struct {
		name string
		d    int
	}
	var cs []cand
	for _, c := range cmds {
		for _, n := range c.Names() {
			if d := editDistance(name, n); d <= 2 || strings.HasPrefix(n, name) {
				cs = append(cs, cand{n, d})
			}
		}
	}
	if len(cs) == 0 {
		return "; the commands are " + strings.Join(commandNames(cmds), ", ")
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].d < cs[j].d })
	return fmt.Sprintf("; did you mean %q?", cs[0].name)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
