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
	// Window bounds the rows read ahead of their results, so that a run's
	// memory does not grow with its input; 0 means DefaultWindow. Within
	// it, addresses waiting for a session are grouped by MX.
	Window int
	// Ordered emits the rows in input order (the window is then also the
	// reorder buffer) instead of as they are decided.
	Ordered bool
	// Shard, when Shard.N > 1, verifies only the addresses of one shard.
	Shard Shard
	// maxIdle overrides the const of the same name, for tests.
	maxIdle int
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
	case o.Window < 1:
		return exitcode.Usagef("give a positive number, such as 10000", "--window must be at least 1")
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

// turn waits until a session to ip may start: a free slot of the server
// (PerMX), Delay since its last session started and since one ended, and
// a free slot of Concurrency. Call release when the session is over.
func (e *engine) turn(ctx context.Context, ip netip.Addr) (release func(), err error) {
	e.mu.Lock()
	sv := e.server(ip.Unmap())
	sv.users++
	e.mu.Unlock()
	leave := func() {
		e.mu.Lock()
		sv.users--
		e.mu.Unlock()
	}
	select {
	case sv.slots <- struct{}{}:
	case <-ctx.Done():
		leave()
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
		leave()
		return nil, err
	}
	// The global slot is taken last and only for the session itself, so a
	// session waiting for a busy server holds no slot that sessions to
	// other servers could use.
	select {
	case e.global <- struct{}{}:
	case <-ctx.Done():
		<-sv.slots
		leave()
		return nil, ctx.Err()
	}
	return func() {
		<-e.global
		e.mu.Lock()
		if end := time.Now().Add(e.o.Delay); end.After(sv.next) {
			sv.next = end
		}
		sv.users--
		e.mu.Unlock()
		<-sv.slots
	}, nil
}

// server returns the politeness share of an address. Past maxIdle
// servers, those no session uses and whose delay has passed are
// forgotten: they owe no one a pause. Caller holds e.mu.
func (e *engine) server(ip netip.Addr) *server {
	sv := e.servers[ip]
	if sv != nil {
		return sv
	}
	if len(e.servers) >= e.o.maxIdle {
		now := time.Now()
		for k, v := range e.servers {
			if v.users == 0 && !v.next.After(now) {
				delete(e.servers, k)
			}
		}
	}
	sv = &server{slots: make(chan struct{}, e.o.PerMX)}
	e.servers[ip] = sv
	return sv
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
