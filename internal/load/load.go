// Package load sends one message many times over many connections, as
// `smtpx send --count N --concurrency C` does: the job of Postfix's
// smtp-source, with TLS, AUTH, PIPELINING, CHUNKING and latency figures.
//
// Each of C workers holds one connection and runs transactions back to back
// on it (send.Flow): the next one starts right after the reply to the end
// of data, RSET is sent only when a transaction was left open, and with
// PIPELINING the next MAIL/RCPT/DATA group is written in the same flight as
// the dot, so a message costs one round trip. A worker opens a new
// connection after --per-connection messages, or when its connection broke;
// the message in flight then counts as not accepted (a network error) and
// the run goes on.
//
// Nothing is counted twice or lost: a message is accepted only when the
// server answered its end of data with 2xx (for every recipient, or for one
// with AllowPartial), so the accepted count is what a server that keeps
// what it acknowledges has stored.
package load

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/send"
	"github.com/smtpx/smtpx/internal/session"
)

// Options configure a run.
type Options struct {
	// Send is everything a single send uses (server, TLS, AUTH, envelope,
	// message). Its Session.Observer is called from every connection at
	// once, so it must be safe for concurrent use; nil is fastest.
	Send *send.Options
	// Rcpts are every message's recipients, all on the one server.
	Rcpts []send.Rcpt
	// Count is the number of messages; 0 means no limit (with Duration).
	Count int
	// Duration stops starting new messages after this long; 0: no limit.
	Duration time.Duration
	// Concurrency is the number of connections at once (default 1).
	Concurrency int
	// PerConnection caps the messages sent over one connection; 0: no cap.
	PerConnection int
	// Rate caps messages started per second over all connections; 0: no cap.
	Rate float64
	// NoResume makes every new connection do a full TLS handshake: the
	// server's worst case, and the baseline that resumption is measured
	// against.
	NoResume bool
}

// Phase is a part of the dialogue whose latency is measured.
type Phase int

// The phases, in dialogue order.
const (
	Connect Phase = iota
	Banner
	EHLO
	TLS
	Auth
	Transaction
	NumPhases
)

// PhaseNames name the phases in output, indexed by Phase.
var PhaseNames = [NumPhases]string{"connect", "banner", "ehlo", "tls", "auth", "transaction"}

// Counts is a snapshot of a run in progress.
type Counts struct {
	Sent     int64 // messages with an outcome, whatever it was
	Accepted int64
	Deferred int64 // 4xx
	Rejected int64 // 5xx
	Failed   int64 // network and other errors
	Elapsed  time.Duration
}

// Runner runs one load test. Snapshot may be called from any goroutine
// while Run is in progress.
type Runner struct {
	o     Options
	start time.Time
	d     *dispenser
	abort context.CancelFunc

	sent, accepted, deferred, rejected, network, other atomic.Int64
	conns                                              atomic.Int64
	opened                                             atomic.Bool

	mu      sync.Mutex
	hist    [NumPhases]Histogram
	replies map[int]int64
	errs    map[string]int64
	first   map[int]sample // the first failure of each exit status
	// lastOK is a copy of the last reply that accepted a message (the
	// transaction's own is read into again by the next); haveOK says
	// there was one.
	lastOK    session.Reply
	haveOK    bool
	pipelined bool
	chunked   bool
	stopErr   error // the failure that stopped the run early
	// TLS handshakes, full and resumed.
	full, resumed int64
}

// sample is one failure kept to explain an exit status.
type sample struct {
	err   error
	reply *session.Reply
}

// New prepares a run.
func New(o Options) *Runner {
	if o.Concurrency < 1 {
		o.Concurrency = 1
	}
	if o.Count > 0 && o.Concurrency > o.Count {
		o.Concurrency = o.Count
	}
	so := *o.Send
	so.Source = cache(so.Source)
	so.Session.TLSConfig = resumable(so.Session.TLSConfig, o.Concurrency, !o.NoResume)
	o.Send = &so
	return &Runner{o: o, replies: map[int]int64{}, errs: map[string]int64{}, first: map[int]sample{}}
}

