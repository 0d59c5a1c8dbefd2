package session

import (
	"encoding/base64"
	"strings"
)

// Redacted stands for a secret the server repeated.
const Redacted = "********"

// minEncoded is the shortest base64 form of a secret that is searched for:
// shorter fragments would hide ordinary text by chance.
const minEncoded = 4

// SecretHolder is implemented by SASL clients that can say what is secret
// about them. Auth hides those values wherever the server repeats them
// (many servers echo what they could not decode), raw and in base64.
// Without it, Auth hides the payloads it sent, raw and in base64.
type SecretHolder interface {
	// Secrets returns the credentials behind the payloads: a password, a
	// token. Empty strings are ignored.
	Secrets() []string
	// User returns the user name. A payload that is only the user name
	// (LOGIN sends it on its own) is hidden in its base64 form alone: the
	// name is not secret, and the transcript shows it in MAIL FROM anyway.
	User() string
}

// redactor hides known secrets in what the server says. The zero value
// hides nothing and costs one length check per line.
type redactor struct {
	forms []string // the strings to hide
	seen  map[string]bool
}

func (r *redactor) add(form string, min int) {
	if len(form) < min || r.seen[form] {
		return
	}
	if r.seen == nil {
		r.seen = map[string]bool{}
	}
	r.seen[form] = true
	r.forms = append(r.forms, form)
}

// addSecret registers a credential: as it is, base64-encoded on its own,
// and base64-encoded inside a longer payload (PLAIN's "\0user\0password"),
// where its encoding depends on where it starts in a 3-byte group. For
// each of the three alignments, the characters that depend on the
// credential alone are registered, so an echo of any base64 string that
// contains it is caught.
func (r *redactor) addSecret(v string) {
	if v == "" {
		return
	}
	r.add(v, 1)
	r.addEncoded(v)
	for k := 0; k < 3; k++ {
		r.add(innerBase64(v, k), minEncoded)
	}
}

// addPayload registers a payload sent in AUTH: base64-encoded as it went
// on the wire, and raw unless raw is false.
func (r *redactor) addPayload(p []byte, raw bool) {
	if len(p) == 0 {
		return
	}
	if raw {
		r.add(string(p), 1)
	}
	r.addEncoded(string(p))
}

func (r *redactor) addEncoded(v string) {
	r.add(base64.StdEncoding.EncodeToString([]byte(v)), minEncoded)
	r.add(base64.RawStdEncoding.EncodeToString([]byte(v)), minEncoded)
}

// innerBase64 returns the part of the base64 encoding of v that depends on
// v alone when v starts at byte k (0, 1 or 2) of a 3-byte group: character
// i of an encoding carries bits 6i to 6i+5, and v's bits are 8k to
// 8(k+len(v))-1.
func innerBase64(v string, k int) string {
	enc := base64.RawStdEncoding.EncodeToString(append(make([]byte, k, k+len(v)), v...))
	from, to := (8*k+5)/6, 8*(k+len(v))/6
	if to <= from {
		return ""
	}
	return enc[from:to]
}

// line hides the secrets in a reply line. The reply code, its separator
// and an enhanced status code are kept, so the line parses as before;
// the result is cut to limit bytes, so the line-length bound still holds
// when a short secret gives way to the longer Redacted. cut says the line
// ended early (too long, connection lost): a secret whose beginning is at
// its end is hidden too.
func (r *redactor) line(s string, cut bool, limit int) string {
	if len(r.forms) == 0 {
		return s
	}
	keep := protocolFields(s)
	text := r.text(s[keep:], cut)
	if len(text) == len(s)-keep && text == s[keep:] {
		return s // nothing hidden: no copy
	}
	out := s[:keep] + text
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

// protocolFields returns the length of the reply code, separator and
// enhanced status code at the start of a reply line, 0 when it has none.
func protocolFields(s string) int {
	if len(s) < 3 {
		return 0
	}
	for i := 0; i < 3; i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0
		}
	}
	if len(s) == 3 || s[3] != ' ' && s[3] != '-' {
		return 3
	}
	if e, _, ok := SplitEnhanced(s[4:]); ok {
		return 4 + len(e)
	}
	return 4
}

// text replaces every occurrence of every registered form in s, each
// maximal run of hidden bytes by one Redacted.
func (r *redactor) text(s string, cut bool) string {
	if len(r.forms) == 0 || s == "" {
		return s
	}
	var hide []bool
	mark := func(from, to int) {
		if hide == nil {
			hide = make([]bool, len(s))
		}
		for i := from; i < to; i++ {
			hide[i] = true
		}
	}
	for _, f := range r.forms {
		// Occurrences may overlap ("abab" twice in "ababab"): search again
		// one byte on, marking only what the last match did not cover.
		covered := 0
		for i := 0; i < len(s); {
			j := strings.Index(s[i:], f)
			if j < 0 {
				break
			}
			at := i + j
			mark(max(at, covered), at+len(f))
			covered = at + len(f)
			i = at + 1
		}
		if cut {
			for n := min(len(f)-1, len(s)); n > 0; n-- {
				if s[len(s)-n] == f[0] && strings.HasSuffix(s, f[:n]) {
					mark(len(s)-n, len(s))
					break
				}
			}
		}
	}
	if hide == nil {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if !hide[i] {
			j := i
			for j < len(s) && !hide[j] {
				j++
			}
			b.WriteString(s[i:j])
			i = j
			continue
		}
		b.WriteString(Redacted)
		for i < len(s) && hide[i] {
			i++
		}
	}
	return b.String()
}
