package probe

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/smtpx/smtpx/internal/session"
	"github.com/smtpx/smtpx/internal/transcript"
)

// scanVersions are the versions --check-tls (and --check-legacy-tls)
// try, one handshake each, oldest first.
var scanVersions = []uint16{tls.VersionTLS10, tls.VersionTLS11, tls.VersionTLS12, tls.VersionTLS13}

// scanSuites are the TLS 1.0-1.2 cipher suites Go can offer, secure ones
// first; --check-tls tries each alone. TLS 1.3 suites cannot be chosen
// one by one in Go: the 1.3 handshake reports the one the server picked.
func scanSuites() []*tls.CipherSuite {
	var out []*tls.CipherSuite
	for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		if !slices.Contains(s.SupportedVersions, tls.VersionTLS13) {
			out = append(out, s)
		}
	}
	return out
}

// outcome is what one test handshake showed.
type outcome int

const (
	accepted     outcome = iota // the handshake completed
	refused                     // the server ended the handshake: not offered
	inconclusive                // the test never got as far as the handshake
)

// tryHandshake opens a test connection and completes a TLS handshake with
// cfg, through STARTTLS unless the endpoint is implicit TLS. why is what
// stopped an inconclusive try.
func (pr *prober) tryHandshake(ctx context.Context, ep *Endpoint, c *conv, cfg *tls.Config, what string, rec *transcript.Recorder) (st *tls.ConnectionState, o outcome, why string) {
	isRefusal := func(err error) bool {
		var se *session.Error
		return errors.As(err, &se) && se.Kind == session.KindTLS && se.Op == "TLS"
	}
	s, err := session.Dial(ctx, pr.sessionOptions(ep, rec.Observe, cfg, testVerdict(what)))
	if err != nil {
		if isRefusal(err) {
			return nil, refused, err.Error()
		}
		return nil, inconclusive, errText(err)
	}
	defer s.Close()
	if !ep.Implicit {
		if _, err := s.ReadBanner(); err != nil {
			return nil, inconclusive, errText(err)
		}
		if _, err := s.Hello(c.helo); err != nil {
			return nil, inconclusive, errText(err)
		}
		if _, err := s.StartTLS(); err != nil {
			if isRefusal(err) {
				return nil, refused, err.Error()
			}
			s.Finish(err)
			return nil, inconclusive, errText(err)
		}
	}
	st = s.TLS
	s.Quit()
	return st, accepted, ""
}

// tlsScan finds which TLS versions, and with --check-tls which TLS
// 1.0-1.2 cipher suites, the server accepts, one handshake each, as
// testssl.sh -t smtp does: tls.versions lists them, tls.legacy.1_0 and
// tls.legacy.1_1 warn about the versions RFC 8996 deprecates, tls.tls13
// says whether 1.3 is there, tls.ciphers lists the suites and warns about
// weak ones. It returns whether TLS 1.3 was accepted, and whether that is
// known.
func (pr *prober) tlsScan(ctx context.Context, ep *Endpoint, c *conv, rec *transcript.Recorder, cl *checkList) (tls13, known bool) {
	if !ep.Implicit && !c.offered {
		for _, id := range []string{"tls.versions", "tls.legacy.1_0", "tls.legacy.1_1"} {
			cl.add(id, Info, "not tested: STARTTLS is not offered", ev("tested", false))
		}
		return false, false
	}
	var acc, ref, unk []string
	results := map[string]string{}
	for _, v := range scanVersions {
		cfg := pr.testConfig(ep, v, v)
		// Old versions need the CBC suites, some outside Go's defaults.
		for _, s := range scanSuites() {
			cfg.CipherSuites = append(cfg.CipherSuites, s.ID)
		}
		st, o, why := pr.tryHandshake(ctx, ep, c, cfg, "TLS version check", rec)
		name := tls.VersionName(v)
		id := "tls.legacy." + strings.ReplaceAll(versionNumber(v), ".", "_")
		legacy := v < tls.VersionTLS12
		switch o {
		case accepted:
			acc = append(acc, name)
			results[versionNumber(v)] = "accepted"
			if v == tls.VersionTLS13 {
				tls13, known = true, true
			}
			if legacy {
				ch := cl.add(id, Warn, name+" is accepted (deprecated by RFC 8996)", ev("tested", true, "accepted", true, "cipher", tls.CipherSuiteName(st.CipherSuite)))
				ch.Hint = "disable TLS 1.0 and 1.1 on the server"
			}
		case refused:
			ref = append(ref, name)
			results[versionNumber(v)] = "refused"
			if v == tls.VersionTLS13 {
				known = true
			}
			if legacy {
				cl.add(id, Pass, name+" is refused", ev("tested", true, "accepted", false, "error", why))
			}
		default:
			unk = append(unk, name)
			results[versionNumber(v)] = "inconclusive"
			if legacy {
				cl.add(id, Info, "inconclusive: "+why, ev("tested", false))
			}
		}
	}
	summary := "accepts " + orNone(acc)
	if len(ref) > 0 {
		summary += "; refuses " + strings.Join(ref, ", ")
	}
	if len(unk) > 0 {
		summary += "; inconclusive: " + strings.Join(unk, ", ")
	}
	cl.add("tls.versions", Info, summary, ev("versions", results))
	if pr.o.CheckTLS {
		pr.suiteScan(ctx, ep, c, rec, cl)
	}
	return tls13, known
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, ", ")
}

