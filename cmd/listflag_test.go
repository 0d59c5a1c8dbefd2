package cmd

import (
	"slices"
	"testing"

	"github.com/spf13/pflag"
)

// stringList must behave exactly as pflag's StringArray it replaces.
func TestStringListMatchesStringArray(t *testing.T) {
	for _, tc := range []struct {
		def  []string
		args []string
	}{
		{nil, nil},
		{nil, []string{"--x", "a,b", "--x", " c"}},
		{[]string{"d"}, nil},
		{[]string{"d"}, []string{"--x", "e"}},
		{[]string{"a,b", `q"uote`}, nil},
		{nil, []string{"-x", "one", "--x=two"}},
	} {
		var got, want []string
		ours := pflag.NewFlagSet("ours", pflag.ContinueOnError)
		stringListVar(ours, &got, "x", "x", tc.def, "")
		theirs := pflag.NewFlagSet("theirs", pflag.ContinueOnError)
		theirs.StringArrayVarP(&want, "x", "x", tc.def, "")
		// Help reads the same: the same default shown, or none.
		if a, b := ours.FlagUsages(), theirs.FlagUsages(); a != b {
			t.Errorf("%q: help\n%s\npflag's\n%s", tc.def, a, b)
		}
		if err := ours.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		if err := theirs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%q %q: got %q, pflag %q", tc.def, tc.args, got, want)
		}
		if a, b := ours.Lookup("x").Value.String(), theirs.Lookup("x").Value.String(); a != b && !(a == "" && b == "[]") {
			t.Errorf("%q %q: String %q, pflag %q", tc.def, tc.args, a, b)
		}
		if a, b := ours.Lookup("x").Value.(pflag.SliceValue).GetSlice(), theirs.Lookup("x").Value.(pflag.SliceValue).GetSlice(); !slices.Equal(a, b) {
			t.Errorf("%q %q: GetSlice %q, pflag %q", tc.def, tc.args, a, b)
		}
		if a, b := ours.Lookup("x").Value.Type(), theirs.Lookup("x").Value.Type(); a != b {
			t.Errorf("type %q, pflag %q", a, b)
		}
	}
}
