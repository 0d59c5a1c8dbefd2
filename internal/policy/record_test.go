package policy

import (
	"strings"
	"testing"
)

func TestCheckSPF(t *testing.T) {
	good := []string{
		"v=spf1 -all",
		"v=spf1",
		"v=spf1 mx a:mail.example.com/24 ip4:192.0.2.0/24 ip6:2001:db8::/32 include:_spf.example.net ~all",
		"v=spf1 ip4:192.0.2.1 redirect=_spf.example.com",
		"v=spf1 +a -mx ?ptr exists:%{i}.x.example exp=explain.example.com -all",
		"V=SPF1 A/24 -ALL",
	}
	for _, r := range good {
		if err := CheckSPF(r); err != nil {
			t.Errorf("%q: %v", r, err)
		}
	}
	bad := map[string]string{
		"v=spf1 foo -all":              "unknown mechanism",
		"v=spf1 ip4:999.1.1.1 -all":    "not an address",
		"v=spf1 ip4:2001:db8::1 -all":  "family",
		"v=spf1 ip6:192.0.2.1":         "family",
		"v=spf1 include: -all":         "needs a domain",
		"v=spf1 all:x":                 "no argument",
		"v=spf1 redirect=a redirect=b": "twice",
		"v=spf1 ip4":                   "needs an address",
		"v=spf1 include:a include:b include:c include:d include:e include:f a mx ptr exists:x redirect=y": "limit is 10",
		"v=spf1 1bad=x": "bad name",
		"spf1 -all":     "must start",
	}
	for r, want := range bad {
		if err := CheckSPF(r); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err %v, want %q", r, err, want)
		}
	}
}

func TestRecordParsers(t *testing.T) {
	type tc struct {
		txts      []string
		published bool
		text      string // the record kept; "" for the first of txts when published
		err       string
	}
	run := func(name string, parse func([]string) Record, tests []tc) {
		for _, tt := range tests {
			r := parse(tt.txts)
			if r.Published != tt.published {
				t.Errorf("%s %q: published %v", name, tt.txts, r.Published)
			}
			text := tt.text
			if text == "" && tt.published {
				text = tt.txts[0]
			}
			if r.Text != text {
				t.Errorf("%s %q: text %q, want %q", name, tt.txts, r.Text, text)
			}
			if (tt.err == "") != (r.Err == nil) || tt.err != "" && !strings.Contains(r.Err.Error(), tt.err) {
				t.Errorf("%s %q: err %v, want %q", name, tt.txts, r.Err, tt.err)
			}
		}
	}
	run("tlsrpt", ParseTLSRPT, []tc{
		{[]string{"v=TLSRPTv1; rua=mailto:tls@example.com"}, true, "", ""},
		{[]string{"v=TLSRPTv1;rua=mailto:a@example.com,https://r.example.com/x"}, true, "", ""},
		{[]string{"v=spf1 -all"}, false, "", ""},
		{[]string{"v=TLSRPTv1"}, true, "", "no rua"},
		{[]string{"v=TLSRPTv1; rua=ftp://x"}, true, "", "neither mailto"},
		{[]string{"v=TLSRPTv1; rua=mailto:a", "v=TLSRPTv1; rua=mailto:b"}, true, "", "2 records"},
	})
	run("dmarc", ParseDMARC, []tc{
		{[]string{"v=DMARC1; p=reject; rua=mailto:d@example.com"}, true, "", ""},
		{[]string{"v=DMARC1;p=none;sp=quarantine;pct=50"}, true, "", ""},
		{[]string{"v=DMARC1"}, true, "", "no p tag"},
		{[]string{"v=DMARC1; p=maybe"}, true, "", "not none"},
		{[]string{"v=DMARC1; p=none; pct=200"}, true, "", "pct"},
		{[]string{"v=DMARC1; p=none; p=reject"}, true, "", "twice"},
		{nil, false, "", ""},
	})
	run("spf", ParseSPF, []tc{
		{[]string{"v=spf1 -all", "google-site-verification=x"}, true, "", ""},
		{[]string{"v=spf1 -all", "v=spf1 mx -all"}, true, "", "2 SPF records"},
		{[]string{"v=spf10 -all"}, false, "", ""},
		{[]string{"v=spf1 bogus"}, true, "", "unknown mechanism"},
		{[]string{"google-site-verification=x", "V=SPF1 -all"}, true, "V=SPF1 -all", ""},
	})
	run("mta-sts", func(txts []string) Record { r, _ := ParseSTSRecord(txts); return r }, []tc{
		{[]string{"v=spf1 -all", "v=STSv1; id=1"}, true, "v=STSv1; id=1", ""},
		{[]string{"v=STSv1; id=1", "v=STSv1; id=2"}, true, "", "2 records"},
		{[]string{"v=STSv1"}, true, "", "no id"},
		{nil, false, "", ""},
	})
}

// TestTags checks that tag names are read case-insensitively, values
// trimmed, and the tags read before an error kept for the report.
func TestTags(t *testing.T) {
	r := ParseDMARC([]string{"v=DMARC1; P = reject ;RUA=mailto:d@example.com"})
	if r.Err != nil || r.Tags["p"] != "reject" || r.Tags["rua"] != "mailto:d@example.com" {
		t.Errorf("%+v", r)
	}
	r = ParseTLSRPT([]string{"v=TLSRPTv1; rua=mailto:a@example.com; junk"})
	if r.Err == nil || r.Tags["rua"] != "mailto:a@example.com" {
		t.Errorf("%+v", r)
	}
}
