package verify

import (
	"container/heap"
	"container/list"
	"context"
	"errors"
	"hash/fnv"
	"io"
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
)

// DefaultWindow is how many addresses a run reads ahead of their results
// unless Options.Window says otherwise: enough for full sessions to each
// of a few hundred domains at once, in a few MiB.
const DefaultWindow = 10000

// maxIdle bounds what a run remembers about domains, MX groups and servers
// that have nothing pending: their routes, catch-all answers and
// politeness. Past it the least recently used are forgotten (and looked up
// or probed again should their addresses come back), so a list of a
// million domains runs in the memory of a list of sixteen thousand.
const maxIdle = 1 << 14

// Source yields the addresses of a run one at a time; Next returns io.EOF
// after the last. Any other error ends the reading (the rows read so far
// are still verified) and is returned by Run.
type Source interface {
	Next() (Input, error)
}

type sliceSource struct {
	in []Input
	i  int
}

func (s *sliceSource) Next() (Input, error) {
	if s.i >= len(s.in) {
		return Input{}, io.EOF
	}
	s.i++
	return s.in[s.i-1], nil
}

// Inputs is a Source over inputs already in memory.
func Inputs(in []Input) Source { return &sliceSource{in: in} }

// Shard selects one of N parts of a run by the hash of each address's
// domain, so that the N parts of one list are together exactly the list
// and every address of a domain (and so its politeness) is in one part.
type Shard struct {
	I, N int // 1 <= I <= N; N <= 1 means the whole list
}

// Has reports whether an input belongs to the shard: FNV-1a (64 bits) of
// the lower-case ASCII domain, modulo N, equals I-1. A line that is no
// address hashes what follows its last @, or the whole line. The hash
// needs no seed, so every machine shards a list alike.
func (s Shard) Has(in Input) bool {
	if s.N <= 1 {
		return true
	}
	a, err := address.Parse(in.Text)
	return s.has(in.Text, a, err)
}

// has is Has for an input already parsed.
func (s Shard) has(text string, a address.Address, perr error) bool {
	if s.N <= 1 {
		return true
	}
	key := a.ASCIIDomain
	if perr != nil {
		key = text
		if i := strings.LastIndexByte(text, '@'); i >= 0 {
			key = text[i+1:]
		}
	}
	return shardKey(key, s.N) == s.I-1
}

// ParseShard reads --shard I/N.
func ParseShard(s string) (Shard, error) {
	var sh Shard
	i, n, ok := strings.Cut(s, "/")
	var err1, err2 error
	sh.I, err1 = strconv.Atoi(strings.TrimSpace(i))
	sh.N, err2 = strconv.Atoi(strings.TrimSpace(n))
	if !ok || err1 != nil || err2 != nil || sh.N < 1 || sh.I < 1 || sh.I > sh.N {
		return Shard{}, exitcode.Usagef("write --shard I/N with 1 <= I <= N, e.g. --shard 1/4 ... --shard 4/4", "--shard %q is not a shard", s)
	}
	return sh, nil
}

func shardKey(key string, n int) int {
	h := fnv.New64a()
	h.Write([]byte(strings.ToLower(strings.TrimSuffix(key, "."))))
	return int(h.Sum64() % uint64(n))
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
	res  *Result
	done bool
}

type job struct {
	addr        address.Address
	rows        []*row
	dom         *domain
	attempts    int
	greyRetried bool
	notBefore   time.Time
	// accepted holds the result of an accepted RCPT waiting for the
	// domain's catch-all answer.
	accepted *Result
	// probe marks the catch-all probe of dom, queued after an earlier
	// probe was lost to a broken session; it has no rows of its own.
	probe  bool
	done   bool
	queued bool
}

type domain struct {
	name     string
	catch    catchState
	catchRes string // what the probe saw, for the reason
	// probeFailures counts catch-all probes lost to a broken session.
	probeFailures int
	waiters       []*job
	// The route, once known: the MX hosts, or the DNS failure.
	routed  bool
	routing bool
	hosts   []route.Host
	omitted int
	dnsErr  error
	waiting []*job // jobs waiting for the route
	refs    int    // jobs pending in the domain
	idle    *list.Element
}

type group struct {
	key         string
	hosts       []route.Host
	omitted     int // MX hosts left out by route.Limits
	port        int
	ready       []*job  // in arrival order; requeued jobs go first
	later       jobHeap // greylisted jobs, by the time they may be asked again
	workers     int
	runnable    bool // waiting in engine.runnable for a worker
	kick        chan struct{}
	stopped     *Result // set when the domain asked to be left alone
	everOK      bool
	failedInRow int
	brokenInRow int // sessions that broke before deciding any address
	idle        *list.Element
}

