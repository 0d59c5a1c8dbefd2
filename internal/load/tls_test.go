package load

import (
	"bytes"
	"crypto/tls"
	"strings"
	"testing"

	"github.com/smtpx/smtpx/internal/certs"
	"github.com/smtpx/smtpx/internal/smtptest"
	"github.com/smtpx/smtpx/internal/target"
)

// With a new connection per message, TLS sessions are resumed (TLS 1.3
// PSK, TLS 1.2 tickets) instead of a full handshake each time, and the
// counts say how many were which; a configuration that disables tickets
// gets full handshakes only. The certificate is checked on every
// connection: an untrusted server is refused, resumption or not.
func TestTLSResumption(t *testing.T) {
	cert, err := certs.SelfSigned(certs.Options{Hosts: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	p := peer(t, smtptest.PeerOptions{TLS: cert.ServerConfig()})
	for _, tt := range []struct {
		name   string
		cfg    *tls.Config
		resume bool
	}{
		{"TLS 1.3", &tls.Config{RootCAs: cert.Pool()}, true},
		{"TLS 1.2", &tls.Config{RootCAs: cert.Pool(), MaxVersion: tls.VersionTLS12}, true},
		{"tickets disabled", &tls.Config{RootCAs: cert.Pool(), SessionTicketsDisabled: true}, false},
	} {
		o := options(p.Addr())
		o.TLS = target.TLSRequired
		o.Session.TLSConfig = tt.cfg
		res := run(Options{Send: o, Count: 12, Concurrency: 2, PerConnection: 1})
		if res.Accepted != 12 || res.Connections != 12 {
			t.Fatalf("%s: accepted %d over %d connections: %v", tt.name, res.Accepted, res.Connections, res.Errors)
		}
		if res.TLSFull+res.TLSResumed != 12 {
			t.Errorf("%s: %d full + %d resumed handshakes for 12 connections", tt.name, res.TLSFull, res.TLSResumed)
		}
		// The first connection of each worker has nothing to resume; the
		// last ones of the run must have.
		if tt.resume && (res.TLSResumed < 8 || res.TLSFull < 1) || !tt.resume && res.TLSResumed != 0 {
			t.Errorf("%s: %d full, %d resumed", tt.name, res.TLSFull, res.TLSResumed)
		}
		if tt.cfg.ClientSessionCache != nil {
			t.Errorf("%s: the caller's configuration was changed", tt.name)
		}
		var b bytes.Buffer
		res.WriteSummary(&b)
		if !strings.Contains(b.String(), "handshakes    12 TLS: ") {
			t.Errorf("%s: summary\n%s", tt.name, b.String())
		}
		j := res.ToJSON(0, nil, "")
		if j.TLSHandshakes == nil || j.TLSHandshakes.Full != res.TLSFull || j.TLSHandshakes.Resumed != res.TLSResumed {
			t.Errorf("%s: JSON %+v", tt.name, j.TLSHandshakes)
		}
		back, err := FromJSON(j)
		if m := Merge(res, back); err != nil || m.TLSFull != 2*res.TLSFull || m.TLSResumed != 2*res.TLSResumed {
			t.Errorf("%s: merged %d full %d resumed (%v)", tt.name, m.TLSFull, m.TLSResumed, err)
		}
	}
	// --tls-no-resume: every connection a full handshake, whatever the
	// configuration allows.
	o := options(p.Addr())
	o.TLS = target.TLSRequired
	o.Session.TLSConfig = &tls.Config{RootCAs: cert.Pool()}
	res := run(Options{Send: o, Count: 6, Concurrency: 2, PerConnection: 1, NoResume: true})
	if res.Accepted != 6 || res.TLSFull != 6 || res.TLSResumed != 0 {
		t.Errorf("no resumption: accepted %d, %d full, %d resumed: %v", res.Accepted, res.TLSFull, res.TLSResumed, res.Errors)
	}
	if o.Session.TLSConfig.SessionTicketsDisabled {
		t.Error("the caller's configuration was changed")
	}
	// Untrusted: no connection goes through, resumed or not.
	o = options(p.Addr())
	o.TLS = target.TLSRequired
	o.Session.TLSConfig = &tls.Config{}
	res = run(Options{Send: o, Count: 4, Concurrency: 1, PerConnection: 1})
	if res.Accepted != 0 || res.TLSResumed != 0 {
		t.Errorf("untrusted server: accepted %d, resumed %d", res.Accepted, res.TLSResumed)
	}
}

// benchTLS sends b.N messages over a new STARTTLS connection each, to an
// in-process TLS peer, with session resumption or without, up to TLS
// version maxVersion (0: 1.3), and reports
// the CPU per message (client and server together: both do the
// handshake's work) and the median TLS phase.
func benchTLS(b *testing.B, resume bool, maxVersion uint16) {
	benchNewConn(b, true, resume, maxVersion)
}

func benchNewConn(b *testing.B, useTLS, resume bool, maxVersion uint16) {
	cert, err := certs.SelfSigned(certs.Options{Hosts: []string{"127.0.0.1"}})
	if err != nil {
		b.Fatal(err)
	}
	p, err := smtptest.StartPeer(smtptest.PeerOptions{TLS: cert.ServerConfig()})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	o := benchOptions(b, p.Addr())
	if useTLS {
		o.TLS = target.TLSRequired
		o.Session.TLSConfig = &tls.Config{RootCAs: cert.Pool(), SessionTicketsDisabled: !resume, MaxVersion: maxVersion}
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	res := run(Options{Send: o, Count: b.N, Concurrency: 1, PerConnection: 1})
	cpu := cpuTime() - cpu0
	b.StopTimer()
	if res.Accepted != int64(b.N) {
		b.Fatalf("accepted %d of %d: %v", res.Accepted, b.N, res.Errors)
	}
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/msg")
	b.ReportMetric(float64(res.Latency[TLS].P50.Microseconds()), "tls-p50-µs")
	b.ReportMetric(float64(res.TLSResumed)/float64(b.N), "resumed/msg")
}

// BenchmarkPlainNewConn: a new plaintext connection per message, the
// baseline of the TLS figures (their difference is the handshake's CPU).
func BenchmarkPlainNewConn(b *testing.B) { benchNewConn(b, false, false, 0) }

// BenchmarkTLSNewConnFull: STARTTLS with a full handshake per message.
func BenchmarkTLSNewConnFull(b *testing.B) { benchTLS(b, false, 0) }

// BenchmarkTLSNewConnResumed: STARTTLS resuming the session per message:
// TLS 1.3 resumes with a new key exchange (psk_dhe_ke).
func BenchmarkTLSNewConnResumed(b *testing.B) { benchTLS(b, true, 0) }

// BenchmarkTLS12NewConnFull and BenchmarkTLS12NewConnResumed: the same
// with TLS 1.2, whose resumption has no key exchange.
func BenchmarkTLS12NewConnFull(b *testing.B)    { benchTLS(b, false, tls.VersionTLS12) }
func BenchmarkTLS12NewConnResumed(b *testing.B) { benchTLS(b, true, tls.VersionTLS12) }
