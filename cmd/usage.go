package cmd

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/transcript"
)

// flagError puts pflag's errors in the project's voice, with a hint chosen
// from the error's type: a duration without a unit, a flag that does not
// exist (and the nearest that does), a flag that needs a value.
func flagError(c *cobra.Command, err error) error {
	help := fmt.Sprintf("'%s --help' lists the flags", c.CommandPath())
	var iv *pflag.InvalidValueError
	var ne *pflag.NotExistError
	var vr *pflag.ValueRequiredError
	switch {
	case errors.As(err, &iv):
		fl := iv.GetFlag()
		if fl.Value.Type() == "duration" {
			if _, nerr := strconv.ParseFloat(iv.GetValue(), 64); nerr == nil {
				return exitcode.Usagef("durations need a unit: "+iv.GetValue()+"s, 500ms, 2m", "--%s %s: no unit", fl.Name, iv.GetValue())
			}
			return exitcode.Usagef("give a duration such as 30s, 500ms or 2m", "--%s %q is not a duration", fl.Name, iv.GetValue())
		}
		switch t := fl.Value.Type(); {
		case strings.HasPrefix(t, "int") || strings.HasPrefix(t, "uint"):
			return exitcode.Usagef(help, "--%s %q is not a whole number", fl.Name, iv.GetValue())
		case t == "float64" || t == "float32":
			return exitcode.Usagef(help, "--%s %q is not a number", fl.Name, iv.GetValue())
		case t == "bool":
			return exitcode.Usagef("write --"+fl.Name+" alone, or --"+fl.Name+"=false", "--%s=%s is not true or false", fl.Name, iv.GetValue())
		}
		return exitcode.Usagef(help, "--%s %q is not valid", fl.Name, iv.GetValue())
	case errors.As(err, &ne):
		name := ne.GetSpecifiedName()
		if name == "" {
			return exitcode.Usagef(help, "unknown shorthand flag -%s", ne.GetSpecifiedShortnames())
		}
		if near := nearestFlag(c, name); near != "" {
			return exitcode.Usagef("did you mean --"+near+"? ("+help+")", "unknown flag --%s", name)
		}
		return exitcode.Usagef(help, "unknown flag --%s", name)
	case errors.As(err, &vr):
		return exitcode.Usagef(help, "--%s needs a value", vr.GetFlag().Name)
	}
	return exitcode.Usagef(help, "%v", err)
}

// nearestFlag is the command's flag closest to name, when it is close
// enough to be a typo (at most two edits, and fewer than half the name).
func nearestFlag(c *cobra.Command, name string) string {
	best, bestD := "", 3
	c.Flags().VisitAll(func(f *pflag.Flag) {
		if d := distance(name, f.Name); d < bestD {
			best, bestD = f.Name, d
		}
	})
	if best == "" || bestD*2 >= len(name) {
		return ""
	}
	return best
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// atMostArgs accepts up to n arguments, naming the verb's usage otherwise.
func atMostArgs(n int, usage string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) > n {
			return exitcode.Usagef("usage: "+usage, "%s takes at most %d %s, got %d: %s", c.Name(), n, transcript.Plural(n, "argument", "arguments"), len(args), strings.Join(args, " "))
		}
		return nil
	}
}

// noArgs accepts none.
func noArgs(c *cobra.Command, args []string) error {
	if len(args) > 0 {
		return exitcode.Usagef("see '"+c.CommandPath()+" --help'", "%s takes no arguments, got %q", c.CommandPath(), args[0])
	}
	return nil
}

// unknownVerb is the error for a first argument that names no command,
// with the nearest commands as the hint.
func unknownVerb(root *cobra.Command, name string) error {
	root.SuggestionsMinimumDistance = 2
	if s := root.SuggestionsFor(name); len(s) > 0 {
		return exitcode.Usagef("did you mean 'smtpx "+s[0]+"'? ('smtpx --help' lists the commands)", "unknown command %q", name)
	}
	return exitcode.Usagef("'smtpx --help' lists the commands", "unknown command %q", name)
}
