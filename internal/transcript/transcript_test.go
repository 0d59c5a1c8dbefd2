package transcript

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/smtpx/smtpx/internal/session"
)

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		"plain text":         "plain text",
		"\x1b[2J clear":      `\x1b[2J clear`,
		"\x1b]0;title\x07":   `\x1b]0;title\x07`,
		"nul\x00 del\x7f":    `nul\x00 del\x7f`,
		"tab\there\r\n":      `tab\there\r\n`,
		"bad \xff utf8":      `bad \xff utf8`,
		"Grüße":              "Grüße",
		"c1 \u009b31m":       `c1 \u009b31m`,
		"bidi \u202eevil":    `bidi \u202eevil`,
		`back\slash`:         `back\\slash`,
		"del \x7f c1 \u0085": `del \x7f c1 \u0085`,
		// Invisible format characters (Unicode Cf) are shown like the bidi
		// overrides, so a reader sees that they are there.
		"zw\u200bsp":                `zw\u200bsp`,
		"rlm\u200f":                 `rlm\u200f`,
		"\ufeffbom":                 `\ufeffbom`,
		"tag\U000e0041":             `tag\U000e0041`,
		"tags \U000e0001\U000e007f": `tags \U000e0001\U000e007f`,
		"alm \u061c":                `alm \u061c`,
		"soft\u00adhyphen":          `soft\u00adhyphen`,
		"lri \u2066x\u2069":         `lri \u2066x\u2069`,
		"wj \u2060 ls \u2028":       `wj \u2060 ls \u2028`,
		"nbsp\u00a0é ü €":           "nbsp\u00a0é ü €",
		"emoji 😀 ok":                "emoji 😀 ok",
		"fffd \ufffd":               "fffd \ufffd",
	} {
		if got := Escape(in); got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
	}
	long := strings.Repeat("x", 5000)
	if got := Escape(long); len(got) > maxShownLine+40 || !strings.HasSuffix(got, "(5000 bytes)") {
		t.Errorf("long line not cut: %d bytes", len(got))
	}
}

func TestHumanMarkers(t *testing.T) {
	var b bytes.Buffer
	h := NewHuman(&b, Options{})
	for _, e := range []session.Event{
		{Dir: session.Info, Line: "Trying 127.0.0.1:25..."},
		{Dir: session.Received, Line: "220 ok", Code: 220, Last: true},
		{Dir: session.Sent, Line: "EHLO x"},
		{Dir: session.Sent, Line: "AUTH PLAIN AHUAcA==", Secret: true, TLS: true},
		{Dir: session.Sent, Line: "cGFzcw==", Secret: true, TLS: true},
		{Dir: session.Received, Line: "235 ok", Code: 235, Last: true, TLS: true},
		{Dir: session.Received, Line: "550 5.1.1 no such user", Code: 550, Last: true},
		{Dir: session.Received, Line: "451 4.3.0 later", Code: 451, Last: true, TLS: true},
		{Dir: session.Received, Line: "099 what", Code: 0},
		{Dir: session.Failure, Line: "handshake failed"},
	} {
		h.Event(e)
	}
	got := b.String()
	for _, want := range []string{
		"=== Trying 127.0.0.1:25...\n",
		"<-  220 ok\n",
		" -> EHLO x\n",
		" ~> AUTH PLAIN ********\n",
		" ~> ********\n",
		"<~  235 ok\n",
		"<** 550 5.1.1 no such user\n=== recipient mailbox does not exist",
		"<~* 451 4.3.0 later\n",
		"<** 099 what\n",
		"*** handshake failed\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in\n%s", want, got)
		}
	}
	if strings.Contains(got, "AHUAcA") || strings.Contains(got, "cGFzcw") || strings.Contains(got, "\x1b") {
		t.Errorf("secret or colour leaked:\n%s", got)
	}
	b.Reset()
	NewHuman(&b, Options{Color: true, ShowAuth: true}).Event(session.Event{Dir: session.Sent, Line: "AUTH PLAIN AHUAcA==", Secret: true})
	if !strings.Contains(b.String(), "AHUAcA==") {
		t.Errorf("--show-auth: %q", b.String())
	}
	b.Reset()
	NewHuman(&b, Options{Color: true}).Event(session.Event{Dir: session.Received, Line: "250 ok", Code: 250, Last: true})
	if !strings.Contains(b.String(), "\x1b[32m") {
		t.Errorf("2xx not green: %q", b.String())
	}
}

