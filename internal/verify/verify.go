package verify

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smtpx/smtpx/internal/address"
	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/route"
	"github.com/smtpx/smtpx/internal/session"
)

// Methods of asking about an address.
const (
	MethodRcpt = "rcpt" // MAIL FROM + RCPT TO, the only method most servers answer honestly
	MethodVrfy = "vrfy" // VRFY (RFC 5321 §3.5.1); usually disabled
	MethodExpn = "expn" // EXPN (RFC 5321 §3.5.2), for mailing lists
)

// Methods lists the --method values.
var Methods = []string{MethodRcpt, MethodVrfy, MethodExpn}

// Defaults for the bulk limits.
const (
	DefaultPerSession  = 20
	DefaultConcurrency = 10
	DefaultPerMX       = 1
	DefaultDelay       = 2 * time.Second
	DefaultPort        = 25
)

// Options configure a run.
type Options struct {
	// Helo is the EHLO name; "" means this host's FQDN (session.HeloName).
	Helo string
	// From is the reverse-path; nil means the null sender "<>".
	From *address.Address
	// Method is MethodRcpt (default), MethodVrfy or MethodExpn.
	Method string
	// CatchAll probes a random local part after an acceptance (once per
	// domain) to tell a catch-all domain from a real mailbox.
	CatchAll bool
	// NoStartTLS skips STARTTLS even when offered.
	NoStartTLS bool
	// MX is the --mx HOST[:PORT] that replaces DNS routing for every address.
	MX string
	// Port is the port of the MX hosts found in DNS; 0 means 25.
	Port int
	// Resolver answers the MX questions (and resolves a named MX).
	Resolver *route.Resolver
	// Session is the template for each session: timeouts, the TLS
	// configuration (ServerName is set per MX), the dialer.
	Session session.Options
	// Bulk limits: RCPT probes per session, sessions at once, sessions to
	// one server at once, and the pause between sessions to one server.
	// A server is an IP address: MX names that point at one address (ten
	// domains hosted in one place) share its PerMX and Delay.
	PerSession  int
	Concurrency int
	PerMX       int
	Delay       time.Duration
	// Limits bound the addresses and sessions one session sought may try
	// over the MX hosts of a domain (or --mx); the zero value means
	// route.DefaultLimits.
	Limits route.Limits
	// WaitGreylist, when positive, retries a greylisted address once,
	// from the same sender, after this long (or the server's own hint when
	// that is shorter).
	WaitGreylist time.Duration
	// Retries is how many new sessions an address cut off by a dropped
	// session gets before it is reported unknown; 0 means 1.
	Retries int
	// Observer, if set, returns the observer for session number n (from 1).
	Observer func(n int) session.Observer
	// RandomLocal returns the local part for the catch-all probe; nil means
	// a random one.
	RandomLocal func() string
	// Progress is called once per finished input row, with the count so far.
	Progress func(done int)
}

// Check refuses options no run can use, in the words of the flags that
// set them.
func (o Options) Check() error {
	switch {
	case !slices.Contains(Methods, o.Method):
		return exitcode.Usagef("use --method rcpt, vrfy or expn", "--method %q is not a method", o.Method)
	case o.PerSession < 1 || o.Concurrency < 1 || o.PerMX < 1:
		return exitcode.Usagef("give a positive number", "--per-session, --concurrency and --per-mx must be at least 1")
	case o.Delay < 0 || o.WaitGreylist < 0:
		return exitcode.Usagef("give a duration such as 2s, or 0", "--delay and --wait-greylist cannot be negative")
	case o.Port < 1 || o.Port > 65535:
		return exitcode.Usagef("give a port between 1 and 65535", "--port %d is out of range", o.Port)
	}
	return nil
}

// Input is one line of input.
type Input struct {
	Line int    // 1-based line number in the input, 0 for an argument
	Text string // the address as given
}

// Attempt is one MX connection that did not serve the address.
type Attempt struct {
	Host    string `json:"host"`
	Address string `json:"address"`
	Error   string `json:"error"`
}

