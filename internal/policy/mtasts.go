package policy

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// MaxSTSAge is the largest max_age RFC 8461 §3.2 allows: one year.
const MaxSTSAge = 31557600

// STS is a parsed MTA-STS policy (RFC 8461 §3.2).
type STS struct {
	Version string   `json:"version"`
	Mode    string   `json:"mode"`
	MaxAge  int64    `json:"max_age"`
	MX      []string `json:"mx"`
}

// ParseSTSRecord reads the _mta-sts TXT answers (RFC 8461 §3.1): exactly
// one must start with "v=STSv1", and it must carry an id of 1 to 32
// letters and digits. It returns the record and, when it is usable, its
// id.
func ParseSTSRecord(txts []string) (Record, string) {
	var recs []string
	for _, t := range txts {
		if strings.HasPrefix(t, "v=STSv1") {
			recs = append(recs, t)
		}
	}
	if len(recs) == 0 {
		return Record{}, ""
	}
	r := Record{Published: true, Text: recs[0]}
	if len(recs) > 1 {
		r.Err = fmt.Errorf("%d records start with v=STSv1; senders treat that as no policy", len(recs))
		return r, ""
	}
	id, err := stsID(r.Text)
	r.Err = err
	return r, id
}

// stsID checks the fields of one v=STSv1 record and returns its id.
func stsID(record string) (string, error) {
	fields := splitFields(record, ';')
	if len(fields) == 0 || fields[0] != "v=STSv1" {
		return "", fmt.Errorf("the record must start with the field v=STSv1")
	}
	id := ""
	for _, f := range fields[1:] {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return "", fmt.Errorf("field %q is not name=value", f)
		}
		if k == "id" {
			if id != "" {
				return "", fmt.Errorf("the id field appears twice")
			}
			if len(v) < 1 || len(v) > 32 || !alnum(v) {
				return "", fmt.Errorf("id %q is not 1 to 32 letters and digits", v)
			}
			id = v
		}
	}
	if id == "" {
		return "", fmt.Errorf("the record has no id field")
	}
	return id, nil
}

func alnum(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// ParseSTS reads a policy body (RFC 8461 §3.2): "key: value" lines ended
// by CRLF or LF. version, mode and max_age are required, and at least one
// mx unless the mode is none. Unknown keys are ignored. With an error, the
// policy read so far is returned too (nil when a line does not parse).
func ParseSTS(body string) (*STS, error) {
	p := &STS{MaxAge: -1}
	seen := map[string]bool{}
	for i, line := range strings.Split(body, "\n") {
		line = strings.TrimSuffix(line, "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("line %d is not key: value", i+1)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if k != "mx" && seen[k] {
			// RFC 8461 §3.2: only the first occurrence of a key counts.
			continue
		}
		seen[k] = true
		switch k {
		case "version":
			p.Version = v
		case "mode":
			p.Mode = v
		case "max_age":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 || len(v) > 10 {
				return nil, fmt.Errorf("max_age %q is not a number of seconds", v)
			}
			p.MaxAge = n
		case "mx":
			if v == "" || strings.ContainsAny(v, " \t") {
				return nil, fmt.Errorf("mx %q is not a host name pattern", v)
			}
			p.MX = append(p.MX, strings.ToLower(strings.TrimSuffix(v, ".")))
		}
	}
	switch {
	case p.Version != "STSv1":
		return p, fmt.Errorf("version is %q, not STSv1", p.Version)
	case p.Mode != "enforce" && p.Mode != "testing" && p.Mode != "none":
		return p, fmt.Errorf("mode %q is not enforce, testing or none", p.Mode)
	case p.MaxAge < 0:
		return p, fmt.Errorf("max_age is missing")
	case p.MaxAge > MaxSTSAge:
		return p, fmt.Errorf("max_age %d is over the limit of %d seconds (one year)", p.MaxAge, MaxSTSAge)
	case len(p.MX) == 0 && p.Mode != "none":
		return p, fmt.Errorf("mode %s needs at least one mx line", p.Mode)
	}
	return p, nil
}

// Match returns the mx pattern host matches (RFC 8461 §4.1), "" for none:
// a pattern matches the host exactly, or "*.example.com" matches one extra
// leftmost label. Case and a trailing dot do not count.
func (p *STS) Match(host string) string {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, pat := range p.MX {
		if rest, ok := strings.CutPrefix(pat, "*."); ok {
			label, parent, found := strings.Cut(host, ".")
			if found && label != "" && parent == rest {
				return pat
			}
			continue
		}
		if pat == host {
			return pat
		}
	}
	return ""
}

// STSURL is where a domain's policy lives (RFC 8461 §3.3); port 0 or 443
// gives the standard URL, any other port (for tests) is named in it.
func STSURL(domain string, port int) string {
	h := "mta-sts." + domain
	if port != 0 && port != 443 {
		h = net.JoinHostPort(h, strconv.Itoa(port))
	}
	return "https://" + h + "/.well-known/mta-sts.txt"
}