func TestJSONRedactsAndEscapes(t *testing.T) {
	evs := []session.Event{
		{Dir: session.Sent, Line: "AUTH PLAIN AHUAcA==", Secret: true},
		{Dir: session.Received, Line: "220 \x1b[2J", Code: 220},
	}
	out, _ := json.Marshal(ToJSON(evs, false))
	s := string(out)
	if strings.Contains(s, "AHUAcA") || strings.Contains(s, "\x1b") || !strings.Contains(s, `\u001b[2J`) {
		t.Errorf("%s", s)
	}
}

// Whatever a server sends, the escaped form is valid UTF-8 with no control,
// DEL, C1 or format character left, and plain text is kept as it is.
func FuzzEscape(f *testing.F) {
	for _, s := range []string{"", "plain", "\x1b[2J", "\u202e\u200b\ufeff\u00ad", "\U000e0041", "\xff\xfe", "Grüße 😀", `a\b`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Escape(s)
		if !utf8.ValidString(got) {
			t.Fatalf("Escape(%q) = %q: invalid UTF-8", s, got)
		}
		for _, r := range got {
			if r < 0x20 || hidden(r) {
				t.Fatalf("Escape(%q) = %q: raw %U", s, got, r)
			}
		}
		if len(s) <= maxShownLine && !needsEscape(s) && got != s {
			t.Fatalf("Escape(%q) = %q: plain text changed", s, got)
		}
		if len(s) <= maxShownLine && needsEscape(s) == (got == s) {
			t.Fatalf("Escape(%q) = %q, needsEscape %v", s, got, needsEscape(s))
		}
	})
}

// An error message quotes user input with %q; shown, it is escaped once:
// the quoting's backslashes stay single, raw controls are still escaped.
func TestEscapeMessage(t *testing.T) {
	for in, want := range map[string]string{
		`invalid address "a\"b@x": bad`: `invalid address "a\"b@x": bad`,
		"reply \x1b[2J from server":     `reply \x1b[2J from server`,
		"bidi \u202e here":              `bidi \u202e here`,
	} {
		if got := EscapeMessage(in); got != want {
			t.Errorf("EscapeMessage(%q) = %q, want %q", in, got, want)
		}
	}
	if got := Escape(`a\b`); got != `a\\b` {
		t.Errorf("Escape keeps doubling backslashes in transcripts: %q", got)
	}
}

// --show-time-lapse ends the last line of each reply with its wait; JSON
// always carries it as wait_ms.
func TestTimeLapse(t *testing.T) {
	evs := []session.Event{
		{Dir: session.Sent, Line: "EHLO c"},
		{Dir: session.Received, Line: "250-mx", Code: 250},
		{Dir: session.Received, Line: "250 OK", Code: 250, Last: true, Wait: 12300 * time.Microsecond},
	}
	var b bytes.Buffer
	h := NewHuman(&b, Options{TimeLapse: true})
	for _, e := range evs {
		h.Event(e)
	}
	if want := " -> EHLO c\n<-  250-mx\n<-  250 OK  [12.3 ms]\n"; b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
	b.Reset()
	h = NewHuman(&b, Options{})
	h.Event(evs[2])
	if b.String() != "<-  250 OK\n" {
		t.Errorf("without the option: %q", b.String())
	}
	j := ToJSON(evs, false)
	if j[1].WaitMS != 0 || j[2].WaitMS != 12.3 {
		t.Errorf("wait_ms %v %v", j[1].WaitMS, j[2].WaitMS)
	}
}