// Result is the verdict for one input row and the evidence behind it.
type Result struct {
	Line    int
	Input   string
	Address address.Address // zero for bad syntax
	Verdict Verdict
	Reason  string
	// Source says where the deciding evidence came from: "smtp" (a reply),
	// "dns" (null MX, no such domain), "syntax", or "client" (smtpx decided
	// without asking, e.g. no SMTPUTF8 for a non-ASCII local part).
	Source string
	// Reply is the reply that decided; for DNS verdicts a synthesised one
	// (556 5.1.10 for a null MX, RFC 7505 §4.2). Nil when there was none.
	Reply *session.Reply
	// CatchAll is nil when not determined.
	CatchAll   *bool
	Greylisted bool
	RetryAfter time.Duration
	// Skipped is set when the address was never sent because the server
	// had already said 421 or refused the prober for the domain.
	Skipped bool
	// MX is the host name and address of the server that answered.
	MX, MXAddress string
	Tried         []Attempt
	TLS           *tls.ConnectionState
	TLSVerified   bool
	// TLSUnchecked is set when verification was switched off on purpose
	// (--insecure); TLSError then holds the transcript's words for it.
	TLSUnchecked bool
	TLSError     string
	// TLSFallback is set when STARTTLS failed (handshake error, plaintext
	// injected after 220) and the address was checked in plaintext.
	TLSFallback bool
	SMTPUTF8    bool
	Session     int // number of the session that decided, 0 if none
	Timings     session.Timings
	Err         error
	// Exit is the status DESIGN §4 gives this verdict on its own.
	Exit int
	// PortBlocked is set when every MX timed out on port 25: outbound
	// port 25 is probably blocked where smtpx runs.
	PortBlocked bool
}

// Summary counts a run.
type Summary struct {
	Rows      int
	Probed    int // distinct addresses asked about
	ByVerdict map[Verdict]int
	Sessions  int
	Elapsed   time.Duration
}

// catch-all knowledge about a domain.
type catchState int

const (
	catchUnknown catchState = iota
	catchProbing
	catchYes
	catchNo
	catchInconclusive
)

type row struct {
	in   Input
	job  *job
	res  *Result
	done bool
}

type job struct {
	idx         int // index of its first row: the queue order
	addr        address.Address
	rows        []*row
	dom         *domain
	attempts    int
	greyRetried bool
	notBefore   time.Time
	// accepted holds the result of an accepted RCPT waiting for the
	// domain's catch-all answer.
	accepted *Result
	done     bool
	queued   bool
}

type domain struct {
	name     string
	catch    catchState
	catchRes string // what the probe saw, for the reason
	// probeFailures counts catch-all probes lost to a broken session.
	probeFailures int
	waiters       []*job
}

type group struct {
	key         string
	hosts       []route.Host
	omitted     int // MX hosts left out by route.Limits
	port        int
	queue       []*job
	stopped     *Result // set when the domain asked to be left alone
	everOK      bool
	failedInRow int
	brokenInRow int // sessions that broke before deciding any address
}

// server is the politeness share of one server address: at most PerMX
// sessions at once, starting Delay apart. It is keyed by IP address, not by
// MX name, because many names (of many domains) can point at one server,
// and it is the server that feels the load.
type server struct {
	slots chan struct{}
	next  time.Time // the earliest start of the next session; guarded by engine.mu
}

type engine struct {
	o        Options
	emit     func(*Result)
	mu       sync.Mutex
	rows     []*row
	next     int // next row to emit
	done     int
	sessions atomic.Int64 // connections made
	dials    atomic.Int64 // connection attempts, numbering sessions
	global   chan struct{}
	servers  map[netip.Addr]*server
	helo     string
	probed   int
}

