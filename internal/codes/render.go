package codes

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/smtpx/smtpx/internal/replycode"
	"github.com/smtpx/smtpx/internal/term"
	"github.com/smtpx/smtpx/internal/transcript"
)

// View says how to lay out explanations for a person.
type View struct {
	Palette *term.Palette
	Width   int  // the terminal width (80 when not a terminal)
	Verbose bool // reply texts in full, 2xx and 3xx in full
}

// WriteJSON writes one JSON object per explanation or entry (JSON Lines).
func (r *Result) WriteJSON(w io.Writer) error {
	for _, e := range r.Explanations {
		if err := transcript.WriteJSON(w, e); err != nil {
			return err
		}
	}
	for _, e := range r.Entries {
		if err := transcript.WriteJSON(w, e); err != nil {
			return err
		}
	}
	return nil
}

// WriteHuman writes the explanations, or the list of codes, for a person.
func (r *Result) WriteHuman(w io.Writer, v View) error {
	if v.Palette == nil {
		v.Palette = term.NewPalette(false)
	}
	rr := &renderer{w: w, v: v, p: v.Palette, brief: r.Brief && !v.Verbose}
	if r.Entries != nil {
		return rr.list(r.Entries)
	}
	for i, e := range r.Explanations {
		if err := rr.explanation(e, i > 0); err != nil {
			return err
		}
	}
	return nil
}

// renderer writes explanations for people.
type renderer struct {
	w     io.Writer
	v     View
	p     *term.Palette
	brief bool
}

func (r *renderer) list(entries []replycode.Entry) error {
	var b strings.Builder
	group := ""
	for _, e := range entries {
		if e.Group != group {
			if group != "" {
				b.WriteByte('\n')
			}
			group = e.Group
			b.WriteString(r.p.Bold.Sprint(group) + "\n")
		}
		name := e.Name
		if e.Extension != "" {
			name += " (" + e.Extension + ")"
		}
		switch e.Kind {
		case "basic":
			b.WriteString("  " + r.p.Heading(e.Class).Sprint(padRight(e.Code, labelWidth)) + name + "\n")
		case "enhanced":
			b.WriteString("  " + padRight(e.Code, labelWidth) + name + "\n")
		default:
			b.WriteString("  " + padRight(e.Provider, 14) + padRight(e.Code, 17) + name + "\n")
		}
	}
	_, err := io.WriteString(r.w, b.String())
	return err
}

// retryWords says in the header line what the reply class means for the
// sender.
func retryWords(retry string) string {
	switch retry {
	case "none":
		return "success"
	case "continue":
		return "intermediate: send what the server is waiting for"
	case "later":
		return "transient: retry later"
	case "after_fix":
		return "permanent: don't retry unchanged"
	}
	return ""
}

const labelWidth = 8

func (r *renderer) explanation(e *replycode.Explanation, sep bool) error {
	var b strings.Builder
	// One buffer for the whole explanation: grown by doubling, it would
	// take a span of each size class on the way, fresh pages for a
	// process that has just started.
	b.Grow(4 << 10)
	if sep {
		b.WriteByte('\n')
	}
	if e.Pattern != nil {
		r.pattern(&b, e)
		_, err := io.WriteString(r.w, b.String())
		return err
	}
	head := strings.TrimSpace(fmt.Sprintf("%s %s", codeStr(e.Code), e.Enhanced))
	summary := retryWords(e.Retry)
	if e.Retry == "after_fix" && e.Class == 4 {
		summary = "transient code, but don't retry unchanged"
	}
	if summary == "" {
		summary = "any class"
	}
	b.WriteString(r.p.Heading(e.Class).Sprint(head) + "  " + summary + "\n")
	if e.Text != "" {
		lines := strings.Split(e.Text, "\n")
		if !r.v.Verbose && len(lines) > 1 {
			lines = []string{strings.Join(lines, " ")}
		}
		for _, l := range lines {
			l = transcript.Escape(l)
			if !r.v.Verbose {
				l = clipRunes(l, r.v.Width-4)
			}
			b.WriteString("  | " + l + "\n")
		}
	}
	if e.Recipient != "" {
		r.field(&b, "rcpt", transcript.Escape(e.Recipient))
	}
	if d := e.Diagnosis; d != nil && !(r.brief && e.Class <= 3) {
		r.diagnosis(&b, d)
	}
	if bi := e.Basic; bi != nil {
		name := bi.Name
		if bi.Extension != "" {
			name += " (" + bi.Extension + ")"
		}
		r.field(&b, fmt.Sprint(bi.Code), fmt.Sprintf("%s [%s, %s]", name, e.ClassName, bi.CategoryName))
		if r.brief && e.Class <= 3 && e.Mismatch == "" && e.Provider == nil && len(e.Notes) == 0 {
			_, err := io.WriteString(r.w, b.String())
			return err
		}
		switch bi.Fallback {
		case "class":
			r.field(&b, "", "fallback: no registered meaning and no defined category; read by class (RFC 5321 §4.2)")
		case "class_and_category":
			r.field(&b, "", "fallback: no registered meaning; read by class and category (RFC 5321 §4.2.1)")
		}
		r.field(&b, "", bi.Meaning)
		r.field(&b, "", "returned by: "+bi.Commands+" · "+bi.Reference)
		for _, u := range bi.OtherUses {
			ext := u.Extension
			if ext == "" {
				ext = "core SMTP"
			}
			r.field(&b, "", fmt.Sprintf("also, under %s: %s (%s)", ext, u.Name, u.Reference))
		}
	}
	if s := e.Status; s != nil {
		cls := fmt.Sprintf("class %d %s", s.Class, s.ClassName)
		if s.Class == 0 {
			cls = "any class"
		}
		r.field(&b, s.Code, fmt.Sprintf("%s [%s, subject %d %s, detail %d]", s.Name, cls, s.Subject, s.SubjectName, s.Detail))
		switch s.Fallback {
		case "subject":
			r.field(&b, "", "fallback: detail not registered; read by subject (RFC 3463 §2)")
		case "class":
			r.field(&b, "", "fallback: subject not registered; read by class (RFC 3463 §2)")
		}
		if s.Meaning != "" {
			r.field(&b, "", s.Meaning)
		}
		var ref []string
		if s.RegistryName != "" {
			ref = append(ref, "registry: "+s.RegistryName)
		}
		if s.Reference != "" {
			ref = append(ref, s.Reference)
		}
		if s.AssociatedCodes != "" && s.AssociatedCodes != "Not given" {
			ref = append(ref, "usual reply codes: "+s.AssociatedCodes)
		}
		if len(ref) > 0 {
			r.field(&b, "", strings.Join(ref, " · "))
		}
	}
	if p := e.Provider; p != nil {
		r.field(&b, p.Provider, "provider-specific: "+p.Name)
		r.field(&b, "", p.Meaning)
		r.field(&b, "", "source: "+p.Source)
	}
	for _, u := range e.ProviderUses {
		r.field(&b, u.Provider, "provider-specific use: "+u.Name+" (give the reply text to tell)")
	}
	if e.Mismatch != "" {
		r.field(&b, "mismatch", e.Mismatch)
	}
	for _, n := range e.Notes {
		r.field(&b, "note", n)
	}
	if e.Action != "" {
		r.field(&b, "do", e.Action)
	}
	_, err := io.WriteString(r.w, b.String())
	return err
}

