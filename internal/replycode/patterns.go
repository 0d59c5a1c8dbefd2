package replycode

import (
	"net/netip"
	"regexp"
	"strings"
	"sync"
)

// category is one kind of rejection recognised from a reply's wording,
// whatever server sent it (patterns.txt, generated into patterns_gen.go).
type category struct {
	ID, Name, Meaning, Cause   string
	Fix                        string
	FixTransient, FixPermanent string // replace Fix for 4xx and 5xx replies when set
	Check                      string // a way to confirm it, with {ip} {domain} {address} {list} {lookup}
	Retry                      string // later or after_fix whatever the class; "" keeps the class's
}

// blocklist is a DNS blocklist a reply can name.
type blocklist struct {
	ID, Name string
	Words    []string // lower-case phrases that identify it in a reply
	Zone     string
	Lookup   string // the list's own lookup and delisting page
	Note     string
}

// patternRule recognises one wording of a rejection.
type patternRule struct {
	ID, Category, Provider, Label string
	Class                         int      // 4 or 5: only that class; 0 any
	Codes                         []string // enhanced codes as in providerRule; empty: any
	Words                         []string // at least one must occur in the lower-cased text
	Regex                         string   // RE2, case-insensitive; named groups ip, domain, address
	Name, Meaning, Fix, Retry     string   // the provider's meaning, for provider rules
	Source                        string
}

// Diagnosis says what a reply's text shows happened, recognised from its
// wording: the category, why it usually happens, what to do, and how to
// check, with the values the text gives. Field names are part of smtpx's
// stable JSON output.
type Diagnosis struct {
	Category  string     `json:"category"` // blocklist, dmarc, spf, unknown_user, ...
	Name      string     `json:"name"`
	Meaning   string     `json:"meaning"`
	Cause     string     `json:"cause"` // why it usually happens
	Fix       string     `json:"fix"`   // what to do, fitted to the reply's class
	Check     string     `json:"check"` // a concrete way to confirm it
	Retry     string     `json:"retry"` // later or after_fix
	Rule      string     `json:"rule"`  // the pattern that recognised it
	Source    string     `json:"source"`
	IP        string     `json:"ip"`      // the IP address the text names, "" if none
	Domain    string     `json:"domain"`  // the domain the text is about, "" if none
	Address   string     `json:"address"` // the first mail address in the text, "" if none
	Blocklist *Blocklist `json:"blocklist"`
}

// Blocklist names the DNS blocklist a rejection cites.
type Blocklist struct {
	Name   string `json:"name"`   // "" when the text names no list known here
	Zone   string `json:"zone"`   // the DNS zone queried, when known
	Lookup string `json:"lookup"` // where to look the address up and ask for removal
	Note   string `json:"note"`
}

// lazyRE compiles a rule's expression on first use: start-up does no work,
// and a reply only pays for the rules whose words it contains.
type lazyRE struct {
	once sync.Once
	re   *regexp.Regexp
}

var ruleREs [len(patternRules)]lazyRE

// ruleRE returns rule i's compiled expression.
func ruleRE(i int) *regexp.Regexp {
	l := &ruleREs[i]
	l.once.Do(func() { l.re = regexp.MustCompile("(?i)" + patternRules[i].Regex) })
	return l.re
}

func categoryFor(id string) *category {
	for i := range categories {
		if categories[i].ID == id {
			return &categories[i]
		}
	}
	return nil
}

// ruleMatch is a rule that recognised a text, with the values its named
// groups picked out.
type ruleMatch struct {
	rule   *patternRule
	groups map[string]string
}

// matchRules returns the first rule that gives a provider and the first
// that gives a category (often the same one). text is the reply text cut to
// maxMatchedText, lt its lower-cased form.
func matchRules(class int, enhanced, text, lt string) (prov, cat *ruleMatch) {
	if lt == "" {
		return nil, nil
	}
	for i := range patternRules {
		r := &patternRules[i]
		if (prov != nil || r.Provider == "") && (cat != nil || r.Category == "") {
			continue
		}
		m := matchRule(i, class, enhanced, text, lt)
		if m == nil {
			continue
		}
		if prov == nil && r.Provider != "" {
			prov = m
		}
		if cat == nil && r.Category != "" {
			cat = m
		}
		if prov != nil && cat != nil {
			break
		}
	}
	return prov, cat
}

func matchRule(i, class int, enhanced, text, lt string) *ruleMatch {
	r := &patternRules[i]
	if r.Class != 0 && r.Class != class {
		return nil
	}
	if len(r.Codes) > 0 {
		hit := false
		for _, p := range r.Codes {
			hit = hit || (enhanced != "" && codeMatches(p, enhanced))
		}
		if !hit {
			return nil
		}
	}
	if len(r.Words) > 0 && !containsAny(lt, r.Words...) {
		return nil
	}
	m := &ruleMatch{rule: r}
	if r.Regex == "" {
		return m
	}
	re := ruleRE(i)
	if !hasNamedGroup(re) {
		// Without values to pick out, a plain match is several times cheaper.
		if !re.MatchString(text) {
			return nil
		}
		return m
	}
	sub := re.FindStringSubmatch(text)
	if sub == nil {
		return nil
	}
	for i, name := range re.SubexpNames() {
		if name != "" && sub[i] != "" {
			if m.groups == nil {
				m.groups = map[string]string{}
			}
			m.groups[name] = sub[i]
		}
	}
	return m
}

