package load

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smtpx/smtpx/internal/auth"
	"github.com/smtpx/smtpx/internal/certs"
	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/message"
	"github.com/smtpx/smtpx/internal/send"
	"github.com/smtpx/smtpx/internal/session"
	"github.com/smtpx/smtpx/internal/smtptest"
	"github.com/smtpx/smtpx/internal/target"
)

func peer(t *testing.T, o smtptest.PeerOptions) *smtptest.Peer {
	t.Helper()
	p, err := smtptest.StartPeer(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

const body = "From: a@example.org\r\nSubject: load\r\n\r\nbody\r\n.dot\r\n"

func options(addr string) *send.Options {
	return &send.Options{
		Session:  session.Options{Address: addr, Timeout: 5 * time.Second, ConnectTimeout: 5 * time.Second},
		Helo:     "client.test",
		From:     "a@example.org",
		Source:   message.NewDataString(body),
		Pipeline: true, Chunking: true,
		TLS: target.TLSNone,
	}
}

// rcpts are every test message's recipients.
var rcpts = []send.Rcpt{{Mailbox: "b@example.com", Domain: "example.com"}}

func run(o Options) *Result { return New(withRcpts(o)).Run(context.Background()) }

func withRcpts(o Options) Options {
	if o.Rcpts == nil {
		o.Rcpts = rcpts
	}
	return o
}

// stored counts the messages a peer kept.
func stored(p *smtptest.Peer) int64 { return int64(len(p.Messages())) }

// Every message arrives, byte-exact, once; the counts add up.
func TestRunDelivers(t *testing.T) {
	for _, chunk := range []bool{true, false} {
		p := peer(t, smtptest.PeerOptions{})
		o := options(p.Addr())
		o.Chunking = chunk
		res := run(Options{Send: o, Count: 40, Concurrency: 4})
		if res.Accepted != 40 || res.Sent != 40 || stored(p) != 40 || res.NotSent != 0 {
			t.Fatalf("chunking %v: accepted %d sent %d stored %d not sent %d; errors %v", chunk, res.Accepted, res.Sent, stored(p), res.NotSent, res.Errors)
		}
		// Up to 4: a worker that starts after the others have claimed
		// every message opens no connection (a loaded machine does that).
		if res.Connections < 1 || res.Connections > 4 || res.Chunked != chunk || !res.Pipelined {
			t.Errorf("chunking %v: %d connections, chunked %v, pipelined %v", chunk, res.Connections, res.Chunked, res.Pipelined)
		}
		for _, m := range p.Messages() {
			if string(m.Data) != body {
				t.Fatalf("stored %q", m.Data)
			}
		}
		if code, err := res.Exit(); code != 0 || err != nil {
			t.Errorf("exit %d %v", code, err)
		}
		if res.Replies[250] != 40 || len(res.Replies) != 1 {
			t.Errorf("replies %v", res.Replies)
		}
		lat := res.Latency
		n := uint64(res.Connections)
		if lat[Connect].Count != n || lat[Banner].Count != n || lat[EHLO].Count != n || lat[Transaction].Count != 40 || lat[TLS].Count != 0 || lat[Auth].Count != 0 {
			t.Errorf("latency counts %+v", lat)
		}
	}
}

// The fewest round trips, counted through a proxy that delays each server
// flight: per connection the banner and EHLO, then with CHUNKING one
// flight per message (MAIL, RCPT, BDAT LAST and the content); with
// PIPELINING alone the first MAIL/RCPT/DATA group, then one flight per
// message (the dot with the next group, the last dot with QUIT); without
// PIPELINING one flight per command.
func TestRoundTrips(t *testing.T) {
	p := peer(t, smtptest.PeerOptions{})
	const n, c = 12, 3
	for _, tt := range []struct {
		name            string
		pipeline, chunk bool
		want            int
	}{
		{"chunking", true, true, c*2 + n},
		{"pipelining", true, false, c*3 + n},
		{"neither", false, false, c*3 + n*4}, // banner EHLO QUIT; MAIL RCPT DATA dot
	} {
		px := smtptest.StartProxy(t, p.Addr(), func(px *smtptest.Proxy) { px.Delay = 2 * time.Millisecond })
		o := options(px.Addr())
		o.Pipeline, o.Chunking = tt.pipeline, tt.chunk
		res := run(Options{Send: o, Count: n, Concurrency: c})
		if res.Accepted != n {
			t.Fatalf("%s: accepted %d: %v", tt.name, res.Accepted, res.Errors)
		}
		flights, mails := px.Stats()
		if flights != tt.want {
			t.Errorf("%s: the client waited for %d server flights over %d connections, want %d", tt.name, flights, len(mails), tt.want)
		}
	}
}

// A connection that drops in the middle of a message: that message counts
// as a network error, the run goes on over a new connection, and what was
// accepted is exactly what the server stored.
func TestDroppedConnections(t *testing.T) {
	for _, chunk := range []bool{true, false} {
		// go-smtp v0.25.1 hands a BDAT LAST chunk cut short by a closed
		// connection to the backend as if it were whole, so the peer
		// checks each message as a careful server would.
		p := peer(t, smtptest.PeerOptions{Data: func(m *smtptest.Message) error {
			if string(m.Data) != body {
				return errors.New("truncated")
			}
			return nil
		}})
		px := smtptest.StartProxy(t, p.Addr(), func(px *smtptest.Proxy) { px.CutAt, px.Marker = 3, []byte("Subject: load") })
		o := options(px.Addr())
		o.Chunking = chunk
		res := run(Options{Send: o, Count: 30, Concurrency: 3})
		px.Stats()
		if res.Accepted != stored(p) {
			t.Errorf("chunking %v: accepted %d, the server stored %d", chunk, res.Accepted, stored(p))
		}
		if res.Accepted+res.NetworkErrors != 30 || res.NetworkErrors == 0 || res.Sent != 30 {
			t.Errorf("chunking %v: accepted %d + network errors %d of %d sent", chunk, res.Accepted, res.NetworkErrors, res.Sent)
		}
		if code, err := res.Exit(); code != exitcode.Network || err == nil || !strings.Contains(err.Error(), "network error") {
			t.Errorf("chunking %v: exit %d %v", chunk, code, err)
		}
	}
}

// Refused recipients and messages: counted by reply code, the transaction
// left open is reset before the next, and the exit status is the worst
// class (5 before 4).
func TestRefusals(t *testing.T) {
	for _, chunk := range []bool{true, false} {
		var n atomic.Int64
		p := peer(t, smtptest.PeerOptions{
			Rcpt: func(string) error {
				switch n.Add(1) % 6 {
				case 1:
					return smtptest.ErrReply(550, [3]int{5, 1, 1}, "no such user")
				case 2:
					return smtptest.ErrReply(451, [3]int{4, 3, 0}, "try later")
				}
				return nil
			},
		})
		o := options(p.Addr())
		o.Chunking = chunk
		res := run(Options{Send: o, Count: 60, Concurrency: 2})
		if res.Rejected != 10 || res.Deferred != 10 || res.Accepted != 40 || stored(p) != 40 {
			t.Errorf("chunking %v: rejected %d deferred %d accepted %d stored %d; errors %v", chunk, res.Rejected, res.Deferred, res.Accepted, stored(p), res.Errors)
		}
		if res.Replies[550] != 10 || res.Replies[451] != 10 || res.Replies[250] != 40 {
			t.Errorf("chunking %v: replies %v", chunk, res.Replies)
		}
		if res.Connections != 2 {
			t.Errorf("chunking %v: %d connections: a refusal must not cost the connection", chunk, res.Connections)
		}
		code, err := res.Exit()
		var se *session.Error
		if code != exitcode.Permanent || !errors.As(err, &se) || se.Reply == nil || se.Reply.Code != 550 {
			t.Errorf("chunking %v: exit %d %v", chunk, code, err)
		}
		j := res.ToJSON(code, err, "")
		if j.Code != 550 || j.Enhanced != "5.1.1" || j.Exit != 5 || j.Replies["451"] != 10 {
			t.Errorf("chunking %v: JSON %+v", chunk, j)
		}
	}
	// Only transient refusals: exit 4.
	p := peer(t, smtptest.PeerOptions{Data: func(*smtptest.Message) error {
		return smtptest.ErrReply(451, [3]int{4, 3, 0}, "disk full")
	}})
	res := run(Options{Send: options(p.Addr()), Count: 5, Concurrency: 2})
	if code, _ := res.Exit(); code != exitcode.Transient || res.Deferred != 5 {
		t.Errorf("451 to every message: exit %d, deferred %d", code, res.Deferred)
	}
}

// --per-connection: a new connection after M messages.
func TestPerConnection(t *testing.T) {
	p := peer(t, smtptest.PeerOptions{})
	px := smtptest.StartProxy(t, p.Addr(), nil)
	res := run(Options{Send: options(px.Addr()), Count: 20, Concurrency: 2, PerConnection: 3})
	_, mails := px.Stats()
	if res.Accepted != 20 || stored(p) != 20 {
		t.Fatalf("accepted %d stored %d", res.Accepted, stored(p))
	}
	total := 0
	for _, m := range mails {
		if m > 3 {
			t.Errorf("a connection carried %d messages", m)
		}
		total += m
	}
	if total != 20 || len(mails) < 7 || int64(len(mails)) != res.Connections {
		t.Errorf("%d messages over %d connections (%d counted)", total, len(mails), res.Connections)
	}
}

// TLS and AUTH work in load mode, timed as their own phases.
func TestTLSAuth(t *testing.T) {
	cert, err := certs.SelfSigned(certs.Options{Hosts: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	p := peer(t, smtptest.PeerOptions{TLS: cert.ServerConfig(), Users: map[string]string{"u": "pw"}})
	o := options(p.Addr())
	o.TLS = target.TLSRequired
	o.Session.TLSConfig = &tls.Config{RootCAs: cert.Pool()}
	o.Auth = &send.AuthOptions{Mech: "PLAIN", Creds: auth.Credentials{User: "u", Password: "pw"}}
	res := run(Options{Send: o, Count: 10, Concurrency: 2})
	if res.Accepted != 10 || stored(p) != 10 {
		t.Fatalf("accepted %d stored %d: %v", res.Accepted, stored(p), res.Errors)
	}
	for _, m := range p.Messages() {
		if !m.TLS || m.User != "u" {
			t.Fatalf("stored without TLS or AUTH: %+v", m)
		}
	}
	if res.Latency[TLS].Count != 2 || res.Latency[Auth].Count != 2 {
		t.Errorf("tls %d auth %d samples", res.Latency[TLS].Count, res.Latency[Auth].Count)
	}

	// A wrong password fails every connection alike: the run stops.
	o.Auth.Creds.Password = "wrong"
	res = run(Options{Send: o, Count: 1000, Concurrency: 2})
	if res.Stopped == nil || res.Connections > 2 || res.NotSent < 990 {
		t.Errorf("stopped %v after %d connections, %d not sent", res.Stopped, res.Connections, res.NotSent)
	}
	if code, err := res.Exit(); code != exitcode.Permanent || !strings.Contains(err.Error(), "stopped early") {
		t.Errorf("exit %d %v", code, err)
	}
}

// Nothing listening: the run stops at once rather than trying every
// message, and exits 3.
func TestNoServer(t *testing.T) {
	res := run(Options{Send: options(smtptest.FreePort(t)), Count: 1000, Concurrency: 4})
	if res.Stopped == nil || res.Connections > 4 || res.Accepted != 0 {
		t.Errorf("stopped %v, %d connections", res.Stopped, res.Connections)
	}
	code, err := res.Exit()
	if code != exitcode.Network || err == nil {
		t.Errorf("exit %d %v", code, err)
	}
	j := res.ToJSON(code, err, "hint")
	if j.Exit != 3 || j.NotSent != 1000-res.Sent || j.Code != 0 || j.Error == "" || j.Hint != "hint" {
		t.Errorf("JSON %+v", j)
	}
}

// Cancelling stops new messages; those in flight finish, and what was
// accepted was stored.
func TestInterrupt(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var n atomic.Int64
	p := peer(t, smtptest.PeerOptions{Data: func(*smtptest.Message) error {
		if n.Add(1) == 5 {
			cancel()
		}
		return nil
	}})
	res := New(withRcpts(Options{Send: options(p.Addr()), Count: 100000, Concurrency: 3})).Run(ctx)
	if !res.Interrupted || res.Accepted != stored(p) || res.NotSent == 0 || res.Accepted < 5 {
		t.Errorf("interrupted %v, accepted %d, stored %d, not sent %d", res.Interrupted, res.Accepted, stored(p), res.NotSent)
	}
	if code, err := res.Exit(); code != exitcode.Network || !strings.HasPrefix(err.Error(), "interrupted: ") {
		t.Errorf("exit %d %v", code, err)
	}
}

// --duration without --count: messages until the time is up, every one
// accounted for.
func TestDuration(t *testing.T) {
	p := peer(t, smtptest.PeerOptions{})
	res := run(Options{Send: options(p.Addr()), Duration: 100 * time.Millisecond, Concurrency: 2})
	if res.Accepted != stored(p) || res.Sent != res.Accepted || res.NotSent != 0 {
		t.Errorf("sent %d accepted %d stored %d not sent %d", res.Sent, res.Accepted, stored(p), res.NotSent)
	}
}

// A rate paces the messages; the run still sends them all.
func TestRate(t *testing.T) {
	p := peer(t, smtptest.PeerOptions{})
	res := run(Options{Send: options(p.Addr()), Count: 6, Concurrency: 2, Rate: 200})
	if res.Accepted != 6 || stored(p) != 6 {
		t.Errorf("accepted %d stored %d", res.Accepted, stored(p))
	}
}

// The dispenser: at most count messages, none after stop, and under a
// rate none before its slot.
func TestDispenser(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	d := newDispenser(ctx, 3, 0, time.Now())
	got := 0
	for d.claim() {
		got++
	}
	if ok, done := d.try(); got != 3 || ok || !done {
		t.Errorf("claimed %d, then try %v %v", got, ok, done)
	}
	// One message an hour: the first may start now, the second not yet.
	d = newDispenser(ctx, 0, 1.0/3600, time.Now())
	if ok, _ := d.try(); !ok {
		t.Error("the first message must start at once")
	}
	if ok, done := d.try(); ok || done {
		t.Errorf("second try: %v %v, want a wait", ok, done)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if d.claim() {
			t.Error("claim went through after stop")
		}
	}()
	cancel()
	wg.Wait()
	if ok, done := d.try(); ok || !done {
		t.Errorf("after stop: %v %v", ok, done)
	}
}

// An unreadable message stops the run: every message would fail alike.
func TestUnreadableMessage(t *testing.T) {
	p := peer(t, smtptest.PeerOptions{})
	o := options(p.Addr())
	o.Source = failingSource{}
	res := run(Options{Send: o, Count: 500, Concurrency: 2})
	if res.Stopped == nil || res.NotSent < 490 || stored(p) != 0 {
		t.Errorf("stopped %v, not sent %d, stored %d", res.Stopped, res.NotSent, stored(p))
	}
	if code, _ := res.Exit(); code != exitcode.Usage {
		t.Errorf("exit %d", code)
	}
}

type failingSource struct{}

func (failingSource) Size() int64                  { return 2 << 20 } // too big to cache
func (failingSource) EightBit() bool               { return false }
func (failingSource) UTF8Headers() bool            { return false }
func (failingSource) Open() (io.ReadCloser, error) { return nil, errors.New("gone") }
