package main

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// reorderArgs lets flags follow a command's arguments, as go, git and
// kubectl allow: `reprove verify m.yaml --json r.json` parses like
// `reprove verify --json r.json m.yaml`. urfave/cli v2 stops reading flags
// at the first argument, so the flags of the command line are moved before
// its arguments. Which flags take a value is read from each command's flag
// definitions (TakesValue), never from a list kept by hand. "--" ends the
// flags: everything after it stays an argument. args[0] is the program.
func reorderArgs(app *cli.App, args []string) []string {
	if len(args) == 0 {
		return args
	}
	out := []string{args[0]}
	rest := args[1:]
	flags, cmds := app.Flags, app.Commands
	for {
		n := leadingFlags(flags, rest)
		out, rest = append(out, rest[:n]...), rest[n:]
		if len(rest) == 0 {
			return out
		}
		c := findCommand(cmds, rest[0])
		if c == nil {
			return append(out, rest...)
		}
		out, rest = append(out, rest[0]), rest[1:]
		if len(c.Subcommands) == 0 {
			return append(out, flagsFirst(c.Flags, rest)...)
		}
		flags, cmds = c.Flags, c.Subcommands
	}
}

// leadingFlags counts the flags (and their values) at the start of args.
func leadingFlags(flags []cli.Flag, args []string) int {
	i := 0
	for i < len(args) && isFlag(args[i]) {
		if takesValue(flags, args[i]) {
			i++
		}
		i++
	}
	return min(i, len(args))
}

// flagsFirst moves the flags among a command's arguments before them. When
// any argument remains, "--" is put between the flags and the arguments, so
// an argument that starts with "-" is never read as a flag.
func flagsFirst(flags []cli.Flag, args []string) []string {
	var fl, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if !isFlag(a) {
			pos = append(pos, a)
			continue
		}
		if a == "--help" || a == "-h" {
			// The command's help, whatever else was given (urfave/cli
			// would read an argument as a help topic).
			return []string{a}
		}
		fl = append(fl, a)
		if takesValue(flags, a) {
			if i+1 == len(args) {
				// No value follows: the parser says so, whatever else
				// was given.
				return fl
			}
			fl = append(fl, args[i+1])
			i++
		}
	}
	if len(pos) == 0 {
		return fl
	}
	return append(append(fl, "--"), pos...)
}

func isFlag(a string) bool { return len(a) > 1 && a[0] == '-' && a != "--" }

// takesValue reports whether the flag a ("--json", "-o") is defined in
// flags as taking a value given as the next argument. "--json=r.json"
// carries its own; unknown flags are left for the parser to refuse.
func takesValue(flags []cli.Flag, a string) bool {
	name := strings.TrimLeft(a, "-")
	if strings.Contains(name, "=") {
		return false
	}
	for _, f := range flags {
		for _, n := range f.Names() {
			if n != name {
				continue
			}
			df, ok := f.(cli.DocGenerationFlag)
			return ok && df.TakesValue()
		}
	}
	return false
}

func findCommand(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		for _, n := range c.Names() {
			if n == name {
				return c
			}
		}
	}
	return nil
}
