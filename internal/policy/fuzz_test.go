package policy

import (
	"strings"
	"testing"
)

// The parsers read text from DNS and HTTPS that anyone can publish: they
// must never panic, and what they accept must be what RFC 8461 and RFC 7208
// allow.

func FuzzParsePolicy(f *testing.F) {
	f.Add("version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmax_age: 604800\r\n")
	f.Add("version: STSv1\nmode: none\nmax_age: 0\n")
	f.Add("version:STSv1\nmode:testing\nmx:a\nmax_age:31557600")
	f.Add("<html>\x00\xff</html>")
	f.Fuzz(func(t *testing.T, body string) {
		p, err := ParseSTS(body)
		if err != nil {
			return
		}
		if p.Version != "STSv1" || p.MaxAge < 0 || p.MaxAge > MaxSTSAge {
			t.Fatalf("accepted %+v", p)
		}
		switch p.Mode {
		case "enforce", "testing":
			if len(p.MX) == 0 {
				t.Fatalf("mode %s without mx accepted", p.Mode)
			}
		case "none":
		default:
			t.Fatalf("mode %q accepted", p.Mode)
		}
		for _, mx := range p.MX {
			_ = p.Match(mx)
			_ = p.Match("x." + mx)
		}
	})
}

func FuzzParseSTSRecord(f *testing.F) {
	f.Add("v=STSv1; id=20240101T000000;")
	f.Add("v=STSv1;id=")
	f.Add("v=spf1 -all")
	f.Fuzz(func(t *testing.T, rec string) {
		r, id := ParseSTSRecord([]string{rec})
		if r.Published && r.Err == nil && (id == "" || len(id) > 32 || !alnum(id)) {
			t.Fatalf("accepted id %q from %q", id, rec)
		}
		if id != "" && (!r.Published || r.Err != nil) {
			t.Fatalf("id %q from an unusable record %q", id, rec)
		}
	})
}

func FuzzParseSPF(f *testing.F) {
	f.Add("v=spf1 mx a:mail.example.com/24 ip4:192.0.2.0/24 ip6:2001:db8::/32 include:_spf.example.net ~all")
	f.Add("v=spf1 redirect=_spf.example.com")
	f.Add("v=spf1 -ip4:")
	f.Fuzz(func(t *testing.T, rec string) {
		if err := CheckSPF(rec); err == nil && !strings.EqualFold(strings.Fields(rec)[0], "v=spf1") {
			t.Fatalf("accepted %q", rec)
		}
	})
}

func FuzzRecords(f *testing.F) {
	f.Add("v=DMARC1; p=reject; rua=mailto:d@example.com")
	f.Add("v=TLSRPTv1; rua=mailto:a@example.com,https://r.example.com/x")
	f.Add("v=DMARC1;p")
	f.Fuzz(func(t *testing.T, rec string) {
		for _, parse := range []func([]string) Record{ParseDMARC, ParseTLSRPT, ParseSPF} {
			// Two answers of a kind are never usable; one answer of
			// another kind is never published.
			parse([]string{rec, rec + ";"})
			if r := parse([]string{rec, rec}); r.Published && r.Err == nil {
				t.Fatalf("two records %q accepted", rec)
			}
			if r := parse([]string{rec}); !r.Published && (r.Err != nil || r.Text != "") {
				t.Fatalf("unpublished %q: %+v", rec, r)
			}
		}
	})
}
