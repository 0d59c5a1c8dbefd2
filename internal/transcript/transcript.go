// Package transcript renders session events for people (swaks' markers,
// colour by reply class) and for machines (JSON). Everything a server sent
// is escaped before it is written: control characters and escape sequences
// never reach a terminal.
package transcript

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/smtpx/smtpx/internal/replycode"
	"github.com/smtpx/smtpx/internal/session"
	"github.com/smtpx/smtpx/internal/term"
)

// Markers, as swaks users read them.
const (
	MarkInfo     = "=== "
	MarkFailure  = "*** "
	MarkSent     = " -> "
	MarkSentTLS  = " ~> "
	MarkRecv     = "<-  "
	MarkRecvTLS  = "<~  "
	MarkFail     = "<** "
	MarkFailTLS  = "<~* "
	Redacted     = "********"
	maxShownLine = 1024
)

// Options control the human renderer.
type Options struct {
	Color    bool
	ShowAuth bool // show AUTH payloads instead of ********
	// TimeLapse ends the last line of each reply with how long the reply
	// took (Event.Wait), as swaks' --show-time-lapse does.
	TimeLapse bool
}

// Human writes events as a transcript, one line per event.
type Human struct {
	W    io.Writer
	Opts Options
	// P is the palette (term.Palette, the one every renderer uses).
	P *term.Palette
}

// NewHuman returns a renderer writing to w.
func NewHuman(w io.Writer, o Options) *Human {
	return &Human{W: w, Opts: o, P: term.NewPalette(o.Color)}
}

// Event renders one event. The last line of a failing reply is followed
// by a one-line explanation from the reply-code tables.
func (h *Human) Event(e session.Event) {
	fmt.Fprintln(h.W, h.Line(e))
	if e.Dir == session.Received && e.Last && e.Code >= 400 {
		rest := ""
		if len(e.Line) > 4 {
			rest = e.Line[4:]
		}
		enh, text, _ := session.SplitEnhanced(rest)
		if hint := replycode.Hint(e.Code, enh, text); hint != "" {
			fmt.Fprintln(h.W, h.P.Faint.Sprint(MarkInfo+Escape(hint)))
		}
	}
}

// Line returns the rendered line for e, without a line end.
func (h *Human) Line(e session.Event) string {
	switch e.Dir {
	case session.Info:
		return h.P.Faint.Sprint(MarkInfo + Escape(e.Line))
	case session.Failure:
		return h.P.Fail.Sprint(MarkFailure + Escape(e.Line))
	case session.Sent:
		m := MarkSent
		if e.TLS {
			m = MarkSentTLS
		}
		return m + Escape(Redact(e, h.Opts.ShowAuth))
	}
	m := MarkRecv
	if e.TLS {
		m = MarkRecvTLS
	}
	if e.Code == 0 || e.Code >= 400 {
		m = MarkFail
		if e.TLS {
			m = MarkFailTLS
		}
	}
	line := h.P.Class(e.Code).Sprint(m + Escape(e.Line))
	if h.Opts.TimeLapse && e.Last && e.Wait > 0 {
		line += h.P.Faint.Sprint("  [" + session.FormatDuration(e.Wait) + "]")
	}
	return line
}

// Infof writes an info line.
func (h *Human) Infof(format string, a ...any) {
	fmt.Fprintln(h.W, h.P.Faint.Sprint(MarkInfo+Escape(fmt.Sprintf(format, a...))))
}

// Redact returns the line to show for e: secret payloads become ********,
// keeping the "AUTH MECH" prefix of an initial response.
func Redact(e session.Event, show bool) string {
	if !e.Secret || show {
		return e.Line
	}
	f := strings.Fields(e.Line)
	if len(f) >= 2 && strings.EqualFold(f[0], "AUTH") {
		return f[0] + " " + f[1] + " " + Redacted
	}
	return Redacted
}

// Escape makes untrusted text safe for a terminal: printable UTF-8 passes,
// control characters become \r, \n, \t or \xNN, invalid UTF-8 bytes become
// \xNN, characters that are invisible or reorder text (C1 controls, line
// separators and every format character, Unicode Cf: bidi controls,
// zero-width characters, the BOM, tag characters) become \uXXXX or
// \UXXXXXXXX, and overly long text is cut. It is the one escaper for
// everything shown to people.
func Escape(s string) string { return escape(s, false) }

// EscapeMessage escapes an error message the way Escape does, except that
// a backslash stays as it is: messages quote what the user typed with Go's
// %q, whose backslash escapes must be shown once, not doubled.
func EscapeMessage(s string) string { return escape(s, true) }

