package cmd

import (
	"net"
	"strings"
	"testing"

	"github.com/smtpx/smtpx/internal/smtptest"
)

// Bad transport flags: exit 2, one error line and a hint, no connection.
func TestTransportUsageErrors(t *testing.T) {
	srv := listener(t)
	for _, args := range [][]string{
		{"send", "--server", srv.Addr(), "--to", "a@test", "--proxy-protocol", "v3"},
		{"send", "--server", srv.Addr(), "--to", "a@test", "--proxy-source", "192.0.2.1:1"},
		{"send", "--server", srv.Addr(), "--to", "a@test", "--proxy-protocol", "v1", "--proxy-dest", "mx.test:25"},
		{"send", "--server", srv.Addr(), "--to", "a@test", "--local-address", "not-an-ip"},
		{"send", "--server", srv.Addr(), "--to", "a@test", "--proxy", "http://127.0.0.1:3128"},
		{"send", "--to", "a@test", "--pipe", "/nonexistent/sendmail -bs"},
		{"send", "--to", "a@test", "--pipe", "true > /tmp/x"},
		{"send", "--to", "a@test", "--pipe", "true", "--tls"},
		{"send", "--socket", "/tmp/smtp.sock", "--to", "a@test", "--proxy", "socks5://127.0.0.1:1080"},
		{"ehlo", srv.Addr(), "--proxy", "socks5://u@127.0.0.1:1080"},
		{"ehlo", srv.Addr(), "--local-address", "127.0.0.1:99999"},
		{"ehlo", "--pipe", "true", "--tls-on-connect"},
		{"ehlo", "--pipe", "true", srv.Addr()},
		{"probe", srv.Addr(), "--proxy", "http://127.0.0.1:3128"},
		{"probe", "--pipe", "/nonexistent/sendmail -bs"},
		{"probe", "--pipe", "true", "--port", "25"},
		{"probe", "--pipe", "true", "--require-tls"},
	} {
		stdout, stderr, code := run(t, "", nil, args...)
		if code != 2 || strings.Count(stderr, "smtpx: error:") != 1 || strings.Count(stderr, "smtpx: hint:") != 1 || stdout != "" {
			t.Errorf("%q: exit %d stdout %q stderr %q", args, code, stdout, stderr)
		}
	}
	if n := srv.Conns(); n != 0 {
		t.Errorf("the server saw %d connections", n)
	}
}