func hasNamedGroup(re *regexp.Regexp) bool {
	for _, n := range re.SubexpNames() {
		if n != "" {
			return true
		}
	}
	return false
}

// diagnose fills a Diagnosis for category c of a reply of the given class.
func diagnose(c *category, m *ruleMatch, class int, text, lt string) *Diagnosis {
	d := &Diagnosis{Category: c.ID, Name: c.Name, Meaning: c.Meaning, Cause: c.Cause, Fix: c.Fix}
	switch {
	case class == 4 && c.FixTransient != "":
		d.Fix = c.FixTransient
	case class == 5 && c.FixPermanent != "":
		d.Fix = c.FixPermanent
	}
	if class >= 2 && class <= 5 {
		d.Retry = retryByClass[class]
	}
	if class == 4 && c.Retry != "" {
		// Only a transient reply can be told to wait (greylisting, limits);
		// a 5xx is never "retry later".
		d.Retry = c.Retry
	}
	if m != nil {
		d.Rule, d.Source = m.rule.ID, m.rule.Source
		if m.rule.Retry != "" && class == 4 {
			d.Retry = m.rule.Retry
		}
	}
	d.IP, d.Domain, d.Address = m.group("ip"), m.group("domain"), m.group("address")
	if d.IP == "" {
		d.IP = findIP(text)
	}
	if d.Address == "" {
		d.Address = findAddress(text)
	}
	if d.Domain == "" {
		d.Domain = findDomain(text)
	}
	if d.Domain == "" && d.Address != "" {
		_, d.Domain, _ = strings.Cut(d.Address, "@")
	}
	if c.ID == "blocklist" {
		d.Blocklist = findBlocklist(lt, m.group("zone"), text)
	}
	d.Check = d.fillCheck(c.Check)
	return d
}

func (m *ruleMatch) group(name string) string {
	if m == nil {
		return ""
	}
	return m.groups[name]
}

// fillCheck puts the values found in the text into a category's check,
// with plain words where the text gave none.
func (d *Diagnosis) fillCheck(tmpl string) string {
	or := func(v, dflt string) string {
		if v == "" {
			return dflt
		}
		return v
	}
	listed := d.IP
	if listed == "" && d.Domain != "" {
		listed = d.Domain
	}
	list, lookup := "the list the reply names", "the list's own lookup page"
	if b := d.Blocklist; b != nil {
		if b.Name != "" {
			list = b.Name
			if b.Zone != "" {
				list += " (" + b.Zone + ")"
			}
		}
		lookup = or(b.Lookup, lookup)
	}
	r := strings.NewReplacer(
		"{ip}", or(listed, "the sending IP address"),
		"{domain}", or(d.Domain, "<the domain>"),
		"{address}", or(d.Address, "<the address>"),
		"{list}", list,
		"{lookup}", lookup,
	)
	return r.Replace(tmpl)
}

// findBlocklist names the list a blocklist rejection cites: one known here,
// else the zone the text gives and the first link in it.
func findBlocklist(lt, zone, text string) *Blocklist {
	for i := range blocklists {
		b := &blocklists[i]
		if containsAny(lt, b.Words...) {
			return &Blocklist{Name: b.Name, Zone: b.Zone, Lookup: b.Lookup, Note: b.Note}
		}
	}
	return &Blocklist{Zone: strings.ToLower(zone), Lookup: findURL(text)}
}

var (
	// Values picked out of reply texts; compiled on first use only.
	addrRE = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`<([^<>\s@]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})>|\b([A-Za-z0-9._%+=-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})\b`)
	})
	domainRE = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?i)(?:\bfrom|\bfor|\bdomain|\baddress|\bdue to|\bspf)\s+\[?([a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\.[a-z]{2,})\b\]?`)
	})
	ipv4RE = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?:^|[^0-9.])((?:[0-9]{1,3}\.){3}[0-9]{1,3})(?:[^0-9.]|\.(?:[^0-9]|$)|$)|\[(?:IPv6:)?([0-9A-Fa-f:]*:[0-9A-Fa-f:.]+)\]`)
	})
	urlRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`https?://[^\s<>"')\]]+`) })
)

// findIP returns the first valid IP address in text: a dotted IPv4 address,
// or an IPv6 address in brackets.
func findIP(text string) string {
	for _, m := range ipv4RE().FindAllStringSubmatch(text, 8) {
		for _, s := range m[1:] {
			if a, err := netip.ParseAddr(s); err == nil && s != "" {
				return a.String()
			}
		}
	}
	return ""
}

func findAddress(text string) string {
	m := addrRE().FindStringSubmatch(text)
	if m == nil {
		return ""
	}
	if m[1] != "" {
		return m[1]
	}
	return m[2]
}

func findDomain(text string) string {
	m := domainRE().FindStringSubmatch(text)
	if m == nil {
		return ""
	}
	return strings.ToLower(m[1])
}

func findURL(text string) string {
	return strings.TrimRight(urlRE().FindString(text), ".,;")
}

// Summary is the diagnosis in a few words, naming the blocklist when known.
func (d *Diagnosis) Summary() string {
	if b := d.Blocklist; b != nil && b.Name != "" {
		return "listed on " + b.Name
	}
	return d.Name
}