func escape(s string, keepBackslash bool) string {
	if len(s) <= maxShownLine && !needsEscape(s) {
		return s
	}
	var b strings.Builder
	b.Grow(min(len(s), maxShownLine) + 16)
	cut := false
	for i := 0; i < len(s); {
		if b.Len() >= maxShownLine {
			cut = true
			break
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			writeHex(&b, `\x`, uint32(s[i]), 2)
		case r == '\\' && keepBackslash:
			b.WriteByte('\\')
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\n':
			b.WriteString(`\n`)
		case r < 0x20 || r == 0x7f:
			writeHex(&b, `\x`, uint32(r), 2)
		case r > 0xffff && hidden(r):
			writeHex(&b, `\U`, uint32(r), 8)
		case hidden(r):
			writeHex(&b, `\u`, uint32(r), 4)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	if cut {
		fmt.Fprintf(&b, "... (%d bytes)", len(s))
	}
	return b.String()
}

// needsEscape reports whether Escape would change s, without allocating:
// most lines are plain ASCII and go out as they are after one table
// look-up per byte.
func needsEscape(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if plainASCII[c] {
			continue
		}
		if c < utf8.RuneSelf {
			return true
		}
		for i < len(s) {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 || r < utf8.RuneSelf && !plainASCII[r] || hidden(r) {
				return true
			}
			i += size
		}
		return false
	}
	return false
}

// plainASCII marks the bytes Escape passes as they are: printable ASCII
// but the backslash.
var plainASCII = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = c != '\\'
	}
	return t
}()

// hidden reports a non-C0 rune that must not reach a reader as it is: DEL
// and the C1 controls (U+0080-U+009F, which some terminals obey like
// ESC sequences), the line and paragraph separators, and the format
// characters (Unicode Cf), which are invisible or reorder the text around
// them (U+202E, U+2066-U+2069, U+061C, U+200B-U+200F, U+FEFF, U+00AD, the
// tag characters U+E0000-U+E007F) and so can make text read as something
// it is not.
func hidden(r rune) bool {
	switch {
	case r < 0x7f:
		return false
	case r <= 0x9f:
		return true
	case r == 0x2028 || r == 0x2029:
		return true
	}
	return unicode.Is(unicode.Cf, r)
}

const hexDigits = "0123456789abcdef"

// writeHex writes prefix and v as n lower-case hex digits.
func writeHex(b *strings.Builder, prefix string, v uint32, n int) {
	b.WriteString(prefix)
	for shift := 4 * (n - 1); shift >= 0; shift -= 4 {
		b.WriteByte(hexDigits[v>>uint(shift)&0xf])
	}
}

// JSONEvent is the machine form of an event.
type JSONEvent struct {
	Dir    string  `json:"dir"` // sent, received, info, error
	TLS    bool    `json:"tls"`
	TimeMS float64 `json:"t_ms"`
	Line   string  `json:"line"`
	Secret bool    `json:"secret,omitempty"`
	Code   int     `json:"code,omitempty"`
	// WaitMS, on the last line of a reply, is how long the reply took
	// (session.Event.Wait).
	WaitMS float64 `json:"wait_ms,omitempty"`
}

// ToJSON converts events, redacting secrets unless show is set.
func ToJSON(evs []session.Event, show bool) []JSONEvent {
	out := make([]JSONEvent, 0, len(evs))
	for _, e := range evs {
		je := JSONEvent{TLS: e.TLS, TimeMS: MS(e.At), Line: e.Line, Secret: e.Secret}
		switch e.Dir {
		case session.Sent:
			je.Dir = "sent"
			je.Line = Redact(e, show)
		case session.Received:
			je.Dir = "received"
			je.Code = e.Code
			je.WaitMS = MS(e.Wait)
		case session.Info:
			je.Dir = "info"
		default:
			je.Dir = "error"
		}
		out = append(out, je)
	}
	return out
}

// MS converts a duration to milliseconds with microsecond precision.
func MS(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}

// Recorder keeps every event, for JSON output.
type Recorder struct{ Events []session.Event }

// Observe appends e.
func (r *Recorder) Observe(e session.Event) { r.Events = append(r.Events, e) }

// Tee returns an observer that calls each non-nil observer in turn.
func Tee(obs ...session.Observer) session.Observer {
	var list []session.Observer
	for _, o := range obs {
		if o != nil {
			list = append(list, o)
		}
	}
	return func(e session.Event) {
		for _, o := range list {
			o(e)
		}
	}
}
