package policy

import (
	"fmt"
	"net/netip"
	"strings"
)

// ParseSPF reads a domain's TXT answers for its SPF record (RFC 7208
// §4.5): the answers that are "v=spf1" alone or followed by a space are
// SPF records, more than one is a permanent error, and the one must pass
// CheckSPF.
func ParseSPF(txts []string) Record {
	var recs []string
	for _, x := range txts {
		if len(x) >= 6 && strings.EqualFold(x[:6], "v=spf1") && (len(x) == 6 || x[6] == ' ') {
			recs = append(recs, x)
		}
	}
	if len(recs) == 0 {
		return Record{}
	}
	r := Record{Published: true, Text: recs[0]}
	if len(recs) > 1 {
		r.Err = fmt.Errorf("%d SPF records: a permanent error (RFC 7208 §4.5)", len(recs))
		return r
	}
	r.Err = CheckSPF(recs[0])
	return r
}

// CheckSPF checks one SPF record's syntax (RFC 7208 §4.6.1, §12): known
// mechanisms with valid arguments, modifiers at most once, and at most ten
// terms that cost a DNS lookup (§4.6.4, counted at the top level only).
func CheckSPF(rec string) error {
	terms := strings.Fields(rec)
	if len(terms) == 0 || !strings.EqualFold(terms[0], "v=spf1") {
		return fmt.Errorf("the record must start with v=spf1")
	}
	lookups := 0
	mods := map[string]bool{}
	for _, term := range terms[1:] {
		if name, _, ok := strings.Cut(term, "="); ok && !strings.ContainsAny(name, ":/") {
			name = strings.ToLower(name)
			if name == "" || !isSPFName(name) {
				return fmt.Errorf("modifier %q has a bad name", term)
			}
			if (name == "redirect" || name == "exp") && mods[name] {
				return fmt.Errorf("%s= appears twice", name)
			}
			mods[name] = true
			if name == "redirect" {
				lookups++
			}
			continue
		}
		t := term
		if strings.ContainsAny(t[:1], "+-~?") {
			t = t[1:]
		}
		mech, arg, hasArg := strings.Cut(t, ":")
		cidr := ""
		if !hasArg {
			mech, cidr, _ = strings.Cut(t, "/")
		}
		mech = strings.ToLower(mech)
		switch mech {
		case "all":
			if hasArg || cidr != "" {
				return fmt.Errorf("%q: all takes no argument", term)
			}
		case "include", "exists":
			if !hasArg || arg == "" {
				return fmt.Errorf("%q: %s needs a domain", term, mech)
			}
			lookups++
		case "a", "mx", "ptr":
			lookups++
		case "ip4", "ip6":
			if !hasArg {
				return fmt.Errorf("%q: %s needs an address", term, mech)
			}
			a, err := netip.ParsePrefix(arg)
			if err != nil {
				a2, e2 := netip.ParseAddr(arg)
				if e2 != nil {
					return fmt.Errorf("%q: %q is not an address or network", term, arg)
				}
				a = netip.PrefixFrom(a2, a2.BitLen())
			}
			if mech == "ip4" != a.Addr().Is4() {
				return fmt.Errorf("%q: the address family does not match %s", term, mech)
			}
		default:
			return fmt.Errorf("unknown mechanism %q", term)
		}
	}
	if lookups > 10 {
		return fmt.Errorf("%d terms need DNS lookups; the limit is 10 (RFC 7208 §4.6.4)", lookups)
	}
	return nil
}

// isSPFName reports whether s is a modifier name (RFC 7208 §12: ALPHA
// followed by ALPHA, DIGIT, "-", "_" or "."), already lower-cased.
func isSPFName(s string) bool {
	for i, r := range s {
		ok := r >= 'a' && r <= 'z' || i > 0 && (r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.')
		if !ok {
			return false
		}
	}
	return true
}
