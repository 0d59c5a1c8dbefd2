package transcript

import "strings"

// Plural picks the word for n things: one for 1, many otherwise.
func Plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// OneLine folds text onto one line: line breaks and runs of blanks become
// one space.
func OneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
