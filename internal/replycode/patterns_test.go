package replycode

import (
	"bufio"
	"os"
	"regexp"
	"strings"
	"testing"
)

// explainLine explains a reply as pasted, and wants exactly one reply in it.
func explainLine(t *testing.T, line string) *Explanation {
	t.Helper()
	exps, err := scanString(line)
	if err != nil || len(exps) != 1 {
		t.Fatalf("%q: %d replies, err %v", line, len(exps), err)
	}
	return exps[0]
}

// Each rule's examples, lines as real servers send them, are recognised by
// that very rule: no rule before it shadows them.
func TestPatternExamples(t *testing.T) {
	if len(patternExamples) != len(patternRules) {
		t.Fatalf("%d example lists for %d rules", len(patternExamples), len(patternRules))
	}
	for i := range patternRules {
		r := &patternRules[i]
		for _, ex := range patternExamples[i] {
			e := explainLine(t, ex)
			if r.Category != "" && (e.Diagnosis == nil || e.Diagnosis.Rule != r.ID || e.Category != r.Category) {
				t.Errorf("rule %s: %q gives category %q by rule %v", r.ID, ex, e.Category, e.Diagnosis)
			}
			if r.Provider != "" && (e.Provider == nil || e.Provider.ID != r.ID || e.Provider.Provider != r.Provider) {
				t.Errorf("rule %s: %q gives provider %+v", r.ID, ex, e.Provider)
			}
		}
	}
}

// categoryChecks are what each category's check must say that a reply text
// never does: the test of "specific beyond the text".
var categoryChecks = map[string]string{
	"blocklist":         "look up ",
	"dmarc":             "dig +short TXT _dmarc.",
	"spf":               "dig +short TXT ",
	"dkim":              "._domainkey.",
	"unauthenticated":   "_dmarc.",
	"reverse_dns":       "dig +short -x ",
	"helo":              "smtpx ehlo --helo",
	"relay_denied":      "dig +short MX",
	"auth_required":     "smtpx ehlo",
	"auth_failed":       "--password-file",
	"starttls_required": "smtpx probe",
	"app_password":      "app passwords",
	"mailbox_full":      "quota",
	"unknown_user":      "smtpx verify ",
	"greylisting":       "same IP address",
	"rate_limit":        "per hour",
	"message_too_big":   "SIZE limit",
	"mail_loop":         "Received: headers",
	"spam_content":      "X-Spam-Status",
	"virus_content":     "virus scanner",
	"sender_domain":     "dig +short MX ",
	"null_mx":           "0 .",
}

type corpusLine struct {
	category, provider, source, line string
	want                             map[string]string
}

