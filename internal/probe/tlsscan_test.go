package probe

import (
	"crypto/tls"
	"slices"
	"testing"

	"github.com/smtpx/smtpx/internal/certs"
	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/smtptest"
)

// --check-tls against go-smtp with an old TLS setup: TLS 1.0-1.2 only and
// three ECDSA suites, one of them weak. Every version and suite is one
// handshake; the findings are what the server was configured with.
func TestTLSScan(t *testing.T) {
	cert := selfSigned(t, certs.Options{})
	old := cert.ServerConfig()
	old.MinVersion, old.MaxVersion = tls.VersionTLS10, tls.VersionTLS12
	old.CipherSuites = []uint16{
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
	}
	addr := startPeer(t, smtptest.PeerOptions{TLS: old})
	o := baseOptions(addr)
	o.TLS.InsecureSkipVerify = true
	o.CheckTLS = true
	r := run(t, o)
	want(t, check(t, r, "tls.versions"), Info, "accepts TLS 1.0, TLS 1.1, TLS 1.2; refuses TLS 1.3")
	want(t, check(t, r, "tls.legacy.1_0"), Warn, "TLS 1.0 is accepted")
	want(t, check(t, r, "tls.legacy.1_1"), Warn, "TLS 1.1 is accepted")
	want(t, check(t, r, "tls.tls13"), Info, "TLS 1.3 is not accepted")
	c := check(t, r, "tls.ciphers")
	want(t, c, Warn, "3 of 22 TLS 1.0-1.2 suites accepted, 1 of them weak: TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256")
	acc, _ := c.Evidence["accepted"].([]string)
	if !slices.Equal(acc, []string{"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"}) {
		t.Errorf("accepted %q", acc)
	}
	// Warnings alone do not fail the probe...
	wantExit(t, r, exitcode.OK)

	// ...unless --fail-on names them: by family, exactly, or by pattern.
	for _, ids := range [][]string{{"tls.legacy"}, {"tls.legacy.1_0"}, {"tls.*"}, {"tls.ciphers"}} {
		o.FailOn = ids
		wantExit(t, run(t, o), exitcode.Check)
	}
	o.FailOn = []string{"tls.cert"}
	wantExit(t, run(t, o), exitcode.OK)

	// --require-tls13 fails here, with the scan and without it.
	o.FailOn, o.RequireTLS13 = nil, true
	r = run(t, o)
	want(t, check(t, r, "tls.tls13"), Fail, "TLS 1.3 is not accepted (--require-tls13)")
	wantExit(t, r, exitcode.Check)
	o.CheckTLS = false
	r = run(t, o)
	want(t, check(t, r, "tls.tls13"), Fail, "TLS 1.3 is not accepted")
	noCheck(t, r, "tls.ciphers")
	noCheck(t, r, "tls.versions")
}

// A modern server passes: no legacy version, no weak suite, TLS 1.3; and
// --check-legacy-tls is the version half of the scan.
func TestTLSScanModern(t *testing.T) {
	cert := selfSigned(t, certs.Options{})
	addr := startPeer(t, smtptest.PeerOptions{TLS: cert.ServerConfig()})
	o := baseOptions(addr)
	o.TLS.InsecureSkipVerify = true
	o.CheckTLS, o.RequireTLS13, o.FailOn = true, true, []string{"tls.legacy", "tls.ciphers"}
	r := run(t, o)
	want(t, check(t, r, "tls.versions"), Info, "accepts TLS 1.2, TLS 1.3; refuses TLS 1.0, TLS 1.1")
	want(t, check(t, r, "tls.tls13"), Pass, "TLS 1.3 is accepted")
	want(t, check(t, r, "tls.ciphers"), Pass, "none weak")
	wantExit(t, r, exitcode.OK)

	o = baseOptions(addr)
	o.TLS.InsecureSkipVerify = true
	o.CheckLegacyTLS = true
	r = run(t, o)
	want(t, check(t, r, "tls.versions"), Info, "accepts TLS 1.2, TLS 1.3")
	noCheck(t, r, "tls.ciphers")
	noCheck(t, r, "tls.tls13")
}

// Without STARTTLS nothing is scanned, and --require-tls13 fails.
func TestTLSScanNoTLS(t *testing.T) {
	addr := startPeer(t, smtptest.PeerOptions{})
	o := baseOptions(addr)
	o.CheckTLS, o.RequireTLS13 = true, true
	r := run(t, o)
	want(t, check(t, r, "tls.versions"), Info, "not tested: STARTTLS is not offered")
	want(t, check(t, r, "tls.tls13"), Fail, "no TLS")
	noCheck(t, r, "tls.ciphers")
	wantExit(t, r, exitcode.Check)
}

func TestFailOnUsage(t *testing.T) {
	o := baseOptions("127.0.0.1:25")
	o.FailOn = []string{"tls.legacyy"}
	wantExit(t, Run(t.Context(), o), exitcode.Usage)
}
