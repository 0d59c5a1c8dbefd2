package cmd

import (
	"bytes"
	"encoding/csv"
	"strings"

	"github.com/spf13/pflag"
)

// stringList is a repeatable string flag with the semantics of pflag's
// StringArray: each use appends its value as given (no comma splitting),
// and the first use replaces the default. pflag renders every array flag's
// default through a CSV writer when the flag is registered, a 4 KiB buffer
// per flag on every run; send alone has a dozen such flags, so this type
// renders the common empty default without one.
type stringList struct {
	p       *[]string
	changed bool
}

// stringListVar defines a repeatable string flag on fs.
func stringListVar(fs *pflag.FlagSet, p *[]string, name, short string, value []string, usage string) {
	*p = value
	fs.VarP(&stringList{p: p}, name, short, usage)
}

func (l *stringList) Set(v string) error {
	if !l.changed {
		*l.p = nil
		l.changed = true
	}
	*l.p = append(*l.p, v)
	return nil
}

// Append, Replace and GetSlice make it a pflag.SliceValue, as StringArray is.
func (l *stringList) Append(v string) error { *l.p = append(*l.p, v); return nil }

func (l *stringList) Replace(v []string) error { *l.p = append([]string(nil), v...); return nil }

func (l *stringList) GetSlice() []string { return *l.p }

// Type is pflag's name for the same kind of flag, so help, completion and
// the generated docs read the same.
func (l *stringList) Type() string { return "stringArray" }

// String renders the values as pflag does, "[a,b]" CSV-quoted, except
// that no values render as "": pflag recognises "[]" as an empty default
// only for its own types, and help would print "(default [])".
func (l *stringList) String() string {
	if len(*l.p) == 0 {
		return ""
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write(*l.p)
	w.Flush()
	return "[" + strings.TrimSuffix(b.String(), "\n") + "]"
}
