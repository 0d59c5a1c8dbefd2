package ehlo

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/smtpx/smtpx/internal/session"
	"github.com/smtpx/smtpx/internal/transcript"
)

// WriteHuman writes the summary a person reads after the transcript: the
// extensions with what each means, and with STARTTLS the list after TLS
// and what changed.
func (r *Result) WriteHuman(w io.Writer) {
	if r.Banner == nil || (r.Ext == nil && r.ExtTLS == nil) {
		return
	}
	list := func(title string, lines []string) {
		fmt.Fprintf(w, "\n%s\n", title)
		if len(lines) == 0 {
			fmt.Fprintln(w, "  (none)")
		}
		for _, l := range lines {
			fmt.Fprintf(w, "  %s\n", l)
		}
	}
	if r.UsedHELO {
		fmt.Fprintln(w, "\nThe server refused EHLO; HELO was used, so no extensions are known.")
		return
	}
	title := "Extensions"
	if r.ExtTLS != nil {
		title = "Extensions before TLS"
	}
	list(title, describeAll(r.Ext))
	if r.ExtTLS == nil {
		return
	}
	list("Extensions after TLS", describeAll(r.ExtTLS))
	added, removed := Diff(r.Ext, r.ExtTLS)
	var changes []string
	for _, a := range added {
		changes = append(changes, "+ "+transcript.Escape(a))
	}
	for _, x := range removed {
		changes = append(changes, "- "+transcript.Escape(x))
	}
	if len(changes) == 0 {
		changes = []string{"(no change)"}
	}
	list("Changed by TLS", changes)
}

// describeAll renders each extension with its meaning, escaped for a
// terminal, the meanings in a column.
func describeAll(ext session.Extensions) []string {
	out := make([]string, len(ext))
	for i, x := range ext {
		text := transcript.Escape(Describe(x))
		if m := Meaning(x.Keyword); m != "" {
			// A keyword longer than the column still gets a two-space gap,
			// so its meaning never reads as one of its parameters.
			gap := "  "
			if n := utf8.RuneCountInString(text); n < 28 {
				gap = strings.Repeat(" ", 29-n)
			}
			text += gap + m
		}
		out[i] = text
	}
	return out
}
