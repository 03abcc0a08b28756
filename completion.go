package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"
)

// completionCommand prints a shell completion script made from the
// registered commands and their flags, so it knows every command there is.
func completionCommand() *cli.Command {
	return withExamples(&cli.Command{
		Name:      "completion",
		Usage:     "print a shell completion script (bash, zsh or fish)",
		ArgsUsage: "bash | zsh | fish",
		Description: `The script completes commands, subcommands and flags; arguments complete as file names.

Exit codes: 0 printed, 2 usage error.`,
		Action: func(c *cli.Context) error {
			if err := needArgs(c, 1, "one shell: bash, zsh or fish"); err != nil {
				return err
			}
			switch sh := c.Args().First(); sh {
			case "bash":
				return writeBashCompletion(c.App.Writer, c.App, false)
			case "zsh":
				return writeBashCompletion(c.App.Writer, c.App, true)
			case "fish":
				script, err := c.App.ToFishCompletion()
				if err != nil {
					return fmt.Errorf("making the fish completion: %w", err)
				}
				_, err = io.WriteString(c.App.Writer, script)
				return err
			default:
				return usagef("completion for %q: use bash, zsh or fish", sh)
			}
		},
	},
		example{`reprove completion bash > /etc/bash_completion.d/reprove`, "install the bash completion (or: source <(reprove completion bash) in ~/.bashrc)"},
		example{`reprove completion zsh > "${fpath[1]}/_reprove"`, "install the zsh completion"},
		example{`reprove completion fish > ~/.config/fish/completions/reprove.fish`, "install the fish completion"},
	)
}

// completionNode is one command path ("", " key", " key generate") with
// what may follow it.
type completionNode struct {
	path  string
	words []string // subcommands and flags
}

func completionNodes(app *cli.App) []completionNode {
	root := completionNode{words: append(commandNames(app.VisibleCommands()), flagNames(app.VisibleFlags())...)}
	nodes := []completionNode{root}
	var walk func(prefix string, cmds []*cli.Command)
	walk = func(prefix string, cmds []*cli.Command) {
		for _, c := range cmds {
			if c.Hidden {
				continue
			}
			p := prefix + " " + c.Name
			words := append(commandNames(c.VisibleCommands()), flagNames(c.VisibleFlags())...)
			nodes = append(nodes, completionNode{path: p, words: unique(append(words, "--help"))})
			walk(p, c.Subcommands)
		}
	}
	walk("", app.VisibleCommands())
	return nodes
}

func unique(words []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, w := range words {
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

func flagNames(flags []cli.Flag) []string {
	var names []string
	for _, f := range flags {
		for _, n := range f.Names() {
			names = append(names, dashes(n))
		}
	}
	sort.Strings(names)
	return names
}

// writeBashCompletion writes a bash completion function; for zsh it is
// loaded through bashcompinit.
func writeBashCompletion(w io.Writer, app *cli.App, zsh bool) error {
	var b strings.Builder
	if zsh {
		b.WriteString("#compdef reprove\nautoload -U +X bashcompinit && bashcompinit\n")
	}
	b.WriteString(`# reprove shell completion (reprove completion bash|zsh)
_reprove() {
	local cur="${COMP_WORDS[COMP_CWORD]}" path="" next i
	for ((i = 1; i < COMP_CWORD; i++)); do
		next="$path ${COMP_WORDS[i]}"
		case "$next" in
`)
	nodes := completionNodes(app)
	var paths []string
	for _, n := range nodes[1:] {
		paths = append(paths, `"`+n.path+`"`)
	}
	fmt.Fprintf(&b, "\t\t%s) path=$next ;;\n\t\tesac\n\tdone\n\tlocal words=\"\"\n\tcase \"$path\" in\n", strings.Join(paths, "|"))
	for _, n := range nodes {
		fmt.Fprintf(&b, "\t\"%s\") words=%q ;;\n", n.path, strings.Join(n.words, " "))
	}
	b.WriteString(`	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$words" -- "$cur"))
	else
		COMPREPLY=($(compgen -W "$(printf '%s\n' $words | grep -v '^-')" -- "$cur"))
	fi
}
complete -o default -o bashdefault -F _reprove reprove
`)
	_, err := io.WriteString(w, b.String())
	return err
}
