package policy

import (
	"fmt"
	"strings"
)

// Record is what the TXT answers at a policy's name say about one kind of
// record (MTA-STS, TLS-RPT, SPF, DMARC). Every parser here returns one, so
// callers report all of them the same way.
type Record struct {
	// Published is set when at least one answer is a record of this kind.
	Published bool
	// Text is the record; the first one when there are several.
	Text string
	// Tags are the record's name=value tags, names in lower case (TLS-RPT
	// and DMARC); those read before a syntax error are kept.
	Tags map[string]string
	// Err says why a published record is unusable; nil when it is usable
	// or nothing is published.
	Err error
}

// pick keeps the answers that start with prefix; exactly one must remain.
func pick(txts []string, prefix string) (Record, bool) {
	var recs []string
	for _, x := range txts {
		if strings.HasPrefix(x, prefix) {
			recs = append(recs, x)
		}
	}
	if len(recs) == 0 {
		return Record{}, false
	}
	r := Record{Published: true, Text: recs[0]}
	if len(recs) > 1 {
		r.Err = fmt.Errorf("%d records start with %s; receivers treat that as none", len(recs), prefix)
		return r, false
	}
	return r, true
}

// pickTagged picks the one record starting with prefix and reads its
// tags; ok is false when there is nothing further to check.
func pickTagged(txts []string, prefix string) (r Record, ok bool) {
	if r, ok = pick(txts, prefix); !ok {
		return r, false
	}
	r.Tags, r.Err = tagged(r.Text)
	return r, r.Err == nil
}

// tagged parses "k=v; k=v" records, which all start with a version tag.
func tagged(rec string) (map[string]string, error) {
	tags := map[string]string{}
	for _, f := range splitFields(rec, ';') {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return tags, fmt.Errorf("tag %q is not name=value", f)
		}
		k = strings.ToLower(strings.TrimSpace(k))
		if _, dup := tags[k]; dup {
			return tags, fmt.Errorf("tag %s appears twice", k)
		}
		tags[k] = strings.TrimSpace(v)
	}
	return tags, nil
}

// splitFields splits "a; b ;c;" on sep, trimming spaces and dropping
// empty fields.
func splitFields(s string, sep byte) []string {
	var out []string
	for _, f := range strings.Split(s, string(sep)) {
		f = strings.TrimSpace(f)
		if f != "" {
			out = append(out, f)
		}
	}
	return out
}
