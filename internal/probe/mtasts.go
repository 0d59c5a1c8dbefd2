package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/smtpx/smtpx/internal/route"
)

// MaxPolicySize caps the MTA-STS policy body; RFC 8461 §3.3 suggests
// senders limit it, and 64 KiB is far above any real policy.
const MaxPolicySize = 64 << 10

// MaxPolicyAge is the largest max_age RFC 8461 §3.2 allows: one year.
const MaxPolicyAge = 31557600

// Policy is a parsed MTA-STS policy (RFC 8461 §3.2).
type Policy struct {
	Version string   `json:"version"`
	Mode    string   `json:"mode"`
	MaxAge  int64    `json:"max_age"`
	MX      []string `json:"mx"`
}

// ParseSTSRecord reads the _mta-sts TXT records (RFC 8461 §3.1): exactly
// one must start with "v=STSv1", and it must carry an id of 1 to 32
// letters and digits. It returns that record and its id.
func ParseSTSRecord(txts []string) (record, id string, err error) {
	var recs []string
	for _, t := range txts {
		if strings.HasPrefix(t, "v=STSv1") {
			recs = append(recs, t)
		}
	}
	switch len(recs) {
	case 0:
		return "", "", errNone
	case 1:
	default:
		return recs[0], "", fmt.Errorf("%d records start with v=STSv1; senders treat that as no policy", len(recs))
	}
	record = recs[0]
	fields := splitFields(record, ';')
	if len(fields) == 0 || fields[0] != "v=STSv1" {
		return record, "", fmt.Errorf("the record must start with the field v=STSv1")
	}
	for _, f := range fields[1:] {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return record, "", fmt.Errorf("field %q is not name=value", f)
		}
		if k == "id" {
			if id != "" {
				return record, "", fmt.Errorf("the id field appears twice")
			}
			if len(v) < 1 || len(v) > 32 || !alnum(v) {
				return record, "", fmt.Errorf("id %q is not 1 to 32 letters and digits", v)
			}
			id = v
		}
	}
	if id == "" {
		return record, "", fmt.Errorf("the record has no id field")
	}
	return record, id, nil
}

// errNone means no record is published.
var errNone = errors.New("not published")

func alnum(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// splitFields splits "a; b ;c;" on sep, trimming spaces and dropping a
// trailing empty field.
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

// ParsePolicy reads a policy body (RFC 8461 §3.2): "key: value" lines
// ended by CRLF or LF. version, mode and max_age are required, and at
// least one mx unless the mode is none. Unknown keys are ignored.
func ParsePolicy(body string) (*Policy, error) {
	p := &Policy{MaxAge: -1}
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
	case p.MaxAge > MaxPolicyAge:
		return p, fmt.Errorf("max_age %d is over the limit of %d seconds (one year)", p.MaxAge, MaxPolicyAge)
	case len(p.MX) == 0 && p.Mode != "none":
		return p, fmt.Errorf("mode %s needs at least one mx line", p.Mode)
	}
	return p, nil
}

// Matches reports whether host matches one of the policy's mx patterns
// (RFC 8461 §4.1): exactly, or "*.example.com" for one extra leftmost
// label.
func (p *Policy) Matches(host string) bool {
	return p.Match(host) != ""
}

// Match returns the pattern host matches, "" for none.
func (p *Policy) Match(host string) string {
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

// policyURL is where a domain's policy lives (RFC 8461 §3.3).
func policyURL(domain string, port int) string {
	h := "mta-sts." + domain
	if port != 0 && port != 443 {
		h = net.JoinHostPort(h, strconv.Itoa(port))
	}
	return "https://" + h + "/.well-known/mta-sts.txt"
}

// fetchPolicy gets the policy body over HTTPS (RFC 8461 §3.3): the
// certificate must be valid for mta-sts.DOMAIN, redirects are not
// followed, only 200 with text/plain counts, and the body is capped.
// Names are resolved through the probe's resolver so that --dns-server
// applies here too; no proxy is used, for the same reason.
func fetchPolicy(ctx context.Context, res *route.Resolver, domain string, port int, roots *x509.CertPool, timeout time.Duration) (string, error) {
	if port == 0 {
		port = 443
	}
	host := "mta-sts." + domain
	dialer := &net.Dialer{Timeout: timeout}
	tr := &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			h, err := res.LookupHost(ctx, host)
			if err != nil {
				return nil, err
			}
			var last error
			for _, a := range append(append([]netip.Addr(nil), h.IPv4...), h.IPv6...) {
				c, err := dialer.DialContext(ctx, "tcp", netip.AddrPortFrom(a, uint16(port)).String())
				if err == nil {
					return c, nil
				}
				last = err
			}
			return nil, last
		},
		TLSClientConfig:        &tls.Config{RootCAs: roots, ServerName: host, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    timeout,
		ResponseHeaderTimeout:  timeout,
		DisableKeepAlives:      true,
		MaxResponseHeaderBytes: 64 << 10,
	}
	defer tr.CloseIdleConnections()
	cl := &http.Client{
		Transport: tr,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, policyURL(domain, port), nil)
	if err != nil {
		return "", err
	}
	resp, err := cl.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "", fmt.Errorf("fetch failed: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return "", fmt.Errorf("the server redirects (HTTP %d to %q); RFC 8461 §3.3 forbids following it", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("HTTP %d, not 200", resp.StatusCode)
	}
	ct := resp.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != "text/plain" {
		return "", fmt.Errorf("media type is %q, not text/plain", ct)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxPolicySize+1))
	if err != nil {
		return "", fmt.Errorf("reading the policy: %w", err)
	}
	if len(body) > MaxPolicySize {
		return "", fmt.Errorf("the policy is larger than %d bytes", MaxPolicySize)
	}
	return string(body), nil
}