func (g *group) queued() int { return len(g.ready) + len(g.later) }

// jobHeap orders waiting jobs by notBefore.
type jobHeap []*job

func (h jobHeap) Len() int           { return len(h) }
func (h jobHeap) Less(i, j int) bool { return h[i].notBefore.Before(h[j].notBefore) }
func (h jobHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *jobHeap) Push(x any)        { *h = append(*h, x.(*job)) }
func (h *jobHeap) Pop() any {
	old := *h
	j := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return j
}

// server is the politeness share of one server address: at most PerMX
// sessions at once, starting Delay apart. It is keyed by IP address, not by
// MX name, because many names (of many domains) can point at one server,
// and it is the server that feels the load.
type server struct {
	slots chan struct{}
	next  time.Time // the earliest start of the next session; guarded by engine.mu
	users int       // sessions holding or waiting for a slot; guarded by engine.mu
	// stopped is the answer of a server that asked to be left alone (421,
	// a policy refusal): every domain it serves gets it; guarded by
	// engine.mu.
	stopped *Result
}

type engine struct {
	o    Options
	ctx  context.Context
	emit func(*Result)
	mu   sync.Mutex
	// more is signalled when a row is emitted: the reader may go on, or
	// the run may end.
	more    *sync.Cond
	pending int    // rows read and not emitted
	order   []*row // Ordered: rows not emitted, in input order
	jobs    map[string]*job
	domains map[string]*domain
	groups  map[string]*group
	servers map[netip.Addr]*server
	// Forgettable domains and groups, most recently used first.
	idleDomains         idleList[*domain]
	idleGroups          idleList[*group]
	mx                  *group // --mx: the one group
	runnable            []*group
	workers, maxWorkers int
	routeQ              []*domain
	routers, maxRouters int
	wg                  sync.WaitGroup
	sum                 Summary
	done                int
	sessions            atomic.Int64 // connections made
	dials               atomic.Int64 // connection attempts, numbering sessions
	global              chan struct{}
	helo                string
}

// Run verifies the addresses src yields and calls emit once per input
// row: as soon as it is decided, or with Ordered in input order. At most
// Window rows are read ahead of their results, so memory does not grow
// with the input. With a Shard, rows of other shards are skipped without
// a row. Run returns when every row read has been emitted; err is a
// failure that prevents any verification (an --mx host that does not
// resolve) or src's error, which ends the reading.
func Run(ctx context.Context, o Options, src Source, emit func(*Result)) (Summary, error) {
	return newEngine(ctx, o, emit).run(src)
}

func newEngine(ctx context.Context, o Options, emit func(*Result)) *engine {
	o = o.withDefaults()
	e := &engine{o: o, ctx: ctx, emit: emit, global: make(chan struct{}, o.Concurrency),
		jobs: map[string]*job{}, domains: map[string]*domain{}, groups: map[string]*group{},
		servers: map[netip.Addr]*server{}, sum: Summary{ByVerdict: map[Verdict]int{}},
		maxWorkers: max(4*o.Concurrency, 64), maxRouters: max(o.Concurrency, 8)}
	e.more = sync.NewCond(&e.mu)
	return e
}

func (e *engine) run(src Source) (Summary, error) {
	start := time.Now()
	ctx, o := e.ctx, e.o
	if o.MX != "" {
		h, port, err := e.mxHost(ctx)
		if err != nil {
			return e.sum, err
		}
		e.mx = &group{key: h.Name, hosts: []route.Host{h}, port: port, kick: make(chan struct{}, 1)}
	}
	// An interrupt wakes a reader waiting for room in the window.
	stop := context.AfterFunc(ctx, func() {
		e.mu.Lock()
		e.more.Broadcast()
		e.mu.Unlock()
	})
	defer stop()

	var readErr error
	for ctx.Err() == nil {
		in, err := src.Next()
		if err != nil {
			if err != io.EOF {
				readErr = err
			}
			break
		}
		a, perr := address.Parse(in.Text)
		if !o.Shard.has(in.Text, a, perr) {
			continue
		}
		e.mu.Lock()
		for e.pending >= o.Window && ctx.Err() == nil {
			e.more.Wait()
		}
		if ctx.Err() == nil {
			e.add(in, a, perr)
		}
		e.mu.Unlock()
	}
	e.mu.Lock()
	for e.pending > 0 && ctx.Err() == nil {
		e.more.Wait()
	}
	e.mu.Unlock()
	e.wg.Wait()

	// What is left was interrupted; an accepted address whose domain's
	// catch-all probe never finished cannot be called deliverable.
	e.mu.Lock()
	for _, j := range e.jobs {
		e.abandon(j)
	}
	for _, d := range e.domains {
		for _, j := range d.waiters {
			e.abandon(j)
		}
	}
	e.mu.Unlock()
	e.sum.Sessions = int(e.sessions.Load())
	e.sum.Elapsed = time.Since(start)
	return e.sum, readErr
}

