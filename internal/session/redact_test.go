package session

import (
	"bufio"
	"encoding/base64"
	"reflect"
	"strings"
	"testing"
)

var b64 = base64.StdEncoding.EncodeToString

// The inner part registered for each alignment is found in the base64 of
// any string that holds the secret at that alignment, whatever surrounds it.
func TestInnerBase64(t *testing.T) {
	for _, secret := range []string{"p", "pw", "pwd", "pass", "S3cr3t-pw-7f9c", "ünïcødé", "\x00\xff\x10"} {
		for pre := 0; pre < 7; pre++ {
			for post := 0; post < 4; post++ {
				for _, fill := range []byte{0x00, 0xff, 'A'} {
					f := string([]byte{fill})
					whole := strings.Repeat(f, pre) + secret + strings.Repeat(f, post)
					inner := innerBase64(secret, pre%3)
					if !strings.Contains(b64([]byte(whole)), inner) {
						t.Fatalf("%q at %d (fill %x): %q not in %q", secret, pre, fill, inner, b64([]byte(whole)))
					}
				}
			}
		}
		// It is all of the encoding that depends on the secret alone: at
		// most one character at each end is shared with a neighbour.
		for k := 0; k < 3; k++ {
			if got := len(innerBase64(secret, k)); 6*got < 8*len(secret)-12 {
				t.Errorf("%q at %d: inner part of only %d characters", secret, k, got)
			}
		}
	}
}

func TestRedactLine(t *testing.T) {
	const pw = "S3cr3t-pw-7f9c"
	plain := "\x00user@example.test\x00" + pw
	var r redactor
	r.addSecret(pw)
	r.addPayload([]byte(plain), true)
	for _, tt := range []struct{ in, want string }{
		{"250 2.1.0 ok", "250 2.1.0 ok"},
		{"535 5.7.8 bad " + pw, "535 5.7.8 bad ********"},
		{"535-5.7.8 " + b64([]byte(plain)) + " rejected", "535-5.7.8 ******** rejected"},
		{"535 " + base64.RawStdEncoding.EncodeToString([]byte(plain)), "535 ********"},
		{"535 5.7.8 (" + plain + ")", "535 5.7.8 (********)"},
		{"535 5.7.8 " + b64([]byte(pw)), "535 5.7.8 ********"},
		// The password inside other base64 strings, at each alignment.
		{"535 x" + b64([]byte("a"+pw+"bc")) + "x", "535 x" + b64([]byte("a" + pw + "bc"))[:2] + "********" + b64([]byte("a" + pw + "bc"))[20:] + "x"},
		{"535 " + b64([]byte("\x00someone\x00"+pw)), "535 " + b64([]byte("\x00someone\x00" + pw))[:12] + "********"},
		{"535 " + pw + pw + " " + pw, "535 ******** ********"},
		// A secret that looks like protocol fields is hidden only in the text.
		{"535 S3cr3t-pw-7f9c", "535 ********"},
		{"5" + pw, "5********"},
		{pw, "********"},
		{"", ""},
	} {
		if got := r.line(tt.in, false, 4096); got != tt.want {
			t.Errorf("line(%q)\n got %q\nwant %q", tt.in, got, tt.want)
		}
	}
	// A line that ended early hides the beginning of a secret at its end.
	if got := r.line("535 5.7.8 bad S3cr", true, 4096); got != "535 5.7.8 bad ********" {
		t.Errorf("cut line: %q", got)
	}
	if got := r.line("535 5.7.8 bad S3cr", false, 4096); got != "535 5.7.8 bad S3cr" {
		t.Errorf("a complete line hid a fragment: %q", got)
	}
	// Overlapping occurrences are hidden in one run.
	var o redactor
	o.addSecret("abab")
	if got := o.line("250 xababab y", false, 4096); got != "250 x******** y" {
		t.Errorf("overlap: %q", got)
	}
	// A short secret gives way to a longer marker, but the line bound holds.
	var s redactor
	s.addSecret("ab")
	long := "250 " + strings.Repeat("ab ", 40)
	if got := s.line(long, false, len(long)); len(got) != len(long) || !strings.HasPrefix(got, "250 ******** ******** ") {
		t.Errorf("bound: %d bytes for %d: %q", len(got), len(long), got)
	}
	// Nothing registered: nothing changes.
	var none redactor
	if got := none.line("535 "+pw, false, 10); got != "535 "+pw {
		t.Errorf("empty redactor changed %q", got)
	}
}

// Short secrets are looked for as they are, but their base64 fragments,
// too short to mean anything, are not.
func TestRedactShortSecret(t *testing.T) {
	var r redactor
	r.addSecret("x")
	for _, f := range r.forms {
		if f != "x" && len(f) < minEncoded {
			t.Errorf("registered %q", f)
		}
	}
	if got := r.line("250 2.0.0 xyz eA== eA", false, 100); got != "250 2.0.0 ********yz ******** eA" {
		t.Errorf("%q", got)
	}
}