// Snapshot returns the counts so far.
func (r *Runner) Snapshot() Counts {
	c := Counts{
		Sent: r.sent.Load(), Accepted: r.accepted.Load(), Deferred: r.deferred.Load(),
		Rejected: r.rejected.Load(), Failed: r.network.Load() + r.other.Load(),
	}
	if !r.start.IsZero() {
		c.Elapsed = time.Since(r.start)
	}
	return c
}

// Run sends the messages and returns the result. Cancelling ctx stops new
// messages from starting; those in flight finish (each bounded by the
// session timeouts) so that none is cut off half-sent.
func (r *Runner) Run(ctx context.Context) *Result {
	stop, cancel := context.WithCancel(ctx)
	defer cancel()
	if r.o.Duration > 0 {
		var c2 context.CancelFunc
		stop, c2 = context.WithTimeout(stop, r.o.Duration)
		defer c2()
	}
	r.abort = cancel
	r.start = time.Now()
	r.d = newDispenser(stop, r.o.Count, r.o.Rate, r.start)
	// Dialling uses a context that the end of the run does not cancel: a
	// claimed message is sent whole or not at all.
	dial := context.WithoutCancel(ctx)
	var wg sync.WaitGroup
	for i := 0; i < r.o.Concurrency; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.worker(dial, stop)
		}()
	}
	wg.Wait()
	return r.result(time.Since(r.start), ctx.Err() != nil)
}

// What a worker learnt about the next message while the dot went out.
const (
	nextUnknown = iota // not asked (the transaction ended before its dot) or no slot yet
	nextClaimed        // claimed; its commands may already be on the wire
	nextDone           // no more messages
	nextNewConn        // this connection is done (--per-connection)
)

func (r *Runner) worker(dial, stop context.Context) {
	var (
		f        *send.Flow
		used     int
		failures int
		next     int
		lastHere bool
	)
	// One transaction record and one Next for the worker's life, not one
	// per message: the steady state of the send loop allocates as little
	// of its own as it can.
	tx := &send.Transaction{}
	nextFn := func() send.After {
		if lastHere {
			next = nextNewConn
			return send.AfterQuit
		}
		switch ok, done := r.d.try(); {
		case ok:
			next = nextClaimed
			return send.AfterNext
		case done:
			next = nextDone
			return send.AfterQuit
		}
		return send.AfterNothing
	}
	have := r.d.claim()
	for have {
		if f == nil {
			s := r.open(dial)
			if s == nil {
				failures++
				if !backoff(stop, failures) {
					break
				}
				have = r.d.claim()
				continue
			}
			failures = 0
			f, used = r.newFlow(s), 0
			f.Next = nextFn
		}
		used++
		next = nextUnknown
		lastHere = r.o.PerConnection > 0 && used >= r.o.PerConnection
		r.message(f, tx)
		s := f.Session()
		keep := send.Reusable(s, tx.Err) && !lastHere && next != nextDone && next != nextNewConn
		if !keep {
			s.Finish(tx.Err)
			f = nil
		}
		switch next {
		case nextClaimed:
			have = true
		case nextDone:
			have = false
		default:
			have = r.d.claim()
		}
		if f != nil && !have {
			s.Finish(nil)
			f = nil
		}
	}
	if f != nil {
		f.Session().Finish(nil)
	}
}

// newFlow starts the transactions of one connection. Their replies are
// read into the same Reply values message after message: record keeps
// copies of the ones it holds on to. Queue IDs are not looked for: a load
// run reports none.
func (r *Runner) newFlow(s *session.Session) *send.Flow {
	f := r.o.Send.NewFlow(s, r.o.Rcpts)
	f.ReuseReplies = true
	f.SkipQueueID = true
	return f
}

// message sends one message on f and counts it: the steady state of the
// send loop, which should allocate nothing once its buffers have grown
// (TestMessageAllocs). tx is the worker's transaction record, reused.
func (r *Runner) message(f *send.Flow, tx *send.Transaction) {
	*tx = send.Transaction{Server: r.o.Send.Session.Address, Rcpts: tx.Rcpts[:0], Failures: tx.Failures[:0]}
	t0 := time.Now()
	f.Transact(tx)
	r.record(tx, time.Since(t0), true)
}

