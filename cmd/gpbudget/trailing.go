package main

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// filesAndFlags returns the files given to list (a StringSliceFlag) and
// after it. The shell expands --payments DIR/payments_*.csv into one flag
// value and positional arguments, after which the flag parser stops:
// positional arguments are files, and flags among them are set here by
// the command's own definitions (so their types and ranges are checked
// as usual).
func filesAndFlags(c *cli.Context, list string) ([]string, error) {
	files := append([]string(nil), c.StringSlice(list)...)
	args := c.Args().Slice()
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") || a == "-" {
			files = append(files, a)
			continue
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		f := lookupFlag(c.Command, name)
		if f == nil {
			return nil, badInput("%s: unknown flag", a)
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
		if f.Names()[0] == list {
			files = append(files, val)
			continue
		}
		if err := c.Set(f.Names()[0], val); err != nil {
			return nil, badInput("%s %s: %v", a, val, err)
		}
	}
	return files, nil
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
