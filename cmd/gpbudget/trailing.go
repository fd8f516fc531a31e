package main

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// flagsAnywhere returns the command's arguments that are not flags, setting
// the flags among them by the command's own definitions (so their types,
// destinations and ranges are as if the CLI library had parsed them). The
// library's parser stops at the first argument that is not a flag, but
// 'gpbudget compare A B --reps 10' puts flags after the scenarios, and the
// shell expands '--payments DIR/payments_*.csv' into one flag value and
// arguments. Values of the flag named list (a StringSliceFlag) are returned
// with the arguments, in order. After "--" every argument is an argument.
func flagsAnywhere(c *cli.Context, list string) ([]string, error) {
	var out []string
	args := c.Args().Slice()
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(out, args[i+1:]...), nil
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			out = append(out, a)
			continue
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		f := lookupFlag(c.Command, name)
		if f == nil {
			return nil, badInput("%s: unknown flag %s: accepted %s", c.Command.Name, a, flagNames(c.Command))
		}
		if _, isBool := f.(*cli.BoolFlag); isBool && !hasVal {
			val, hasVal = "true", true
		}
		if !hasVal {
			if i+1 >= len(args) {
				return nil, badInput("%s needs a value", a)
			}
			i++
			val = args[i]
		}
		if list != "" && f.Names()[0] == list {
			out = append(out, val)
			continue
		}
		if err := c.Set(f.Names()[0], val); err != nil {
			return nil, badInput("%s: invalid value %q for flag --%s: %v", c.Command.Name, val, name, err)
		}
	}
	return out, nil
}

// argsThenFlags is the action of a command whose flags may follow its
// arguments (SkipFlagParsing; compare, sensitivity): it sets the flags
// (flagsAnywhere), shows help for --help, and runs the command on the
// arguments.
func argsThenFlags(run func(c *cli.Context, args []string) error) cli.ActionFunc {
	return func(c *cli.Context) error {
		args, err := flagsAnywhere(c, "")
		if err != nil {
			return err
		}
		if c.Bool("help") {
			return cli.ShowSubcommandHelp(c)
		}
		return run(c, args)
	}
}

// filesAndFlags returns the files given to list (a StringSliceFlag), as
// flag values or as the arguments after it (flagsAnywhere).
func filesAndFlags(c *cli.Context, list string) ([]string, error) {
	rest, err := flagsAnywhere(c, list)
	if err != nil {
		return nil, err
	}
	return append(append([]string(nil), c.StringSlice(list)...), rest...), nil
}

// lookupFlag is the command's flag called name (or an alias), or nil.
func lookupFlag(cmd *cli.Command, name string) cli.Flag {
	for _, f := range cmd.Flags {
		for _, n := range f.Names() {
			if n == name {
				return f
			}
		}
	}
	return nil
}

// flagNames lists the command's visible flags, for an error message.
func flagNames(cmd *cli.Command) string {
	var out []string
	for _, f := range cmd.Flags {
		if v, ok := f.(cli.VisibleFlag); ok && !v.IsVisible() {
			continue
		}
		out = append(out, "--"+f.Names()[0])
	}
	return strings.Join(out, ", ")
}