// A reply with a secret in it still parses: code, enhanced code and line
// count are those the server sent; its text and the lines reported hide
// the secret; the lines as received stay available for an AUTH challenge.
func TestReadReplyRedacts(t *testing.T) {
	const pw = "hunter2hunter2"
	in := "535-5.7.8 you said " + pw + "\r\n535-5.7.8 that is " + b64([]byte(pw)) + "\r\n535 5.7.8 bye\r\n"
	var red redactor
	red.addSecret(pw)
	rr := &ReplyReader{R: bufio.NewReaderSize(strings.NewReader(in), 16), MaxLineLen: 200, MaxLines: 5, red: &red}
	r, raw, err := rr.ReadReply()
	if err != nil {
		t.Fatal(err)
	}
	if r.Code != 535 || r.Enhanced != "5.7.8" || len(r.Lines) != 3 {
		t.Fatalf("%d %q %q", r.Code, r.Enhanced, r.Lines)
	}
	if want := "you said ********\nthat is ********\nbye"; r.Text() != want {
		t.Errorf("text %q", r.Text())
	}
	if want := []string{"535-5.7.8 you said ********", "535-5.7.8 that is ********", "535 5.7.8 bye"}; !reflect.DeepEqual(raw, want) {
		t.Errorf("raw %q", raw)
	}
	if want := []string{"5.7.8 you said " + pw, "5.7.8 that is " + b64([]byte(pw)), "5.7.8 bye"}; !reflect.DeepEqual(r.received(), want) {
		t.Errorf("received %q", r.received())
	}

	// Malformed and over-long lines reach errors and the transcript hidden too.
	for _, in := range []string{
		"535-5.7.8 " + pw + "\r\n550 x\r\n",             // the code changes within a reply
		"5x5 " + pw + "\r\n",                            // not a code
		pw + "\r\n",                                     // nothing but the secret
		"250 " + strings.Repeat("y", 40) + pw[:9],       // cut by the end of the stream
		"250 " + strings.Repeat("z", 50) + pw + "\r\n",  // longer than the limit: its head is kept
		"535-a\r\n535-" + pw + "\r\n536 " + pw + "\r\n", // the same, the secret in both lines
	} {
		rr := &ReplyReader{R: bufio.NewReaderSize(strings.NewReader(in), 16), MaxLineLen: 60, MaxLines: 5, red: &red}
		r, raw, err := rr.ReadReply()
		all := strings.Join(raw, "|")
		if err != nil {
			all += "|" + err.Error()
		}
		if r != nil {
			all += "|" + r.Text()
		}
		if strings.Contains(all, pw[:4]) {
			t.Errorf("%q: the secret shows in %q", in, all)
		}
	}
}

// After AUTH every line is searched for the secrets' forms.
func BenchmarkReadReplyRedacting(b *testing.B) {
	reply := "250-mx.example.com\r\n250-PIPELINING\r\n250-SIZE 52428800\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"
	var red redactor
	red.addSecret("S3cr3t-pw-7f9c")
	red.addPayload([]byte("\x00user@example.test\x00S3cr3t-pw-7f9c"), true)
	r := strings.NewReader("")
	rr := &ReplyReader{red: &red}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		r.Reset(reply)
		rr.R = bufio.NewReaderSize(r, 4096)
		if _, _, err := rr.ReadReply(); err != nil {
			b.Fatal(err)
		}
	}
}

// Whatever surrounds a secret in a reply line, the line reported hides it
// (and its base64 forms) and keeps its code and its length bound.
func FuzzRedact(f *testing.F) {
	f.Add("S3cr3t", "you sent ", " back", 0)
	f.Add("p", "", "", 1)
	f.Add("abab", "xab", "abx", 2)
	f.Add("\x00\xff", "\xff", "\x00", 3)
	f.Fuzz(func(t *testing.T, secret, before, after string, how int) {
		// Digits, dots and spaces could form an enhanced code, which is kept
		// by design; a '*' is part of the marker itself.
		if secret == "" || strings.ContainsAny(secret, "0123456789. *") || len(secret) > 300 || len(before)+len(after) > 3000 {
			return
		}
		var r redactor
		r.addSecret(secret)
		shown := secret
		switch how & 3 {
		case 1:
			shown = b64([]byte(secret))
		case 2:
			shown = b64([]byte(before + secret + after))
			before, after = "", ""
		case 3:
			shown = base64.RawStdEncoding.EncodeToString([]byte(secret))
		}
		in := "535 " + before + shown + after
		limit := len(in)
		got := r.line(in, false, limit)
		if len(got) > limit || got[:4] != "535 " {
			t.Fatalf("line(%q) = %q: over %d bytes or code lost", in, got, limit)
		}
		if strings.Contains(got, secret) || (how&3 != 2 && strings.Contains(got, shown) && len(shown) >= minEncoded) {
			t.Fatalf("line(%q) = %q shows %q", in, got, shown)
		}
		if how&3 == 2 && len(secret) >= 6 {
			// Inside a longer base64 string: nothing long enough to be the
			// secret's own encoding is left.
			for k := 0; k < 3; k++ {
				if inner := innerBase64(secret, k); len(inner) >= minEncoded && strings.Contains(got, inner) {
					t.Fatalf("line(%q) = %q shows %q", in, got, inner)
				}
			}
		}
	})
}
