package address

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseValid(t *testing.T) {
	tests := []struct {
		in, local, domain, ascii string
		quoted, literal, utf8    bool
	}{
		{in: "bob@example.com", local: "bob", domain: "example.com", ascii: "example.com"},
		{in: "<bob@example.com>", local: "bob", domain: "example.com", ascii: "example.com"},
		{in: "Bob.Smith+tag@Example.COM", local: "Bob.Smith+tag", domain: "example.com", ascii: "example.com"},
		{in: "!#$%&'*+-/=?^_`{|}~@x.example", local: "!#$%&'*+-/=?^_`{|}~", domain: "x.example", ascii: "x.example"},
		{in: "postmaster@localhost", local: "postmaster", domain: "localhost", ascii: "localhost"},
		{in: `"john doe"@example.com`, local: `"john doe"`, domain: "example.com", ascii: "example.com", quoted: true},
		{in: `"a\"b@c"@example.com`, local: `"a\"b@c"`, domain: "example.com", ascii: "example.com", quoted: true},
		{in: `"a..b"@example.com`, local: `"a..b"`, domain: "example.com", ascii: "example.com", quoted: true},
		{in: "jürgen@example.com", local: "jürgen", domain: "example.com", ascii: "example.com", utf8: true},
		{in: "用户@例子.广告", local: "用户", domain: "例子.广告", ascii: "xn--fsqu00a.xn--4rr70v", utf8: true},
		{in: "info@bücher.example", local: "info", domain: "bücher.example", ascii: "xn--bcher-kva.example"},
		{in: "info@BÜCHER.example", local: "info", domain: "bücher.example", ascii: "xn--bcher-kva.example"},
		{in: "info@xn--bcher-kva.example", local: "info", domain: "bücher.example", ascii: "xn--bcher-kva.example"},
		{in: "postmaster@[192.0.2.1]", local: "postmaster", domain: "[192.0.2.1]", ascii: "[192.0.2.1]", literal: true},
		{in: "postmaster@[IPv6:2001:DB8::1]", local: "postmaster", domain: "[IPv6:2001:db8::1]", ascii: "[IPv6:2001:db8::1]", literal: true},
		{in: "a@b-c.d1", local: "a", domain: "b-c.d1", ascii: "b-c.d1"},
	}
	for _, tt := range tests {
		a, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if a.Local != tt.local || a.Domain != tt.domain || a.ASCIIDomain != tt.ascii ||
			a.Quoted != tt.quoted || a.Literal != tt.literal || a.UTF8 != tt.utf8 {
			t.Errorf("Parse(%q) = %+v", tt.in, a)
		}
		if a.Mailbox() != tt.local+"@"+tt.ascii || a.String() != tt.local+"@"+tt.domain {
			t.Errorf("Parse(%q): Mailbox %q String %q", tt.in, a.Mailbox(), a.String())
		}
	}
}