// withDefaults fills the zero values.
func (o Options) withDefaults() Options {
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
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.maxIdle <= 0 {
		o.maxIdle = maxIdle
	}
	return o
}

// abandon finishes a job the run could not decide. Caller holds e.mu.
func (e *engine) abandon(j *job) {
	if j.done {
		return
	}
	if j.accepted != nil {
		res := j.accepted
		res.Verdict, res.Exit = Unprovable, exitcode.OK
		res.Reason += "; the catch-all check did not complete"
		e.finish(j, res)
		return
	}
	e.finish(j, &Result{Verdict: Unknown, Reason: "not verified: interrupted", Err: e.ctx.Err(), Exit: exitcode.Network})
}

// add takes one input row into the window. Caller holds e.mu.
func (e *engine) add(in Input, a address.Address, perr error) {
	r := &row{in: in}
	e.pending++
	if e.o.Ordered {
		e.order = append(e.order, r)
	}
	if perr != nil {
		r.res = &Result{Line: in.Line, Input: in.Text, Verdict: BadSyntax, Reason: syntaxReason(perr), Source: "syntax", Err: perr, Exit: exitcode.Usage}
		r.done = true
		e.rowDone(r)
		return
	}
	// Rows naming one address share its job while it is pending.
	key := a.Mailbox()
	j := e.jobs[key]
	if j == nil {
		e.sum.Probed++
		j = &job{addr: a, dom: e.domain(a.ASCIIDomain)}
		j.dom.refs++
		e.jobs[key] = j
		j.rows = append(j.rows, r)
		e.dispatch(j)
		return
	}
	j.rows = append(j.rows, r)
}

// domain returns the state of a domain, made or remembered. Caller holds
// e.mu.
func (e *engine) domain(name string) *domain {
	d := e.domains[name]
	if d == nil {
		d = &domain{name: name}
		e.domains[name] = d
	}
	e.idleDomains.unpark(&d.idle)
	return d
}

// dispatch sends a new job where it goes next: its group's queue, the
// domain's route lookup, or straight to its DNS verdict. Caller holds e.mu.
func (e *engine) dispatch(j *job) {
	d := j.dom
	switch {
	case e.mx != nil:
		e.enqueue(e.mx, j)
	case d.routed && d.dnsErr != nil:
		e.finish(j, dnsResult(d.dnsErr))
	case d.routed:
		e.enqueue(e.group(d), j)
	default:
		d.waiting = append(d.waiting, j)
		if !d.routing {
			d.routing = true
			e.routeQ = append(e.routeQ, d)
			if e.routers < e.maxRouters {
				e.routers++
				e.wg.Go(e.router)
			}
		}
	}
}

// router looks up the routes of queued domains until none is left.
func (e *engine) router() {
	for {
		e.mu.Lock()
		if len(e.routeQ) == 0 || e.ctx.Err() != nil {
			e.routers--
			e.mu.Unlock()
			return
		}
		d := e.routeQ[0]
		e.routeQ[0] = nil
		e.routeQ = e.routeQ[1:]
		name := d.waiting[0].addr.Domain
		e.mu.Unlock()
		var res route.Result
		err := errors.New("no resolver")
		if e.o.Resolver != nil {
			res, err = e.o.Resolver.RouteWithin(e.ctx, name, e.o.Limits)
		}
		e.mu.Lock()
		if e.ctx.Err() == nil {
			d.routing, d.routed = false, true
			d.hosts, d.omitted, d.dnsErr = res.Hosts, res.Omitted, err
			waiting := d.waiting
			d.waiting = nil
			for _, j := range waiting {
				e.dispatch(j)
			}
		}
		e.mu.Unlock()
	}
}