// open connects and runs the dialogue up to the first transaction; on
// failure the claimed message is counted as not sent, and the run stops
// when retrying cannot help.
func (r *Runner) open(dial context.Context) *session.Session {
	o := r.o.Send
	tx := &send.Transaction{Server: o.Session.Address}
	t0 := time.Now()
	s := o.Open(dial, tx)
	took := time.Since(t0)
	r.conns.Add(1)
	if s == nil {
		if tx.Err == nil {
			// A --quit-after point before the transaction: nothing to send.
			tx.Err = &exitcode.Error{Code: exitcode.Usage, Msg: "the dialogue stopped before the mail transaction (--quit-after " + tx.Stopped + ")"}
			tx.Failures = []error{tx.Err}
		}
		r.record(tx, 0, false)
		class := exitcode.For(tx.Err)
		if !r.opened.Load() || (class != exitcode.Network && class != exitcode.Transient) {
			r.stop(tx.Err)
		}
		return nil
	}
	r.opened.Store(true)
	t := s.Timings
	r.mu.Lock()
	r.hist[Connect].Record(t.Connect)
	r.hist[Banner].Record(t.Banner)
	r.hist[EHLO].Record(t.Hello + t.Hello2)
	if s.InTLS() {
		r.hist[TLS].Record(t.StartTLS + t.Handshake)
		if s.TLS != nil && s.TLS.DidResume {
			r.resumed++
		} else {
			r.full++
		}
	}
	if tx.Mech != "" {
		// The session does not time AUTH itself: it is what is left of
		// the opening once the other phases are accounted for.
		r.hist[Auth].Record(took - (t.Connect + t.Banner + t.Hello + t.Hello2 + t.StartTLS + t.Handshake))
	}
	r.mu.Unlock()
	return s
}

// resumable gives the run's connections one TLS session cache, so that a
// new connection (--per-connection, or after a broken one) resumes the
// session of an earlier one (TLS 1.2 tickets, TLS 1.3 PSK) instead of a
// full handshake: no certificate sent, verified or signed again. A
// configuration with session tickets disabled is left alone; resume false
// (--tls-no-resume) disables them.
func resumable(cfg *tls.Config, conns int, resume bool) *tls.Config {
	if cfg == nil {
		cfg = &tls.Config{}
	} else {
		cfg = cfg.Clone()
	}
	if !resume {
		cfg.SessionTicketsDisabled, cfg.ClientSessionCache = true, nil
	}
	if cfg.ClientSessionCache == nil && !cfg.SessionTicketsDisabled {
		cfg.ClientSessionCache = tls.NewLRUClientSessionCache(max(64, conns))
	}
	return cfg
}

// stop ends the run early: no new message starts.
func (r *Runner) stop(err error) {
	r.mu.Lock()
	if r.stopErr == nil {
		r.stopErr = err
	}
	r.mu.Unlock()
	r.abort()
}

// backoff waits a little longer after each failed connection in a row,
// so a server that went away is not hammered; false when the run stopped.
func backoff(stop context.Context, n int) bool {
	d := 25 * time.Millisecond << min(n, 6)
	t := time.NewTimer(min(d, time.Second))
	defer t.Stop()
	select {
	case <-stop.Done():
		return false
	case <-t.C:
		return true
	}
}

// record counts the outcome of one message. took is the transaction's
// duration; timed is false when no transaction ran (the connection failed).
func (r *Runner) record(tx *send.Transaction, took time.Duration, timed bool) {
	code, err := send.Exit([]*send.Transaction{tx}, r.o.Send.AllowPartial)
	r.sent.Add(1)
	switch code {
	case exitcode.OK:
		r.accepted.Add(1)
	case exitcode.Transient:
		r.deferred.Add(1)
	case exitcode.Permanent:
		r.rejected.Add(1)
	case exitcode.Network:
		r.network.Add(1)
	default:
		r.other.Add(1)
	}
	var reply *session.Reply
	if err == nil {
		reply = tx.End
	} else {
		var se *session.Error
		if errors.As(err, &se) {
			reply = se.Reply
		}
	}
	r.mu.Lock()
	stop := r.count(tx, code, err, reply, took, timed)
	r.mu.Unlock()
	if stop {
		// The message itself cannot be read: every other would fail too.
		r.stop(err)
	}
}

