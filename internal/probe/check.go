package probe

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/session"
)

// Status is the verdict of one check.
type Status string

// The statuses, from good to bad; Info is a fact without a verdict.
const (
	Pass Status = "pass"
	Info Status = "info"
	Warn Status = "warn"
	Fail Status = "fail"
)

// Check is one finding: a stable id, a verdict, a one-line summary for
// people and the evidence behind it for machines.
type Check struct {
	ID      string `json:"id"`
	Status  Status `json:"status"`
	Summary string `json:"summary"`
	// Evidence holds the facts the verdict rests on, keyed in snake_case.
	Evidence map[string]any `json:"evidence,omitempty"`
	// Exit is the status this check alone gives smtpx: 0 unless it failed
	// (or warned under --fail-on warn, or was ignored with --ignore).
	Exit int `json:"exit"`
	// Ignored is set when --ignore named the check: it is reported but
	// does not count towards the exit status.
	Ignored bool `json:"ignored,omitempty"`
	// Hint says how to fix a failure, when there is something to say.
	Hint string `json:"hint,omitempty"`
	// Details are extra lines for the human report (a certificate chain,
	// an extension list). They repeat the evidence, so JSON leaves them out.
	Details []string `json:"-"`
	// Err is the error behind a failure, for the hint of the final error.
	Err error `json:"-"`
	// code is the exit status a failure stands for; 0 means exitcode.Check.
	code int
}

// checkList collects checks in the order they are made.
type checkList []*Check

func (l *checkList) add(id string, st Status, summary string, ev map[string]any) *Check {
	c := &Check{ID: id, Status: st, Summary: summary, Evidence: ev}
	*l = append(*l, c)
	return c
}

func (l *checkList) addf(id string, st Status, ev map[string]any, format string, a ...any) *Check {
	return l.add(id, st, fmt.Sprintf(format, a...), ev)
}

// fail records a failed check standing for exit status code.
func (l *checkList) fail(id string, code int, summary string, ev map[string]any) *Check {
	c := l.add(id, Fail, summary, ev)
	c.code = code
	return c
}

// failErr records a failed check for a dialogue error, with the exit status
// the error maps to.
func (l *checkList) failErr(id string, err error, ev map[string]any) *Check {
	text := errText(err)
	var se *session.Error
	if errors.As(err, &se) && strings.EqualFold(se.Op, id) {
		text = strings.TrimPrefix(text, se.Op+": ")
	}
	c := l.fail(id, exitcode.For(err), text, ev)
	c.Err = err
	return c
}

// errText is an error's message without the noise of its innermost
// cause: a timeout or end of stream is already said in words, and a
// system call error needs only its last part.
func errText(err error) string {
	var se *session.Error
	if !errors.As(err, &se) || se.Msg == "" || se.Err == nil {
		return err.Error()
	}
	var ne net.Error
	if errors.As(se.Err, &ne) && ne.Timeout() || errors.Is(se.Err, io.EOF) {
		return se.Op + ": " + se.Msg
	}
	var oe *net.OpError
	if errors.As(se.Err, &oe) && oe.Err != nil {
		return se.Op + ": " + se.Msg + ": " + oe.Err.Error()
	}
	return err.Error()
}

