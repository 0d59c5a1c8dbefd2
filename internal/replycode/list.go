package replycode

import (
	"slices"
	"strings"
)

// Entry is one line of "smtpx codes --list": a basic code (or one of its
// extension uses), an enhanced code, or a provider-specific meaning.
type Entry struct {
	Kind      string `json:"kind"`      // basic, enhanced or provider
	Code      string `json:"code"`      // "250", "X.1.1", "X.7.26", "[TSS04]"
	Class     int    `json:"class"`     // first digit of a basic code, else 0
	Group     string `json:"group"`     // the heading it is listed under
	Extension string `json:"extension"` // basic: STARTTLS, AUTH, ETRN or ""
	Provider  string `json:"provider"`  // provider: Gmail, Microsoft 365, Yahoo
	Name      string `json:"name"`
	Meaning   string `json:"meaning"`
	Action    string `json:"action"`
	Reference string `json:"reference"`
	search    string // lower-cased text that Search matches against
}

// List returns every known code: basic codes grouped by class in numeric
// order, enhanced codes by subject, then the provider-specific meanings.
func List() []Entry {
	var out []Entry
	for class := byte('2'); class <= '5'; class++ {
		cw, _ := basicWordsFor(string(class)+"yz", "")
		group := string(class) + "xx " + cw.Name
		var codes []string
		for _, f := range basicFacts {
			if len(f.Code) == 3 && f.Code[0] == class && allDigits(f.Code) && !slices.Contains(codes, f.Code) {
				codes = append(codes, f.Code)
			}
		}
		slices.Sort(codes)
		for _, c := range codes {
			for _, f := range basicFacts {
				if f.Code != c {
					continue
				}
				w, _ := basicWordsFor(f.Code, f.Ext)
				out = append(out, entry(Entry{Kind: "basic", Code: f.Code, Class: int(class - '0'), Group: group,
					Extension: f.Ext, Name: w.Name, Meaning: w.Meaning, Action: w.Action, Reference: f.Ref}, f.Commands))
			}
		}
	}
	for subject := 0; subject <= 7; subject++ {
		key := "X." + string(rune('0'+subject)) + ".YYY"
		sw, _ := enhancedWordsFor(key)
		group := "X." + string(rune('0'+subject)) + ".x " + sw.Name
		for _, f := range enhancedFacts {
			if !strings.HasPrefix(f.Code, "X."+string(rune('0'+subject))+".") || strings.HasSuffix(f.Code, "YYY") {
				continue
			}
			w, _ := enhancedWordsFor(f.Code)
			out = append(out, entry(Entry{Kind: "enhanced", Code: f.Code, Group: group,
				Name: w.Name, Meaning: w.Meaning, Action: w.Action, Reference: f.Ref}, f.Registry+" "+f.Basic))
		}
	}
	for i := range providerRules {
		r := &providerRules[i]
		out = append(out, entry(Entry{Kind: "provider", Code: r.label(), Group: "provider-specific (recognised from the reply text)",
			Provider: r.Provider, Name: r.Name, Meaning: r.Meaning, Action: r.Fix, Reference: r.Source}, r.ID))
	}
	return out
}

func entry(e Entry, extra string) Entry {
	e.search = strings.ToLower(strings.Join([]string{e.Code, e.Extension, e.Provider, e.Name, e.Meaning, e.Action, e.Reference, extra}, " "))
	return e
}

// Search returns the entries of List whose code, name, meaning, advice,
// commands or references contain every word of query, ignoring case.
func Search(query string) []Entry {
	words := strings.Fields(strings.ToLower(query))
	var out []Entry
	for _, e := range List() {
		ok := len(words) > 0
		for _, w := range words {
			if !strings.Contains(e.search, w) {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, e)
		}
	}
	return out
}

// label is how a provider rule is listed: its codes, or its text tags.
func (r *providerRule) label() string {
	if r.Label != "" {
		return r.Label
	}
	if len(r.Codes) > 0 {
		return strings.Join(r.Codes, " ")
	}
	var tags []string
	for _, w := range r.Words {
		if strings.HasPrefix(w, "[") {
			t := strings.ToUpper(w)
			if !strings.HasSuffix(t, "]") {
				t += "nn]"
			}
			tags = append(tags, t)
		}
	}
	if len(tags) > 0 {
		return strings.Join(tags, " ")
	}
	return "(text)"
}