// Run verifies the inputs and calls emit once per input, in input order,
// as soon as each row and all rows before it are decided. It returns when
// every row has been emitted; err is non-nil only for a failure that
// prevents any verification (an --mx host that does not resolve).
func Run(ctx context.Context, o Options, inputs []Input, emit func(*Result)) (Summary, error) {
	start := time.Now()
	if o.PerSession <= 0 {
		o.PerSession = DefaultPerSession
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.PerMX <= 0 {
		o.PerMX = DefaultPerMX
	}
	if o.Port == 0 {
		o.Port = DefaultPort
	}
	if o.Retries <= 0 {
		o.Retries = 1
	}
	if o.Method == "" {
		o.Method = MethodRcpt
	}
	if o.RandomLocal == nil {
		o.RandomLocal = randomLocal
	}
	e := &engine{o: o, emit: emit, global: make(chan struct{}, o.Concurrency), servers: map[netip.Addr]*server{}}
	sum := Summary{ByVerdict: map[Verdict]int{}}
	e.emit = func(r *Result) {
		sum.Rows++
		sum.ByVerdict[r.Verdict]++
		if emit != nil {
			emit(r)
		}
	}

	// Parse, and share one job between rows naming the same address.
	jobs := map[string]*job{}
	var order []*job
	domains := map[string]*domain{}
	for i, in := range inputs {
		r := &row{in: in}
		e.rows = append(e.rows, r)
		a, err := address.Parse(in.Text)
		if err != nil {
			r.res = &Result{Line: in.Line, Input: in.Text, Verdict: BadSyntax, Reason: syntaxReason(err), Source: "syntax", Err: err, Exit: exitcode.Usage}
			r.done = true
			continue
		}
		key := a.Mailbox()
		j := jobs[key]
		if j == nil {
			d := domains[a.ASCIIDomain]
			if d == nil {
				d = &domain{name: a.ASCIIDomain}
				domains[a.ASCIIDomain] = d
			}
			j = &job{idx: i, addr: a, dom: d}
			jobs[key] = j
			order = append(order, j)
		}
		j.rows = append(j.rows, r)
		r.job = j
	}
	e.probed = len(order)
	e.mu.Lock()
	e.flush()
	e.mu.Unlock()

	groups, err := e.route(ctx, order)
	if err != nil {
		return sum, err
	}
	var wg sync.WaitGroup
	for _, g := range groups {
		n := min(o.PerMX, (len(g.queue)+o.PerSession-1)/o.PerSession)
		for range n {
			wg.Go(func() { e.worker(ctx, g) })
		}
	}
	wg.Wait()

	// Accepted addresses whose domain's catch-all probe never finished
	// (its session broke) cannot be called deliverable.
	e.mu.Lock()
	for _, j := range order {
		if !j.done && j.accepted != nil {
			res := j.accepted
			res.Verdict, res.Exit = Unprovable, exitcode.OK
			res.Reason += "; the catch-all check did not complete"
			e.finish(j, res)
		} else if !j.done {
			e.finish(j, &Result{Verdict: Unknown, Reason: "not verified: interrupted", Err: ctx.Err(), Exit: exitcode.Network})
		}
	}
	e.flush()
	e.mu.Unlock()
	sum.Probed = e.probed
	sum.Sessions = int(e.sessions.Load())
	sum.Elapsed = time.Since(start)
	return sum, nil
}

func syntaxReason(err error) string {
	var ae *address.Error
	if errors.As(err, &ae) {
		return "bad syntax: " + ae.Msg
	}
	return "bad syntax: " + err.Error()
}

// randomLocal returns a local part no one has: 16 characters from a 36-letter
// alphabet, starting with a letter.
func randomLocal() string {
	const alpha = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alpha[int(b[i])%len(alpha)]
	}
	b[0] = alpha[int(b[0])%26]
	return string(b)
}

// route finds the mail servers of each domain and groups the jobs by MX
// list, so domains sharing their servers share sessions. Domains that DNS
// already decides are finished here.
func (e *engine) route(ctx context.Context, order []*job) ([]*group, error) {
	byDomain := map[*domain][]*job{}
	var doms []*domain
	for _, j := range order {
		if byDomain[j.dom] == nil {
			doms = append(doms, j.dom)
		}
		byDomain[j.dom] = append(byDomain[j.dom], j)
	}
	if e.o.MX != "" {
		h, port, err := e.mxHost(ctx)
		if err != nil {
			return nil, err
		}
		g := &group{key: h.Name, hosts: []route.Host{h}, port: port}
		e.mu.Lock()
		g.requeue(order...)
		e.mu.Unlock()
		return []*group{g}, nil
	}
	type answer struct {
		res route.Result
		err error
	}
	answers := make([]answer, len(doms))
	var wg sync.WaitGroup
	sem := make(chan struct{}, max(e.o.Concurrency, 8))
	for i, d := range doms {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if e.o.Resolver == nil {
				answers[i].err = errors.New("no resolver")
				return
			}
			answers[i].res, answers[i].err = e.o.Resolver.RouteWithin(ctx, byDomain[d][0].addr.Domain, e.o.Limits)
		})
	}
	wg.Wait()
	groups := map[string]*group{}
	var out []*group
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, d := range doms {
		a := answers[i]
		if a.err != nil {
			for _, j := range byDomain[d] {
				e.finish(j, dnsResult(a.err))
			}
			continue
		}
		names := make([]string, len(a.res.Hosts))
		for k, h := range a.res.Hosts {
			names[k] = h.Name
		}
		key := strings.Join(names, " ")
		g := groups[key]
		if g == nil {
			g = &group{key: key, hosts: a.res.Hosts, omitted: a.res.Omitted, port: e.o.Port}
			groups[key] = g
			out = append(out, g)
		}
		for _, j := range byDomain[d] {
			j.queued = true
			g.queue = append(g.queue, j)
		}
	}
	e.flush()
	for _, g := range out {
		slices.SortFunc(g.queue, func(a, b *job) int { return a.idx - b.idx })
	}
	return out, nil
}