// group returns the group of a routed domain: domains with the same MX
// hosts share sessions. Caller holds e.mu.
func (e *engine) group(d *domain) *group {
	names := make([]string, len(d.hosts))
	for k, h := range d.hosts {
		names[k] = h.Name
	}
	key := strings.Join(names, " ")
	g := e.groups[key]
	if g == nil {
		g = &group{key: key, hosts: d.hosts, omitted: d.omitted, port: e.o.Port, kick: make(chan struct{}, 1)}
		e.groups[key] = g
	}
	e.idleGroups.unpark(&g.idle)
	return g
}

// enqueue queues a job in its group and finds it a worker. Caller holds
// e.mu.
func (e *engine) enqueue(g *group, j *job) {
	if j.queued || j.done {
		return
	}
	j.queued = true
	if j.notBefore.After(time.Now()) {
		heap.Push(&g.later, j)
	} else {
		g.ready = append(g.ready, j)
		select {
		case g.kick <- struct{}{}:
		default:
		}
	}
	e.wake(g)
}

// requeue puts jobs back at the front of their group's queue, in order,
// behind the catch-all probes queued there (the acceptances waiting for
// them are held in memory). Caller holds e.mu.
func (e *engine) requeue(g *group, jobs ...*job) {
	var front []*job
	for _, j := range jobs {
		if j.queued || j.done {
			continue
		}
		j.queued = true
		if j.notBefore.After(time.Now()) {
			heap.Push(&g.later, j)
			continue
		}
		front = append(front, j)
	}
	if len(front) > 0 {
		k := 0
		for k < len(g.ready) && g.ready[k].probe && !front[0].probe {
			k++
		}
		g.ready = slices.Concat(g.ready[:k], front, g.ready[k:])
	}
	e.wake(g)
}

// wake gives a group with queued jobs the workers it may use: up to PerMX,
// one per PerSession jobs, and no more than maxWorkers in all (the rest of
// the groups wait their turn in runnable). Caller holds e.mu.
func (e *engine) wake(g *group) {
	want := min(e.o.PerMX, (g.queued()+e.o.PerSession-1)/e.o.PerSession)
	for g.workers < want && e.workers < e.maxWorkers {
		g.workers++
		e.workers++
		e.wg.Go(func() { e.worker(g) })
	}
	if g.workers < want && !g.runnable {
		g.runnable = true
		e.runnable = append(e.runnable, g)
	}
}

// worker runs sessions for a group until it has no work for one more
// session, then takes on a group waiting for a worker, until none is left
// or the run is interrupted.
func (e *engine) worker(g *group) {
	e.mu.Lock()
	for {
		batch, wait := e.work(g)
		switch {
		case batch != nil:
			e.mu.Unlock()
			e.runSession(e.ctx, g, batch)
			e.mu.Lock()
			continue
		case wait > 0:
			e.mu.Unlock()
			e.pause(g, wait)
			e.mu.Lock()
			continue
		}
		// Leaving the group under the lock that saw its queue empty, so a
		// job queued meanwhile finds the worker count it needs.
		g.workers--
		e.forget(g)
		if g = e.nextRunnable(); g == nil {
			e.workers--
			e.mu.Unlock()
			return
		}
	}
}

// work is a worker's next batch for a group, or how long to wait for a
// greylisted job; neither when there is nothing to do. Caller holds e.mu.
func (e *engine) work(g *group) (batch []*job, wait time.Duration) {
	if e.ctx.Err() != nil {
		return nil, 0
	}
	if g.stopped != nil {
		for _, j := range g.ready {
			j.queued = false
			e.finishStopped(j, g.stopped)
		}
		for _, j := range g.later {
			j.queued = false
			e.finishStopped(j, g.stopped)
		}
		g.ready, g.later = nil, nil
		return nil, 0
	}
	return e.take(g, e.o.PerSession)
}

// pause waits for a greylisted job to be due, or for a job queued
// meanwhile, or for the end of the run.
func (e *engine) pause(g *group, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-e.ctx.Done():
	case <-t.C:
	case <-g.kick:
	}
}

// nextRunnable attaches a worker to the next group waiting for one.
// Caller holds e.mu.
func (e *engine) nextRunnable() *group {
	for len(e.runnable) > 0 && e.ctx.Err() == nil {
		g := e.runnable[0]
		e.runnable[0] = nil
		e.runnable = e.runnable[1:]
		g.runnable = false
		if g.queued() > 0 && g.workers < e.o.PerMX {
			g.workers++
			e.wake(g)
			return g
		}
		e.forget(g)
	}
	return nil
}

