package load

import (
	"crypto/tls"
	"path/filepath"
	"testing"

	"github.com/smtpx/smtpx/internal/auth"
	"github.com/smtpx/smtpx/internal/certs"
	"github.com/smtpx/smtpx/internal/send"
	"github.com/smtpx/smtpx/internal/smtptest"
	"github.com/smtpx/smtpx/internal/target"
)

// Against Postfix's smtp-sink (PIPELINING, no CHUNKING): as many files
// dumped as messages accepted, none lost, over reused connections.
func TestSMTPSinkStoresEveryMessage(t *testing.T) {
	addr, dir := smtptest.SMTPSink(t, true)
	res := run(Options{Send: options(addr), Count: 300, Concurrency: 8, PerConnection: 50})
	if res.Accepted != 300 || !res.Pipelined || res.Chunked {
		t.Fatalf("accepted %d, pipelined %v, chunked %v: %v", res.Accepted, res.Pipelined, res.Chunked, res.Errors)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) != 300 {
		t.Errorf("smtp-sink stored %d messages, %d were accepted", len(files), res.Accepted)
	}
}

// Against smtp-sink refusing every recipient (-f RCPT: 500, -r RCPT: 450):
// each message counted by its reply, the connections kept (RSET clears
// each transaction left open), exit 5 or 4.
func TestSMTPSinkRefusals(t *testing.T) {
	for _, tt := range []struct {
		flag       string
		code, exit int
	}{{"-f", 500, 5}, {"-r", 450, 4}} {
		addr, _ := smtptest.SMTPSink(t, false, tt.flag, "RCPT")
		res := run(Options{Send: options(addr), Count: 20, Concurrency: 2})
		if res.Replies[tt.code] != 20 || res.Accepted != 0 || res.Connections != 2 {
			t.Errorf("%s RCPT: replies %v, %d connections: %v", tt.flag, res.Replies, res.Connections, res.Errors)
		}
		if code, _ := res.Exit(); code != tt.exit {
			t.Errorf("%s RCPT: exit %d, want %d", tt.flag, code, tt.exit)
		}
	}
}

// Against mailpit with STARTTLS and AUTH: mailpit holds exactly the
// messages accepted.
func TestMailpitStoresEveryMessage(t *testing.T) {
	dir := t.TempDir()
	c, err := certs.SelfSigned(certs.Options{Hosts: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile, err := c.WriteFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	mp := smtptest.StartMailpit(t, certFile, keyFile)
	o := options(mp.SMTP)
	o.TLS = target.TLSRequired
	o.Session.TLSConfig = &tls.Config{RootCAs: c.Pool()}
	o.Auth = &send.AuthOptions{Creds: auth.Credentials{User: "u", Password: "pw"}}
	res := run(Options{Send: o, Count: 60, Concurrency: 4})
	if res.Accepted != 60 || res.Latency[TLS].Count != 4 || res.Latency[Auth].Count != 4 {
		t.Fatalf("accepted %d, tls %d, auth %d: %v", res.Accepted, res.Latency[TLS].Count, res.Latency[Auth].Count, res.Errors)
	}
	if n := mp.Count(t); int64(n) != res.Accepted {
		t.Errorf("mailpit holds %d messages, %d were accepted", n, res.Accepted)
	}
}