// diagnosis writes what the text shows happened, before the registry's
// reading of the codes: it is the most specific part.
func (r *renderer) diagnosis(b *strings.Builder, d *replycode.Diagnosis) {
	r.field(b, "what", d.Category+": "+d.Summary())
	r.field(b, "", d.Meaning)
	if bl := d.Blocklist; bl != nil && bl.Note != "" {
		r.field(b, "", bl.Note)
	}
	r.field(b, "why", d.Cause)
	r.field(b, "check", transcript.Escape(d.Check))
	if d.Source != "" {
		r.field(b, "", "pattern "+d.Rule+" · source: "+d.Source)
	}
}

func (r *renderer) pattern(b *strings.Builder, e *replycode.Explanation) {
	p := e.Pattern
	b.WriteString(r.p.Heading(e.Class).Sprint(p.Code) + "  " + strings.ReplaceAll(p.Kind, "_", " ") + ": " + p.Name + "\n")
	r.field(b, "", p.Meaning)
	if p.Commands != "" {
		r.field(b, "", "codes/commands: "+p.Commands+" · "+p.Reference)
	} else {
		r.field(b, "", p.Reference)
	}
	r.field(b, "do", p.Action)
}

// field writes a label column and wrapped text, the way the explanation is
// laid out: "  550     text..." with continuation lines under the text.
func (r *renderer) field(b *strings.Builder, label, text string) {
	if text == "" {
		return
	}
	indent := strings.Repeat(" ", 2+labelWidth)
	first := "  " + padRight(label, labelWidth)
	if utf8.RuneCountInString(label) >= labelWidth {
		first = "  " + label + " "
	}
	for i, l := range wrap(text, r.v.Width-utf8.RuneCountInString(first)) {
		if i == 0 {
			b.WriteString(first)
		} else {
			b.WriteString(indent)
		}
		b.WriteString(l)
		b.WriteByte('\n')
	}
}

func codeStr(c int) string {
	if c == 0 {
		return ""
	}
	return fmt.Sprint(c)
}

func padRight(s string, n int) string {
	if k := utf8.RuneCountInString(s); k < n {
		return s + strings.Repeat(" ", n-k)
	}
	return s + " "
}

func clipRunes(s string, n int) string {
	if n < 10 {
		n = 10
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	rs := []rune(s)
	return string(rs[:n-3]) + "..."
}

// wrap breaks text into lines of at most width runes at spaces; a word
// longer than width gets a line of its own.
func wrap(text string, width int) []string {
	if width < 20 {
		width = 20
	}
	lines := make([]string, 0, 8)
	var cur strings.Builder
	cur.Grow(width + 8)
	n := 0
	for w := range strings.FieldsSeq(text) {
		wl := utf8.RuneCountInString(w)
		if n > 0 && n+1+wl > width {
			lines = append(lines, cur.String())
			cur.Reset()
			n = 0
		}
		if n > 0 {
			cur.WriteByte(' ')
			n++
		}
		cur.WriteString(w)
		n += wl
	}
	if n > 0 {
		lines = append(lines, cur.String())
	}
	return lines
}
