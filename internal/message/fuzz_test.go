package message

import (
	"bytes"
	"mime"
	"strings"
	"testing"
)

// FuzzHeaderValue checks that an encoded unstructured header never has a
// CR or LF except in a fold (CRLF followed by white space), never a line
// over 998 octets, no raw non-ASCII, and that unfolding and RFC 2047
// decoding give back the input exactly.
func FuzzHeaderValue(f *testing.F) {
	for _, s := range []string{
		"", " ", "plain", "Grüße aus Köln", "=?utf-8?q?x?=", "a=?b", "?= =?", "tab\there",
		" leading", "trailing ", "ü ü  ü", "x ü y", strings.Repeat("ü", 100), strings.Repeat("word ", 40),
		strings.Repeat("z", 1200), "\x00\x01\x7f", "\xff\xfe invalid utf-8", "🎉 party", "a_b=c?d",
		strings.Repeat(" ", 1100), "ü" + strings.Repeat(" ", 1100) + "ü",
	} {
		f.Add("Subject", s)
	}
	f.Add(strings.Repeat("X", 76), "long header name ü")
	f.Fuzz(func(t *testing.T, name, value string) {
		if strings.ContainsAny(value, "\r\n") {
			t.Skip("CR and LF are refused before encoding")
		}
		if n, _, err := headerArg("Headers", 0, name+": x"); err != nil || n != name {
			t.Skip("not a valid header name")
		}
		line, utf8 := formatText(name, value)
		if utf8 {
			t.Errorf("raw non-ASCII in %q", line)
		}
		if !bytes.HasSuffix(line, []byte("\r\n")) {
			t.Fatalf("no final CRLF: %q", line)
		}
		body := line[:len(line)-2]
		for i, c := range body {
			if c >= 0x80 {
				t.Fatalf("non-ASCII byte in %q", line)
			}
			if c == '\r' && (i+2 >= len(body) || body[i+1] != '\n' || (body[i+2] != ' ' && body[i+2] != '\t')) {
				t.Fatalf("CR not part of a fold in %q", line)
			}
			if c == '\n' && (i == 0 || body[i-1] != '\r') {
				t.Fatalf("bare LF in %q", line)
			}
		}
		for _, l := range strings.Split(string(body), "\r\n") {
			if len(l) > hardLimit {
				t.Fatalf("line of %d octets", len(l))
			}
			if strings.Trim(l, " \t") == "" {
				t.Fatalf("white-space-only line in %q", line)
			}
		}
		unfolded := strings.ReplaceAll(string(body), "\r\n", "")
		v, ok := strings.CutPrefix(unfolded, name+":")
		if !ok {
			t.Fatalf("name lost: %q", line)
		}
		v = strings.TrimPrefix(v, " ")
		var dec mime.WordDecoder
		got, err := dec.DecodeHeader(v)
		if err != nil || got != value {
			t.Fatalf("%q encodes to %q, decodes to %q (%v)", value, line, got, err)
		}
	})
}

// FuzzData checks that --data content comes out with CRLF line ends only,
// exactly Size bytes, ending in CRLF, and unchanged apart from line ends.
func FuzzData(f *testing.F) {
	for _, s := range []string{"", "a", "a\n", "a\r", "a\r\n", "\r\r\n\n", ".\n.", "S: ü\n\nx"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		d := NewDataString(in)
		got := readAll(t, d)
		if int64(len(got)) != d.Size() {
			t.Fatalf("Size %d, read %d", d.Size(), len(got))
		}
		want := strings.NewReplacer("\r\n", "\r\n", "\r", "\r\n", "\n", "\r\n").Replace(in)
		if want != "" && !strings.HasSuffix(want, "\r\n") {
			want += "\r\n"
		}
		if string(got) != want {
			t.Fatalf("%q -> %q, want %q", in, got, want)
		}
		if d.EightBit() != (strings.IndexFunc(in, func(r rune) bool { return r >= 0x80 }) >= 0) {
			t.Fatalf("EightBit %v for %q", d.EightBit(), in)
		}
	})
}
