package verify

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"testing"

	"github.com/smtpx/smtpx/internal/certs"
	"github.com/smtpx/smtpx/internal/smtptest"
)

// Interop with servers nobody here wrote. Skipped when they are not
// installed, unless SMTPX_INTEROP=1 (CI), where a missing peer fails.

// Postfix's smtp-sink accepts every recipient: a catch-all, so unprovable;
// with -f RCPT it refuses every RCPT with a 5xx.
func TestInteropSMTPSink(t *testing.T) {
	addr, _ := smtptest.SMTPSink(t, false)
	o := baseOptions()
	o.MX = addr
	addrs := make([]string, 45)
	for i := range addrs {
		addrs[i] = fmt.Sprintf("user%d@example.test", i)
	}
	out, sum := run(t, o, addrs...)
	for _, r := range out {
		if r.Verdict != Unprovable || r.CatchAll == nil || !*r.CatchAll {
			t.Fatalf("%s: %s (%s)", r.Input, r.Verdict, r.Reason)
		}
	}
	// At most 20 per session; more sessions when the list is read slower
	// than it is verified.
	if sum.Sessions < 3 {
		t.Errorf("45 addresses, 20 per session: %d sessions, want at least 3", sum.Sessions)
	}

	refusing, _ := smtptest.SMTPSink(t, false, "-f", "RCPT")
	o.MX = refusing
	out, _ = run(t, o, "bob@example.test")
	if r := out[0]; r.Verdict == Deliverable || r.Verdict == Unprovable || r.Reply == nil || r.Reply.Class() != 5 {
		t.Errorf("smtp-sink -f RCPT: %s %+v (%s)", r.Verdict, r.Reply, r.Reason)
	}
	soft, _ := smtptest.SMTPSink(t, false, "-r", "RCPT")
	o.MX = soft
	out, _ = run(t, o, "bob@example.test")
	if r := out[0]; r.Verdict != Tempfail || r.Exit != 4 {
		t.Errorf("smtp-sink -r RCPT: %s exit %d (%s)", r.Verdict, r.Exit, r.Reason)
	}
}

// mailpit offers STARTTLS with our certificate: the session goes through
// TLS, verified against the CA we give.
func TestInteropMailpitTLS(t *testing.T) {
	c, err := certs.SelfSigned(certs.Options{Hosts: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile, err := c.WriteFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	mp := smtptest.StartMailpit(t, certFile, keyFile)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(c.CertPEM)
	o := baseOptions()
	o.MX = mp.SMTP
	o.Session.TLSConfig = &tls.Config{RootCAs: pool}
	out, _ := run(t, o, "bob@example.test")
	r := out[0]
	if r.Verdict != Unprovable || r.TLS == nil || !r.TLSVerified {
		t.Errorf("mailpit: %s tls=%v verified=%v %q (%s)", r.Verdict, r.TLS != nil, r.TLSVerified, r.TLSError, r.Reason)
	}
	if n := mp.Count(t); n != 0 {
		t.Errorf("verify left %d messages in mailpit: it must never send DATA", n)
	}
}