// dnsResult turns a routing failure into a verdict.
func dnsResult(err error) *Result {
	res := &Result{Source: "dns", Err: err}
	switch route.KindOf(err) {
	case route.KindNullMX:
		// RFC 7505 §4.2: report it as 556 5.1.10 without connecting.
		res.Verdict = Undeliverable
		res.Reason = "the domain publishes a null MX (RFC 7505): it accepts no mail"
		res.Reply = &session.Reply{Code: 556, Enhanced: "5.1.10", Lines: []string{"5.1.10 domain does not accept mail (null MX)"}}
	case route.KindNXDomain:
		res.Verdict = Undeliverable
		res.Reason = "the domain does not exist (NXDOMAIN)"
		res.Reply = &session.Reply{Enhanced: "5.1.2", Lines: []string{"5.1.2 domain does not exist"}}
	case route.KindNoData:
		res.Verdict = Undeliverable
		res.Reason = "the domain has no MX and no address records"
		res.Reply = &session.Reply{Enhanced: "5.1.2", Lines: []string{"5.1.2 domain has no mail servers"}}
	case route.KindInvalid:
		res.Verdict = BadSyntax
		res.Reason = "bad domain: " + err.Error()
		res.Source = "syntax"
		res.Exit = exitcode.Usage
		return res
	default:
		res.Verdict = Unknown
		res.Reason = "DNS lookup failed: " + err.Error()
	}
	res.Exit = exitFor(res.Verdict, nil, err)
	if res.Verdict == Undeliverable {
		res.Exit = exitcode.Permanent
	}
	return res
}

// mxHost resolves --mx.
func (e *engine) mxHost(ctx context.Context) (route.Host, int, error) {
	host, port := e.o.MX, e.o.Port
	if h, p, err := net.SplitHostPort(e.o.MX); err == nil {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return route.Host{}, 0, exitcode.Usagef("write --mx as HOST or HOST:PORT", "--mx %q: bad port", e.o.MX)
		}
		host, port = h, n
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if host == "" {
		return route.Host{}, 0, exitcode.Usagef("write --mx as HOST or HOST:PORT", "--mx %q: no host", e.o.MX)
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		h := route.Host{Name: ip.String()}
		if ip.Is4() {
			h.IPv4 = []netip.Addr{ip}
		} else {
			h.IPv6 = []netip.Addr{ip}
		}
		return h, port, nil
	}
	if e.o.Resolver == nil {
		return route.Host{}, 0, errors.New("no resolver")
	}
	h, err := e.o.Resolver.LookupHost(ctx, host)
	if err != nil {
		if route.KindOf(err) == route.KindInvalid {
			return route.Host{}, 0, exitcode.Usagef("write --mx as HOST or HOST:PORT", "--mx: %v", err)
		}
		return route.Host{}, 0, &exitcode.Error{Code: exitcode.Network, Msg: "--mx: " + err.Error(), Hint: "check the --mx host name, or give its address", Err: err}
	}
	return h, port, nil
}