// suiteScan tries each TLS 1.0-1.2 suite alone, at the highest version up
// to 1.2 the server takes.
func (pr *prober) suiteScan(ctx context.Context, ep *Endpoint, c *conv, rec *transcript.Recorder, cl *checkList) {
	var acc, weak, det []string
	results := map[string]string{}
	tried, unknown := 0, 0
	for _, s := range scanSuites() {
		cfg := pr.testConfig(ep, tls.VersionTLS10, tls.VersionTLS12)
		cfg.CipherSuites = []uint16{s.ID}
		st, o, why := pr.tryHandshake(ctx, ep, c, cfg, "cipher suite check", rec)
		tried++
		switch o {
		case accepted:
			acc = append(acc, s.Name)
			results[s.Name] = "accepted"
			mark := ""
			if s.Insecure {
				weak = append(weak, s.Name)
				mark = " (weak)"
			}
			det = append(det, fmt.Sprintf("accepted  %s%s, %s", s.Name, mark, tls.VersionName(st.Version)))
		case refused:
			results[s.Name] = "refused"
		default:
			unknown++
			results[s.Name] = "inconclusive"
			det = append(det, "inconclusive  "+s.Name+": "+why)
		}
	}
	e := ev("suites", results, "accepted", acc, "weak", weak)
	switch {
	case len(weak) > 0:
		ch := cl.add("tls.ciphers", Warn, fmt.Sprintf("%d of %d TLS 1.0-1.2 suites accepted, %d of them weak: %s", len(acc), tried, len(weak), strings.Join(weak, ", ")), e)
		ch.Hint = "disable RC4, 3DES, CBC-SHA256 and RSA key exchange suites on the server"
		ch.Details = det
	case unknown == tried:
		cl.add("tls.ciphers", Info, "inconclusive: no suite could be tried", e).Details = det
	default:
		cl.addf("tls.ciphers", Pass, e, "%d of %d TLS 1.0-1.2 suites accepted, none weak", len(acc), tried).Details = det
	}
}

// tls13Check says whether TLS 1.3 is there: from the scan when it ran,
// else from the probe's own handshake, which offers 1.3 (a server that
// has it picks it). --require-tls13 makes its absence a failure.
func (pr *prober) tls13Check(ep *Endpoint, c *conv, tls13, known bool, cl *checkList) {
	const id = "tls.tls13"
	if !known && c.tls != nil {
		tls13, known = c.tls.Version == tls.VersionTLS13, true
	}
	switch {
	case tls13:
		cl.add(id, Pass, "TLS 1.3 is accepted", ev("accepted", true))
	case !known && pr.o.RequireTLS13:
		ch := cl.fail(id, pr.tlsExit(ep), "no TLS: TLS 1.3 is required (--require-tls13)", ev("accepted", false))
		ch.Hint = "enable STARTTLS with TLS 1.3 on the server (RFC 3207, RFC 8446)"
	case !known:
		cl.add(id, Info, "not tested: no TLS", ev("tested", false))
	case pr.o.RequireTLS13:
		ch := cl.fail(id, pr.tlsExit(ep), "TLS 1.3 is not accepted (--require-tls13)", ev("accepted", false))
		ch.Hint = "enable TLS 1.3 on the server (RFC 8446)"
	default:
		cl.add(id, Info, "TLS 1.3 is not accepted", ev("accepted", false))
	}
}

// failOnFlag names the --fail-on value that made a warning about id fail
// the probe, for the final error line.
func (pr *prober) failOnFlag(id string) string {
	if !pr.gates.failOnWarn {
		for _, p := range pr.gates.failOn {
			if (gates{failOn: []string{p}}).failsOn(id) {
				return "--fail-on " + p
			}
		}
	}
	return "--fail-on warn"
}