// take picks up to n ready jobs of a group for a session; when none is
// ready, wait is how long until a greylisted one is, 0 when the queue is
// empty. Caller holds e.mu.
func (e *engine) take(g *group, n int) (batch []*job, wait time.Duration) {
	now := time.Now()
	for len(g.later) > 0 && !g.later[0].notBefore.After(now) {
		g.ready = append(g.ready, heap.Pop(&g.later).(*job))
	}
	k := 0
	for k < len(g.ready) && len(batch) < n {
		j := g.ready[k]
		g.ready[k] = nil
		k++
		j.queued = false
		if !j.done {
			batch = append(batch, j)
		}
	}
	g.ready = g.ready[k:]
	if len(g.ready) == 0 {
		g.ready = nil // let the array go
	}
	if batch == nil && len(g.later) > 0 {
		return nil, time.Until(g.later[0].notBefore)
	}
	return batch, 0
}

// finish records a job's result on each of its rows. Caller holds e.mu.
func (e *engine) finish(j *job, res *Result) {
	if j.done {
		return
	}
	j.done = true
	j.accepted = nil
	d := j.dom
	if j.probe {
		// A queued probe that cannot run: the accepted addresses it
		// would have settled stay unproven, and the next acceptance in
		// the domain probes again.
		d.catch = catchUnknown
		waiters := d.waiters
		d.waiters = nil
		for _, w := range waiters {
			e.abandon(w)
		}
	} else if key := j.addr.Mailbox(); e.jobs[key] == j {
		delete(e.jobs, key)
	}
	for _, r := range j.rows {
		c := *res
		c.Line, c.Input, c.Address = r.in.Line, r.in.Text, j.addr
		c.SMTPUTF8 = j.addr.UTF8
		r.res, r.done = &c, true
		e.rowDone(r)
	}
	j.rows = nil
	d.refs--
	if d.refs == 0 && len(d.waiters) == 0 && !d.routing {
		e.forgetDomain(d)
	}
}

// rowDone emits a decided row: at once, or with Ordered once every row
// before it is out. Caller holds e.mu.
func (e *engine) rowDone(r *row) {
	if !e.o.Ordered {
		e.out(r)
		return
	}
	k := 0
	for k < len(e.order) && e.order[k].done {
		e.out(e.order[k])
		e.order[k] = nil
		k++
	}
	e.order = e.order[k:]
}

func (e *engine) out(r *row) {
	e.sum.Rows++
	e.sum.ByVerdict[r.res.Verdict]++
	if e.emit != nil {
		e.emit(r.res)
	}
	r.res = nil
	e.pending--
	e.done++
	if e.o.Progress != nil {
		e.o.Progress(e.done)
	}
	e.more.Signal()
}

// idleList holds the forgettable entries of a map, most recently used
// first.
type idleList[T any] struct{ l list.List }

// park makes v forgettable and forgets (drop) the least recently used
// entries past max; the element it returns unparks v.
func (il *idleList[T]) park(v T, max int, drop func(T)) *list.Element {
	el := il.l.PushFront(v)
	for il.l.Len() > max {
		drop(il.l.Remove(il.l.Back()).(T))
	}
	return el
}

// unpark makes an entry in use again.
func (il *idleList[T]) unpark(el **list.Element) {
	if *el != nil {
		il.l.Remove(*el)
		*el = nil
	}
}

// forgetDomain marks a domain with nothing pending as forgettable.
// Caller holds e.mu.
func (e *engine) forgetDomain(d *domain) {
	if d.idle != nil || e.domains[d.name] != d {
		return
	}
	d.idle = e.idleDomains.park(d, e.o.maxIdle, func(old *domain) {
		old.idle = nil
		delete(e.domains, old.name)
	})
}

// forget marks a group without work as forgettable. Caller holds e.mu.
func (e *engine) forget(g *group) {
	if g == e.mx || g.idle != nil || g.workers > 0 || g.queued() > 0 || g.runnable || e.groups[g.key] != g {
		return
	}
	g.idle = e.idleGroups.park(g, e.o.maxIdle, func(old *group) {
		old.idle = nil
		delete(e.groups, old.key)
	})
}

// settle gives the accepted addresses waiting for a domain's catch-all
// answer their verdict. Caller holds e.mu.
func (e *engine) settle(d *domain) {
	waiters := d.waiters
	d.waiters = nil
	for _, w := range waiters {
		if w.accepted != nil && !w.done {
			applyCatch(w.accepted, d)
			e.finish(w, w.accepted)
		}
	}
}