func TestParseInvalid(t *testing.T) {
	long := strings.Repeat("a", 65)
	label := strings.Repeat("d", 63)
	tests := []struct{ in, want string }{
		{"", "empty"},
		{"bob", "no @"},
		{"@example.com", "empty local part"},
		{"bob@", "empty domain"},
		{"bob@example.com\r\nRCPT TO:<x@y>", "line break"},
		{"bob\n@example.com", "line break"},
		{"bob\x00@example.com", "control character"},
		{"bob\x1b[2J@example.com", "control character"},
		{"\xff@example.com", "UTF-8"},
		{"bob smith@example.com", "space in local part"},
		{" bob@example.com", "space in local part"},
		{"bob@example.com ", "space in domain"},
		{"bob@exa mple.com", "space in domain"},
		{".bob@example.com", "starts or ends with a dot"},
		{"bob.@example.com", "starts or ends with a dot"},
		{"bo..b@example.com", "two dots"},
		{"a@b@example.com", "more than one @"},
		{"a(b)@example.com", "not allowed in an unquoted local part"},
		{`"bob@example.com`, "unterminated"},
		{`"a"b@example.com`, "after the closing quote"},
		{`""@example.com`, "empty quoted"},
		{"bob@example..com", "two dots"},
		{"bob@.example.com", "starts with a dot"},
		{"bob@example.com.", "ends with a dot"},
		{"bob@-example.com", "hyphen"},
		{"bob@example-.com", "hyphen"},
		{"bob@exa_mple.com", "not allowed in a domain"},
		{"bob@[192.0.2.1", "without closing"},
		{"bob@[300.0.2.1]", "bad IPv4"},
		{"bob@[IPv6:nope]", "bad IPv6"},
		{"bob@[IPv6:192.0.2.1]", "bad IPv6"},
		{"bob@[x400:abc]", "unsupported address literal"},
		{long + "@example.com", "local part is 65 octets"},
		{"bob@" + label + "d.example", "longer than 63"},
		{"bob@" + strings.Repeat(label+".", 4) + "com", "over the limit"},
		{strings.Repeat("a", 64) + "@" + strings.Repeat(label+".", 3) + "example", "over the limit of 254"},
		{"bob@xn--a.example", "internationalised"},
		{"bob@a\u200bb.example", "invisible character U+200B"},
		{"a\u200bb@example.com", "not allowed in an unquoted local part"},
		{strings.Repeat("x", 2000), "longer than"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.in)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("Parse(%q) = %v, want *Error", tt.in, err)
			continue
		}
		if !strings.Contains(e.Msg, tt.want) {
			t.Errorf("Parse(%q) error %q, want it to mention %q", tt.in, e.Msg, tt.want)
		}
		if strings.ContainsAny(err.Error(), "\r\n") {
			t.Errorf("Parse(%q): error text holds a line break: %q", tt.in, err)
		}
	}
}

// FuzzParseAddress checks that Parse never panics, that what it accepts is
// within the RFC 5321 limits and safe to put on a command line, and that the
// accepted form parses again to the same address.
func FuzzParseAddress(f *testing.F) {
	for _, s := range []string{
		"bob@example.com", `"john doe"@example.com`, `"a\"b"@x.example`, "用户@例子.广告",
		"info@bücher.example", "x@[192.0.2.1]", "x@[IPv6:::1]", "<a@b>", "a@b@c",
		"bob@example.com\r\nRCPT TO:<x>", ".a@b", "a..b@c", "a@xn--bcher-kva.example",
		strings.Repeat("a", 64) + "@" + strings.Repeat("b", 63) + ".c", "\"\\\xc3\xa9\"@x", "a@\u3002",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := Parse(s)
		if err != nil {
			if a != (Address{}) {
				t.Fatalf("Parse(%q) returned %+v with an error", s, a)
			}
			return
		}
		mb := a.Mailbox()
		if strings.ContainsAny(mb, "\r\n\x00") || strings.ContainsAny(a.String(), "\r\n\x00") {
			t.Fatalf("Parse(%q) accepted a line break: %q", s, mb)
		}
		if len(a.Local) > MaxLocal || len(mb) > MaxAddress || len(a.ASCIIDomain) > 253 {
			t.Fatalf("Parse(%q) = %q exceeds a limit", s, mb)
		}
		if !utf8.ValidString(mb) {
			t.Fatalf("Parse(%q) = %q is not UTF-8", s, mb)
		}
		for i := 0; i < len(a.ASCIIDomain); i++ {
			if a.ASCIIDomain[i] >= utf8.RuneSelf {
				t.Fatalf("Parse(%q): ASCIIDomain %q is not ASCII", s, a.ASCIIDomain)
			}
		}
		b, err := Parse(mb)
		if err != nil {
			t.Fatalf("Parse(%q) = %q, which does not parse again: %v", s, mb, err)
		}
		if b != a {
			t.Fatalf("Parse(%q) = %+v, but Parse(%q) = %+v", s, a, mb, b)
		}
	})
}