// An unreachable proxy is a network failure (exit 3) whose hint names
// --proxy, and nothing reaches the server.
func TestUnreachableProxy(t *testing.T) {
	srv := listener(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	for _, verb := range [][]string{{"send", "--server", srv.Addr(), "--to", "a@test"}, {"ehlo", srv.Addr()}} {
		_, stderr, code := run(t, "", nil, append(verb, "--proxy", "socks5://"+dead)...)
		if code != 3 || !strings.Contains(stderr, "smtpx: error: connect to "+srv.Addr()+": connection failed: cannot reach the SOCKS5 proxy at "+dead) ||
			!strings.Contains(stderr, "smtpx: hint: check the proxy's host and port in --proxy") {
			t.Errorf("%s: exit %d stderr %q", verb[0], code, stderr)
		}
	}
	if n := srv.Conns(); n != 0 {
		t.Errorf("the server saw %d connections", n)
	}
}

// send through a SOCKS5 proxy, by name resolved at the proxy (socks5h).
func TestSendThroughSOCKS5(t *testing.T) {
	peer, err := smtptest.StartPeer(smtptest.PeerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	_, port, _ := net.SplitHostPort(peer.Addr())
	px := smtptest.StartSOCKS5(t, func(p *smtptest.SOCKS5) { p.Names = map[string]string{"mx.test": "127.0.0.1"} })
	stdout, stderr, code := run(t, "", nil, "send", "--server", "mx.test:"+port, "--proxy", "socks5h://"+px.Addr(), "--to", "a@test", "--from", "b@test")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if r := px.Requests(); len(r) != 1 || !r[0].Domain || r[0].Host != "mx.test" {
		t.Errorf("requests %+v", r)
	}
	if len(peer.Messages()) != 1 {
		t.Errorf("%d messages", len(peer.Messages()))
	}
	if !strings.Contains(stdout, "=== connected through the SOCKS5 proxy at "+px.Addr()+" to mx.test:"+port+" (names resolved by the proxy)\n") {
		t.Errorf("stdout:\n%s", stdout)
	}
}

// The PROXY header goes first, before the banner is read (its bytes, v1
// and v2, are checked in internal/transport).
func TestProxyProtocolFlag(t *testing.T) {
	srv, err := smtptest.Start("C: PROXY TCP4 192.0.2.1 198.51.100.2 40000 25\nS: 220 postscreen.test\nC~ EHLO\nS: 250 ok\nC: QUIT\nS: 221 bye\n")
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := run(t, "", nil, "ehlo", srv.Addr(), "--proxy-protocol", "v1",
		"--proxy-source", "192.0.2.1:40000", "--proxy-dest", "198.51.100.2:25")
	srv.Close()
	if code != 0 || len(srv.Errors()) > 0 {
		t.Errorf("exit %d %v\n%s%s", code, srv.Errors(), stdout, stderr)
	}
	if !strings.Contains(stdout, "=== PROXY v1 header sent: PROXY TCP4 192.0.2.1 198.51.100.2 40000 25\n") {
		t.Errorf("stdout\n%s", stdout)
	}
}

// Bad send knobs (stages, XCLIENT/XFORWARD attributes): exit 2, one error
// line and a hint, and nothing sent.
func TestSendKnobUsageErrors(t *testing.T) {
	srv := listener(t)
	for _, args := range [][]string{
		{"--drop-after", "lunch"},
		{"--drop-after-send", "banner"},
		{"--drop-after", "rcpt", "--drop-after-send", "rcpt"},
		{"--drop-after", "rcpt", "--quit-after", "mail"},
		{"--drop-after", "rcpt", "--count", "2"},
		{"--xclient", "ADDR=mx.example.org"},
		{"--xclient", "COLOR=red"},
		{"--xclient", "NAME"},
		{"--xforward", "LOGIN=bob"},
		{"--xforward", "SOURCE=MARS"},
		{"--prdr", "--lmtp"},
	} {
		full := append([]string{"send", "--server", srv.Addr(), "--to", "a@test"}, args...)
		stdout, stderr, code := run(t, "", nil, full...)
		if code != 2 || strings.Count(stderr, "smtpx: error:") != 1 || strings.Count(stderr, "smtpx: hint:") != 1 || stdout != "" {
			t.Errorf("%q: exit %d stdout %q stderr %q", args, code, stdout, stderr)
		}
	}
	if n := srv.Conns(); n != 0 {
		t.Errorf("the server saw %d connections", n)
	}
}

// PRDR through the send verb: per-recipient replies in the JSON and the
// summary, the partial-delivery exit.
func TestSendPRDR(t *testing.T) {
	srv, err := smtptest.Start(`
S: 220 exim.test ESMTP
C~ EHLO
S: 250-exim.test
S: 250 PRDR
C: MAIL FROM:<a@test> PRDR
S: 250 ok
C: RCPT TO:<b@test>
S: 250 ok
C: RCPT TO:<c@test>
S: 250 ok
C: DATA
S: 354 go
data
S: 353 PRDR content analysis beginning
S: 250 2.0.0 b ok
S: 550 5.7.1 c refuses it
S: 250 2.0.0 OK id=1q2w3e
C: QUIT
S: 221 bye
`)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	stdout, stderr, code := run(t, "", nil, "send", "--json", "--prdr", "--server", srv.Addr(), "--from", "a@test", "--to", "b@test,c@test")
	if code != 5 || len(srv.Errors()) > 0 {
		t.Fatalf("exit %d %v\n%s\n%s", code, srv.Errors(), stdout, stderr)
	}
	for _, want := range []string{`"prdr":true`, `"address":"b@test","server":"` + srv.Addr() + `","accepted":true,"status":"accepted"`,
		`"address":"c@test","server":"` + srv.Addr() + `","accepted":false,"status":"failed","reply":{"code":250,"enhanced":"","text":"ok"},"data":{"code":550,"enhanced":"5.7.1","text":"c refuses it"}`,
		`"queue_id":"1q2w3e"`} {
		if !strings.Contains(stdout, want) {
			t.Errorf("JSON lacks %s:\n%s", want, stdout)
		}
	}
}
