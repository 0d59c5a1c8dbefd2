package session

import (
	"strconv"
	"strings"
)

// Extension is one EHLO keyword with its parameters (RFC 5321 §4.1.1.1).
type Extension struct {
	Keyword string   `json:"keyword"` // upper-cased
	Params  []string `json:"params"`
}

// Extensions is an EHLO extension list in the order the server sent it.
type Extensions []Extension

// ParseEHLO reads the extension list from an EHLO reply: every line after
// the first (which carries the server's domain) is a keyword and parameters.
// Empty lines, such as Postfix smtp-sink's final "250 ", are skipped.
func ParseEHLO(r *Reply) Extensions {
	if r == nil || len(r.Lines) < 2 {
		return Extensions{}
	}
	out := make(Extensions, 0, len(r.Lines)-1)
	for _, l := range r.Lines[1:] {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		kw := strings.ToUpper(f[0])
		// Old servers write "AUTH=LOGIN PLAIN"; treat it as AUTH with params.
		if k, v, ok := strings.Cut(kw, "="); ok && k == "AUTH" {
			params := append([]string{}, f[1:]...)
			if v != "" {
				params = append([]string{v}, params...)
			}
			out = append(out, Extension{Keyword: "AUTH=", Params: params})
			continue
		}
		out = append(out, Extension{Keyword: kw, Params: append([]string{}, f[1:]...)})
	}
	return out
}

// Get returns the extension named kw, case-insensitively.
func (e Extensions) Get(kw string) (Extension, bool) {
	for _, x := range e {
		if strings.EqualFold(x.Keyword, kw) {
			return x, true
		}
	}
	return Extension{}, false
}

// Has reports whether kw was advertised.
func (e Extensions) Has(kw string) bool { _, ok := e.Get(kw); return ok }

// Size returns the SIZE limit in bytes (RFC 1870). ok is false when SIZE is
// not advertised or its parameter is not a number; 0 means no fixed limit.
func (e Extensions) Size() (n uint64, ok bool) {
	x, found := e.Get("SIZE")
	if !found {
		return 0, false
	}
	if len(x.Params) == 0 {
		return 0, true
	}
	v, err := strconv.ParseUint(x.Params[0], 10, 64)
	if err != nil {
		return 0, false
	}
	return v, true
}

// AuthMechanisms lists the SASL mechanisms from AUTH (and the legacy AUTH=
// form), upper-cased, without duplicates.
func (e Extensions) AuthMechanisms() []string {
	var out []string
	seen := map[string]bool{}
	for _, x := range e {
		if x.Keyword != "AUTH" && x.Keyword != "AUTH=" {
			continue
		}
		for _, p := range x.Params {
			p = strings.ToUpper(p)
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	return out
}

// Keywords returns the keywords in order.
func (e Extensions) Keywords() []string {
	out := make([]string, len(e))
	for i, x := range e {
		out[i] = x.Keyword
	}
	return out
}