// finish records a job's result on each of its rows. Caller holds e.mu.
func (e *engine) finish(j *job, res *Result) {
	if j.done {
		return
	}
	j.done = true
	j.accepted = nil
	for _, r := range j.rows {
		c := *res
		c.Line, c.Input, c.Address = r.in.Line, r.in.Text, j.addr
		c.SMTPUTF8 = j.addr.UTF8
		r.res, r.done = &c, true
	}
}

// flush emits the decided rows at the front. Caller holds e.mu.
func (e *engine) flush() {
	for e.next < len(e.rows) && e.rows[e.next].done {
		e.emit(e.rows[e.next].res)
		e.next++
		e.done++
		if e.o.Progress != nil {
			e.o.Progress(e.done)
		}
	}
}

// take picks the next batch of ready jobs for a session; wait is how long
// until a waiting (greylisted) job becomes ready when none is.
func (e *engine) take(g *group) (batch []*job, wait time.Duration, empty bool) {
	now := time.Now()
	var rest []*job
	earliest := time.Time{}
	for _, j := range g.queue {
		if j.done {
			j.queued = false
			continue
		}
		if len(batch) < e.o.PerSession && !j.notBefore.After(now) {
			j.queued = false
			batch = append(batch, j)
			continue
		}
		if j.notBefore.After(now) && (earliest.IsZero() || j.notBefore.Before(earliest)) {
			earliest = j.notBefore
		}
		rest = append(rest, j)
	}
	g.queue = rest
	if len(batch) == 0 && len(rest) == 0 {
		return nil, 0, true
	}
	if len(batch) == 0 {
		return nil, time.Until(earliest), false
	}
	return batch, 0, false
}

// requeue puts jobs back in input order. Caller holds e.mu.
func (g *group) requeue(jobs ...*job) {
	for _, j := range jobs {
		if !j.queued && !j.done {
			j.queued = true
			g.queue = append(g.queue, j)
		}
	}
	slices.SortFunc(g.queue, func(a, b *job) int { return a.idx - b.idx })
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// worker runs sessions for a group until its queue is empty or the run is
// interrupted.
func (e *engine) worker(ctx context.Context, g *group) {
	for ctx.Err() == nil {
		e.mu.Lock()
		if g.stopped != nil {
			for _, j := range g.queue {
				e.finishStopped(j, g.stopped)
			}
			g.queue = nil
			e.flush()
			e.mu.Unlock()
			return
		}
		batch, wait, empty := e.take(g)
		e.mu.Unlock()
		if empty {
			return
		}
		if batch == nil {
			if sleep(ctx, wait) != nil {
				return
			}
			continue
		}
		e.runSession(ctx, g, batch)
		e.mu.Lock()
		e.flush()
		e.mu.Unlock()
	}
}

// turn waits until a session to ip may start: a free slot of the server
// (PerMX), Delay since its last session started and since one ended, and
// a free slot of Concurrency. Call release when the session is over.
func (e *engine) turn(ctx context.Context, ip netip.Addr) (release func(), err error) {
	e.mu.Lock()
	sv := e.servers[ip.Unmap()]
	if sv == nil {
		sv = &server{slots: make(chan struct{}, e.o.PerMX)}
		e.servers[ip.Unmap()] = sv
	}
	e.mu.Unlock()
	select {
	case sv.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	e.mu.Lock()
	start := time.Now()
	if sv.next.After(start) {
		start = sv.next
	}
	sv.next = start.Add(e.o.Delay)
	e.mu.Unlock()
	if err := sleep(ctx, time.Until(start)); err != nil {
		<-sv.slots
		return nil, err
	}
	// The global slot is taken last and only for the session itself, so a
	// session waiting for a busy server holds no slot that sessions to
	// other servers could use.
	select {
	case e.global <- struct{}{}:
	case <-ctx.Done():
		<-sv.slots
		return nil, ctx.Err()
	}
	return func() {
		<-e.global
		e.mu.Lock()
		if end := time.Now().Add(e.o.Delay); end.After(sv.next) {
			sv.next = end
		}
		e.mu.Unlock()
		<-sv.slots
	}, nil
}

// finishStopped reports an address that was not tried because the domain
// asked to be left alone. Caller holds e.mu.
func (e *engine) finishStopped(j *job, why *Result) {
	res := *why
	res.Skipped = true
	res.Reason = "not tried: " + why.Reason
	res.Session = 0
	e.finish(j, &res)
}