// ev builds an evidence map from key, value pairs.
func ev(kv ...any) map[string]any {
	m := make(map[string]any, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

// gate sets c.Exit from its status and the gating options.
func (c *Check) gate(g gates) {
	c.Exit = 0
	if g.ignored(c.ID) {
		c.Ignored = c.Status == Fail || c.Status == Warn
		return
	}
	switch c.Status {
	case Fail:
		c.Exit = c.code
		if c.Exit == 0 {
			c.Exit = exitcode.Check
		}
	case Warn:
		if g.failOnWarn || g.failsOn(c.ID) {
			c.Exit = exitcode.Check
		}
	}
}

// gates are the options that turn checks into an exit status.
type gates struct {
	failOnWarn bool
	failOn     []string // ids whose warnings fail (--fail-on ID)
	ignore     []string
}

// failsOn reports whether --fail-on names id: exactly, as its family
// (tls.legacy for tls.legacy.1_0) or by a "prefix.*" pattern.
func (g gates) failsOn(id string) bool {
	for _, p := range g.failOn {
		if pre, ok := strings.CutSuffix(p, "*"); ok && strings.HasPrefix(id, pre) {
			return true
		}
		if p == id || strings.HasPrefix(id, p+".") {
			return true
		}
	}
	return false
}

// ignored reports whether --ignore names id, exactly or by a "prefix.*"
// pattern.
func (g gates) ignored(id string) bool {
	for _, p := range g.ignore {
		if p == id {
			return true
		}
		if pre, ok := strings.CutSuffix(p, "*"); ok && strings.HasPrefix(id, pre) {
			return true
		}
	}
	return false
}

// IDs are the stable check ids, in report order, with what each looks at.
// Ids ending in "." are families: "require." is followed by the extension
// keyword in lower case (require.starttls), "ehlo." by a keyword from
// Keywords.
var IDs = []struct{ ID, Scope, About string }{
	{"dns.mx", "domain", "MX hosts by preference; the implicit MX; a null MX (RFC 7505)"},
	{"dns.mx.addresses", "domain", "every MX host has an address"},
	{"mta_sts.record", "domain", "the _mta-sts TXT record (RFC 8461 §3.1)"},
	{"mta_sts.policy", "domain", "the HTTPS policy: fetched, parsed, its mode and max_age (RFC 8461 §3.2, §3.3)"},
	{"mta_sts.mx", "domain", "every MX matches a policy pattern and presents a valid certificate (RFC 8461 §4)"},
	{"tls_rpt.record", "domain", "the _smtp._tls TXT record (RFC 8460 §3)"},
	{"spf.record", "domain", "the SPF record is present and parses (RFC 7208)"},
	{"dmarc.record", "domain", "the DMARC record is present and parses (RFC 7489)"},
	{"dns.host", "target", "the target host name resolves (HOST:PORT targets)"},
	{"probe.limit", "target", "more endpoints than the probe talks to (64); the first ones by MX preference are probed"},
	{"connect", "endpoint", "TCP connection and its time"},
	{"banner", "endpoint", "the greeting: 220, or a 4xx/5xx refusal"},
	{"banner.delay", "endpoint", "time to the greeting; a greet pause or tarpit"},
	{"ehlo", "endpoint", "EHLO accepted (HELO fallback is a warning)"},
	{"ehlo.extensions", "endpoint", "every keyword the server advertised, with parameters"},
	{"ehlo.", "endpoint", "one check per notable extension: advertised or not"},
	{"auth.tls", "endpoint", "AUTH only after TLS; PLAIN/LOGIN in clear text on a submission port (RFC 8314)"},
	{"tls.starttls", "endpoint", "STARTTLS offered and accepted (RFC 3207), or implicit TLS"},
	{"tls.handshake", "endpoint", "the TLS handshake and its time"},
	{"tls.version", "endpoint", "the negotiated TLS version against --tls-min"},
	{"tls.cipher", "endpoint", "the cipher suite"},
	{"tls.group", "endpoint", "the key exchange group"},
	{"tls.cert.chain", "endpoint", "the certificates as sent: subject, issuer, SANs, validity, key, signature"},
	{"tls.cert.verify", "endpoint", "the chain verifies for the host name against the system roots or --ca-file"},
	{"tls.cert.expiry", "endpoint", "days until the certificate expires (--cert-days; a warning under 30)"},
	{"tls.ocsp", "endpoint", "an OCSP response was stapled"},
	{"ehlo.tls", "endpoint", "EHLO after TLS"},
	{"ehlo.tls.diff", "endpoint", "what TLS changed in the extension list"},
	{"tls.starttls.again", "endpoint", "STARTTLS is not advertised again inside TLS (RFC 3207 §4.2)"},
	{"require.", "endpoint", "an extension named by --require is advertised"},
	{"dns.ptr", "endpoint", "reverse DNS of the address, forward-confirmed, against the banner and EHLO names"},
	{"dane.tlsa", "endpoint", "TLSA records for _PORT._tcp.HOST and their DNSSEC status (RFC 7672)"},
	{"dane.match", "endpoint", "a usable TLSA record matches the presented chain"},
	{"size.enforced", "endpoint", "--check-size: MAIL with SIZE over the advertised limit is refused"},
	{"vrfy.disclosure", "endpoint", "--check-vrfy: VRFY does not confirm users"},
	{"expn.disclosure", "endpoint", "--check-vrfy: EXPN does not expand lists"},
	{"relay.foreign_rcpt", "endpoint", "--check-relay: RCPT for a foreign domain is refused"},
	{"tls.injection", "endpoint", "--check-injection: commands sent before the handshake are not executed inside TLS"},
	{"tls.versions", "endpoint", "--check-tls, --check-legacy-tls: the TLS versions (1.0-1.3) the server accepts, one handshake each"},
	{"tls.legacy.1_0", "endpoint", "--check-tls, --check-legacy-tls: TLS 1.0 is refused (RFC 8996)"},
	{"tls.legacy.1_1", "endpoint", "--check-tls, --check-legacy-tls: TLS 1.1 is refused (RFC 8996)"},
	{"tls.tls13", "endpoint", "--check-tls, --require-tls13: TLS 1.3 is accepted (RFC 8446)"},
	{"tls.ciphers", "endpoint", "--check-tls: each TLS 1.0-1.2 cipher suite Go can offer, accepted or not; weak ones warn"},
	{"tls.resumption", "endpoint", "a later connection resumes the TLS session (--count 2 or more)"},
	{"timing", "endpoint", "min/median/max per phase over --count dialogues"},
}

// Keywords are the extensions that get their own ehlo.KEYWORD check, in
// report order. The id is the keyword in lower case with "-" as "_".
var Keywords = []string{
	"PIPELINING", "SIZE", "8BITMIME", "SMTPUTF8", "CHUNKING", "BINARYMIME", "DSN",
	"ENHANCEDSTATUSCODES", "AUTH", "REQUIRETLS", "DELIVERBY", "MT-PRIORITY", "LIMITS",
}

// KeywordID is the check id of an extension keyword: ehlo.mt_priority.
func KeywordID(prefix, kw string) string {
	return prefix + strings.ReplaceAll(strings.ToLower(kw), "-", "_")
}

// KnownID reports whether id (or a "prefix.*" pattern) names a check, for
// validating --ignore.
func KnownID(id string) bool {
	pre, wild := strings.CutSuffix(id, "*")
	for _, x := range IDs {
		switch {
		case wild && (strings.HasPrefix(x.ID, pre) || strings.HasPrefix(pre, x.ID) && strings.HasSuffix(x.ID, ".")):
			return true
		case !wild && x.ID == id && !strings.HasSuffix(id, "."):
			return true
		case !wild && strings.HasSuffix(x.ID, ".") && strings.HasPrefix(id, x.ID) && len(id) > len(x.ID):
			return true
		}
	}
	return false
}
