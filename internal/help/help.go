// Package help holds each verb's reference text: the body of its --help
// (and so of its man page) and its examples, one file per verb, kept as
// text so that they read and diff as the prose they are. cmd adds the
// flags and the EXIT STATUS section, which come from the code.
package help

import (
	"embed"
	"strings"
)

//go:embed *.txt
var files embed.FS

// sep divides a file's body from its examples.
const sep = "\n%% EXAMPLES\n"

func read(verb string) (body, examples string) {
	b, err := files.ReadFile(verb + ".txt")
	if err != nil {
		panic("help: no text for " + verb) // a build without its own files
	}
	body, examples, _ = strings.Cut(string(b), sep)
	return strings.TrimRight(body, "\n"), examples
}

// Body is the verb's help text before EXIT STATUS.
func Body(verb string) string { b, _ := read(verb); return b }

// Examples is the verb's EXAMPLES section, one command (or comment) a line.
func Examples(verb string) string { _, e := read(verb); return e }
