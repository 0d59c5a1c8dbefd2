package policy

import (
	"errors"
	"strings"
	"testing"
)

func TestParseSTSRecord(t *testing.T) {
	tests := []struct {
		txts    []string
		id, err string
	}{
		{[]string{"v=STSv1; id=20240101T000000;"}, "20240101T000000", ""},
		{[]string{"v=STSv1;id=abc"}, "abc", ""},
		{[]string{"v=spf1 -all", "v=STSv1; id=1; ext=x"}, "1", ""},
		{nil, "", "not published"},
		{[]string{"v=spf1 -all"}, "", "not published"},
		{[]string{"v=STSv1; id=1", "v=STSv1; id=2"}, "", "2 records"},
		{[]string{"v=STSv1"}, "", "no id"},
		{[]string{"v=STSv1; id="}, "", "not 1 to 32"},
		{[]string{"v=STSv1; id=" + strings.Repeat("a", 33)}, "", "not 1 to 32"},
		{[]string{"v=STSv1; id=a-b"}, "", "not 1 to 32"},
		{[]string{"v=STSv1; id=1; id=2"}, "", "twice"},
		{[]string{"v=STSv1; junk"}, "", "not name=value"},
		{[]string{"v=STSv1x; id=1"}, "", "must start"},
	}
	for _, tt := range tests {
		r, id := ParseSTSRecord(tt.txts)
		err := r.Err
		if !r.Published {
			err = errors.New("not published")
		}
		if tt.err == "" {
			if err != nil || id != tt.id {
				t.Errorf("%q: id %q err %v, want %q", tt.txts, id, err, tt.id)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%q: err %v, want %q", tt.txts, err, tt.err)
		}
	}
}

func TestParseSTS(t *testing.T) {
	good := "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmax_age: 604800\r\n"
	p, err := ParseSTS(good)
	if err != nil {
		t.Fatal(err)
	}
	if p.Mode != "enforce" || p.MaxAge != 604800 || len(p.MX) != 2 {
		t.Fatalf("%+v", p)
	}
	for host, want := range map[string]string{
		"mail.example.com":   "mail.example.com",
		"MAIL.example.com.":  "mail.example.com",
		"mx1.example.net":    "*.example.net",
		"example.net":        "",
		"a.b.example.net":    "",
		"other.example.com":  "",
		".example.net":       "",
		"mx1.example.net.uk": "",
	} {
		if got := p.Match(host); got != want {
			t.Errorf("Match(%q) = %q, want %q", host, got, want)
		}
	}
	// LF line ends, extra spaces, unknown keys, the first of a repeated key.
	p, err = ParseSTS("version:STSv1\nmode :  testing\nfoo: bar\nmax_age: 86400\nmode: enforce\nmx: a.example\n")
	if err != nil || p.Mode != "testing" {
		t.Fatalf("%+v %v", p, err)
	}
	if _, err := ParseSTS("version: STSv1\nmode: none\nmax_age: 0\n"); err != nil {
		t.Errorf("mode none without mx: %v", err)
	}
	bad := map[string]string{
		"version: STSv2\nmode: enforce\nmx: a\nmax_age: 1\n":           "version",
		"version: STSv1\nmode: strict\nmx: a\nmax_age: 1\n":            "mode",
		"version: STSv1\nmode: enforce\nmx: a\n":                       "max_age is missing",
		"version: STSv1\nmode: enforce\nmx: a\nmax_age: -1\n":          "max_age",
		"version: STSv1\nmode: enforce\nmx: a\nmax_age: 31557601\n":    "over the limit",
		"version: STSv1\nmode: enforce\nmax_age: 1\n":                  "at least one mx",
		"version: STSv1\nmode enforce\n":                               "not key: value",
		"version: STSv1\nmode: enforce\nmx: a b\nmax_age: 1\n":         "not a host name",
		"<html>not a policy</html>":                                    "not key: value",
		"version: STSv1\nmode: testing\nmx: a\nmax_age: 99999999999\n": "max_age",
	}
	for body, want := range bad {
		if _, err := ParseSTS(body); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err %v, want %q", body, err, want)
		}
	}
}