// count updates the shared figures; the caller holds r.mu.
func (r *Runner) count(tx *send.Transaction, code int, err error, reply *session.Reply, took time.Duration, timed bool) (stop bool) {
	if timed {
		r.hist[Transaction].Record(took)
		r.pipelined = r.pipelined || tx.Pipelined
		r.chunked = r.chunked || tx.Chunked
	}
	if reply != nil {
		r.replies[reply.Code]++
	}
	if err == nil {
		if r.haveOK = reply != nil; r.haveOK {
			reply.CopyTo(&r.lastOK)
		}
		return false
	}
	if _, ok := r.first[code]; !ok {
		r.first[code] = sample{err: err, reply: reply}
	}
	key := err.Error()
	if _, ok := r.errs[key]; ok || len(r.errs) < maxErrorKinds {
		r.errs[key]++
	} else {
		r.errs[otherErrors]++
	}
	return code == exitcode.Usage
}

// maxErrorKinds bounds the distinct error texts kept; the rest are pooled.
const (
	maxErrorKinds = 20
	otherErrors   = "(other errors)"
)

// dispenser hands out messages to the workers: at most count (0: no
// limit), none once stop is done, and with a rate, message k not before
// start + k/rate.
type dispenser struct {
	mu       sync.Mutex
	stop     context.Context
	count    int
	claimed  int
	interval time.Duration
	start    time.Time
}

func newDispenser(stop context.Context, count int, rate float64, start time.Time) *dispenser {
	d := &dispenser{stop: stop, count: count, start: start}
	if rate > 0 {
		d.interval = time.Duration(float64(time.Second) / rate)
	}
	return d
}

// try claims a message if one may start now. done means none ever will.
func (d *dispenser) try() (ok, done bool) {
	if d.stop.Err() != nil {
		return false, true
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.count > 0 && d.claimed >= d.count {
		return false, true
	}
	if d.interval > 0 && time.Now().Before(d.slot()) {
		return false, false
	}
	d.claimed++
	return true, false
}

func (d *dispenser) slot() time.Time { return d.start.Add(time.Duration(d.claimed) * d.interval) }

// claim claims a message, waiting for its slot under a rate; false when
// there are no more.
func (d *dispenser) claim() bool {
	if d.stop.Err() != nil {
		return false
	}
	d.mu.Lock()
	if d.count > 0 && d.claimed >= d.count {
		d.mu.Unlock()
		return false
	}
	at := d.slot()
	d.claimed++
	d.mu.Unlock()
	if wait := time.Until(at); d.interval > 0 && wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-d.stop.Done():
			return false
		case <-t.C:
		}
	}
	return true
}

// memSource holds a small message in memory, so that sending it again and
// again costs no file system calls: a --data file is otherwise opened,
// read and checked for changes once per message.
type memSource struct {
	send.Source
	b []byte
}

// maxCached is the largest message kept in memory for the whole run.
const maxCached = 1 << 20

func cache(src send.Source) send.Source {
	if src == nil || src.Size() > maxCached {
		return src
	}
	rc, err := src.Open()
	if err != nil {
		return src // each message will report it
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxCached+1))
	if err != nil || int64(len(b)) != src.Size() {
		return src
	}
	return &memSource{Source: src, b: b}
}

// memReaders are reused from message to message: a run opens its message
// once per message, and a reader per message would be garbage per message.
var memReaders = sync.Pool{New: func() any { return new(memReader) }}

func (m *memSource) Open() (io.ReadCloser, error) {
	r := memReaders.Get().(*memReader)
	r.r.Reset(m.b)
	r.open = true
	return r, nil
}

type memReader struct {
	r    bytes.Reader
	open bool
}

func (m *memReader) Read(p []byte) (int, error) { return m.r.Read(p) }

// Close returns the reader for the next message; it must not be used
// after.
func (m *memReader) Close() error {
	if m.open {
		m.open = false
		m.r.Reset(nil)
		memReaders.Put(m)
	}
	return nil
}