func readCorpus(t *testing.T) []corpusLine {
	t.Helper()
	f, err := os.Open("testdata/corpus.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []corpusLine
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		l := sc.Text()
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		f := strings.Split(l, "\t")
		if len(f) != 5 {
			t.Fatalf("corpus.tsv:%d: %d fields, want 5", n, len(f))
		}
		c := corpusLine{category: f[0], provider: f[1], source: f[3], line: strings.ReplaceAll(f[4], `\n`, "\n"), want: map[string]string{}}
		if c.provider == "-" {
			c.provider = ""
		}
		if f[2] != "-" {
			for _, kv := range strings.Split(f[2], ";") {
				k, v, _ := strings.Cut(kv, "=")
				c.want[k] = v
			}
		}
		if !strings.HasPrefix(c.source, "https://") && !strings.HasPrefix(c.source, "http://") {
			t.Errorf("corpus.tsv:%d: source %q is not a URL", n, c.source)
		}
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// The corpus: real-world replies from public documentation and MTA
// sources. Each must get its category and provider, a check that says
// something the text does not, the values the text gives, and advice that
// fits its class.
func TestCorpus(t *testing.T) {
	corpus := readCorpus(t)
	if len(corpus) < 80 {
		t.Errorf("corpus has %d lines, want at least 80", len(corpus))
	}
	per := map[string][]string{}
	retryLaterRE := regexp.MustCompile(`(?i)retry later|if transient|let the queue retry`)
	for _, c := range corpus {
		e := explainLine(t, c.line)
		name := c.line
		if len(name) > 60 {
			name = name[:60]
		}
		if e.Category != c.category {
			t.Errorf("%s: category %q, want %q", name, e.Category, c.category)
			continue
		}
		per[c.category] = append(per[c.category], e.Text)
		prov := ""
		if e.Provider != nil {
			prov = e.Provider.Provider
		}
		if prov != c.provider {
			t.Errorf("%s: provider %q, want %q", name, prov, c.provider)
		}
		d := e.Diagnosis
		if d == nil || d.Cause == "" || d.Fix == "" || d.Source == "" || d.Rule == "" {
			t.Errorf("%s: incomplete diagnosis %+v", name, d)
			continue
		}
		lt := strings.ToLower(e.Text)
		cw := categoryChecks[c.category]
		if cw == "" || !strings.Contains(d.Check, cw) || strings.Contains(lt, strings.ToLower(d.Check)) {
			t.Errorf("%s: check %q does not say %q beyond the text", name, d.Check, cw)
		}
		if strings.Contains(d.Check, "{") {
			t.Errorf("%s: check %q has an unfilled value", name, d.Check)
		}
		for k, v := range c.want {
			var got string
			switch k {
			case "list":
				if d.Blocklist != nil {
					got = d.Blocklist.Name
				}
			case "ip":
				got = d.IP
			case "domain":
				got = d.Domain
			case "address":
				got = d.Address
			default:
				t.Fatalf("corpus: unknown key %q", k)
			}
			if got != v {
				t.Errorf("%s: %s %q, want %q", name, k, got, v)
			}
		}
		if c.category == "blocklist" && (d.Blocklist == nil || d.Blocklist.Lookup == "") {
			t.Errorf("%s: no lookup page for the blocklist: %+v", name, d.Blocklist)
		}
		if e.Class == 5 && retryLaterRE.MatchString(e.Action) {
			t.Errorf("%s: a 5xx is told to retry: %q", name, e.Action)
		}
		if e.Class == 5 && e.Retry == "later" {
			t.Errorf("%s: a 5xx with retry later", name)
		}
	}
	// Every category, two lines worded differently (fewer than half their
	// words in common).
	for _, c := range categories {
		lines := per[c.ID]
		ok := false
		for i := 0; i < len(lines) && !ok; i++ {
			for j := i + 1; j < len(lines) && !ok; j++ {
				ok = overlap(lines[i], lines[j]) < 0.5
			}
		}
		if !ok {
			t.Errorf("category %s: %d corpus lines, not two worded differently", c.ID, len(lines))
		}
	}
}

// overlap is the share of words two texts have in common (Jaccard).
func overlap(a, b string) float64 {
	wa, wb := map[string]bool{}, map[string]bool{}
	for _, w := range strings.Fields(strings.ToLower(a)) {
		wa[w] = true
	}
	for _, w := range strings.Fields(strings.ToLower(b)) {
		wb[w] = true
	}
	common := 0
	for w := range wa {
		if wb[w] {
			common++
		}
	}
	return float64(common) / float64(len(wa)+len(wb)-common)
}

// The issue's examples, one by one.
func TestIssueExamples(t *testing.T) {
	e := explainLine(t, "554 5.4.14 Hop count exceeded - possible mail loop")
	if e.Category != "mail_loop" || strings.Contains(e.Action, "IP") {
		t.Errorf("mail loop: %q %q", e.Category, e.Action)
	}
	e = explainLine(t, "553 5.7.2 [TSS09] All messages from 192.0.2.7 will be permanently deferred; Retrying will NOT succeed. See https://postmaster.yahooinc.com/error-codes")
	if e.Provider == nil || e.Provider.ID != "yahoo-tss09" || strings.Contains(e.Provider.Meaning, "4xx") || strings.Contains(e.Provider.Name, "TS03") {
		t.Errorf("TSS09: %+v", e.Provider)
	}
	e = explainLine(t, "450 4.7.1 Client host rejected: cannot find your hostname, [192.0.2.7]")
	if e.Category != "reverse_dns" || e.Diagnosis.Check != "dig +short -x 192.0.2.7 must give a name, and dig +short A (or AAAA) of that name must give 192.0.2.7 back" {
		t.Errorf("reverse DNS: %q %+v", e.Category, e.Diagnosis)
	}
}

// Advice fits the class: no "retry later" for a 5xx, whatever the code.
func TestAdviceFitsClass(t *testing.T) {
	bad := regexp.MustCompile(`(?i)retry later|if transient|retry\.$`)
	for _, f := range enhancedFacts {
		if !strings.HasPrefix(f.Code, "X.") || strings.HasSuffix(f.Code, "YYY") {
			continue
		}
		code := "5" + f.Code[1:]
		for _, args := range [][]string{{code}, {"554", code}} {
			exps, err := Lookup(args)
			if err != nil {
				t.Fatal(err)
			}
			if a := exps[0].Action; bad.MatchString(a) {
				t.Errorf("%v: %q", args, a)
			}
		}
		if h := Hint(550, code, ""); bad.MatchString(h) {
			t.Errorf("Hint(550, %s): %q", code, h)
		}
	}
	for _, c := range categories {
		fix := c.Fix
		if c.FixPermanent != "" {
			fix = c.FixPermanent
		}
		if c.ID != "greylisting" && bad.MatchString(fix) {
			t.Errorf("category %s: permanent advice %q", c.ID, fix)
		}
	}
	e := one(t, "500 5.3.0")
	if strings.Contains(e.Action, "if transient") || !strings.Contains(e.Action, "Do not retry") {
		t.Errorf("500 5.3.0: %q", e.Action)
	}
	if e = one(t, "451 4.3.0"); !strings.Contains(e.Action, "Retry later") {
		t.Errorf("451 4.3.0: %q", e.Action)
	}
}

// A code outside RFC 5321's grammar is read by its first digit.
func TestUnknownCodesByClass(t *testing.T) {
	for _, tt := range []struct {
		in        string
		class     int
		className string
	}{
		{"577", 5, "permanent"},
		{"499", 4, "transient"},
		{"268", 2, "success"},
	} {
		e := one(t, tt.in)
		if e.Class != tt.class || e.ClassName != tt.className || e.Basic == nil || e.Basic.Fallback != "class" ||
			!strings.Contains(e.Basic.Meaning, "outside the categories RFC 5321 defines") || e.Basic.CategoryName != "undefined" {
			t.Errorf("%s: %+v %+v", tt.in, e, e.Basic)
		}
	}
	e := one(t, "577 5.9.1")
	if e.Status == nil || e.Status.Fallback != "class" || strings.Contains(e.Action, "Retry later") {
		t.Errorf("577 5.9.1: %+v %q", e.Status, e.Action)
	}
	if e := explainLine(t, "577 odd reply from a strange server"); e.Code != 577 || e.Basic.Fallback != "class" {
		t.Errorf("577 reply: %+v", e)
	}
}

func TestPatternData(t *testing.T) {
	for _, c := range categories {
		if categoryChecks[c.ID] == "" {
			t.Errorf("category %s has no check word in the test", c.ID)
		}
	}
	for i := range patternRules {
		if patternRules[i].Regex != "" {
			_ = ruleRE(i) // compiles
		}
	}
	for _, b := range blocklists {
		if !strings.HasPrefix(b.Lookup, "https://") {
			t.Errorf("list %s: lookup %q", b.ID, b.Lookup)
		}
	}
}

func BenchmarkExplainBlocklist(b *testing.B) {
	r := Reply{Code: 554, Enhanced: "5.7.1", Lines: []string{"Service unavailable; Client host [192.0.2.7] blocked using zen.spamhaus.org"}}
	for i := 0; i < b.N; i++ {
		_ = Explain(r)
	}
}

// A pasted bounce says which recipient each reply is about; a Postfix
// bounce's DSN part repeats its replies, and they are given once.
func TestBounceRecipients(t *testing.T) {
	for _, tt := range []struct {
		file string
		want []string // recipient, code, category
	}{
		{"testdata/bounce-postfix.txt", []string{"bob@example.com 550 unknown_user", "carol@example.net 552 mailbox_full"}},
		{"testdata/bounce-exim.txt", []string{"bob@example.com 550 unknown_user", "dave@example.org 554 blocklist"}},
		{"testdata/bounce-dsn.txt", []string{"erin@example.com 550 unknown_user", "frank@example.net 421 rate_limit"}},
	} {
		f, err := os.Open(tt.file)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		err = Scan(f, func(r Reply) error {
			e := Explain(r)
			got = append(got, strings.Join([]string{e.Recipient, codeString(e.Code), e.Category}, " "))
			return nil
		})
		f.Close()
		if err != nil || strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("%s: %q, %v; want %q", tt.file, got, err, tt.want)
		}
	}
	// A transcript is no bounce: no recipient, and repeated replies stay.
	exps, err := scanString("<-  250 2.1.5 Ok\n -> RCPT TO:<bob@example.com>\n<-  250 2.1.5 Ok\n")
	if err != nil || len(exps) != 2 || exps[0].Recipient != "" || exps[1].Recipient != "" {
		t.Errorf("transcript: %d %v", len(exps), err)
	}
}
