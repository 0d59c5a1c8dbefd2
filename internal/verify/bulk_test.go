package verify

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/smtptest"
	"github.com/smtpx/smtpx/internal/verify/verifytest"
)

// genSource yields n addresses over a number of domains: every tenth one
// refused by verifytest.Instant ("no" local parts), every 97th not an
// address. At each read it notes how far the run has read ahead of the
// rows it emitted, which Window must bound.
type genSource struct {
	n, domains int
	pos        int
	emitted    *atomic.Int64
	maxAhead   int
}

func (g *genSource) Next() (Input, error) {
	if g.pos >= g.n {
		return Input{}, io.EOF
	}
	if ahead := g.pos - int(g.emitted.Load()); ahead > g.maxAhead {
		g.maxAhead = ahead
	}
	g.pos++
	return Input{Line: g.pos, Text: genAddress(g.pos-1, g.domains)}, nil
}

func genAddress(i, domains int) string {
	switch {
	case i%97 == 5:
		return fmt.Sprintf("not an address %d", i)
	case i%10 == 0:
		return fmt.Sprintf("no%d@d%d.test", i, (i*7919)%domains)
	}
	// A multiplicative hash spreads consecutive lines over the domains.
	return fmt.Sprintf("ok%d@d%d.test", i, (i*7919)%domains)
}

func genVerdict(i int) Verdict {
	switch {
	case i%97 == 5:
		return BadSyntax
	case i%10 == 0:
		return Undeliverable
	}
	return Deliverable
}

func instant(t testing.TB) *verifytest.Instant {
	t.Helper()
	s, err := verifytest.StartInstant()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// bulkOptions verifies against one local MX that answers at once.
func bulkOptions(mx string) Options {
	o := baseOptions()
	o.MX = mx
	// The random probe starts "zz": Instant refuses it, so no domain is
	// a catch-all and accepted addresses are deliverable.
	o.PerMX, o.Concurrency = 8, 8
	return o
}

// TestBulk100k: 100,000 addresses in a window of 1,000: every input line
// gets exactly one row with its verdict, and the run never reads more than
// the window ahead of its results. No time is asserted.
func TestBulk100k(t *testing.T) {
	const n, domains, window = 100000, 1000, 1000
	srv := instant(t)
	o := bulkOptions(srv.Addr())
	o.Window = window
	var emitted atomic.Int64
	src := &genSource{n: n, domains: domains, emitted: &emitted}
	seen := make([]int, n+1)
	bad := 0
	start := time.Now()
	sum, err := Run(context.Background(), o, src, func(r *Result) {
		emitted.Add(1)
		if r.Line < 1 || r.Line > n {
			t.Fatalf("row for line %d", r.Line)
		}
		seen[r.Line]++
		want := genVerdict(r.Line - 1)
		if r.Verdict != want || r.Input != genAddress(r.Line-1, domains) {
			if bad++; bad < 10 {
				t.Errorf("line %d %q: %s (%s), want %s", r.Line, r.Input, r.Verdict, r.Reason, want)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	for line := 1; line <= n; line++ {
		if seen[line] != 1 {
			t.Fatalf("line %d got %d rows", line, seen[line])
		}
	}
	if sum.Rows != n || int(emitted.Load()) != n {
		t.Errorf("%d rows in the summary, %d emitted, for %d lines", sum.Rows, emitted.Load(), n)
	}
	if src.maxAhead > window {
		t.Errorf("read %d rows ahead of the results, window %d", src.maxAhead, window)
	}
	// Sessions are shared: PerSession addresses each, give or take the
	// ends of the run and the window.
	if limit := 2 * n / DefaultPerSession; sum.Sessions > limit {
		t.Errorf("%d sessions for %d addresses, want at most %d", sum.Sessions, n, limit)
	}
	t.Logf("%s; %d sessions served, read ahead at most %d; %.0f addresses/s",
		sum, srv.Sessions(), src.maxAhead, n/time.Since(start).Seconds())
}

// With Ordered, rows come in input order and the reorder buffer is the
// window.
func TestBulkOrdered(t *testing.T) {
	const n, window = 3000, 50
	srv := instant(t)
	o := bulkOptions(srv.Addr())
	o.Window, o.Ordered = window, true
	var emitted atomic.Int64
	src := &genSource{n: n, domains: 40, emitted: &emitted}
	last := 0
	_, err := Run(context.Background(), o, src, func(r *Result) {
		emitted.Add(1)
		if r.Line != last+1 {
			t.Fatalf("line %d after line %d", r.Line, last)
		}
		last = r.Line
	})
	if err != nil || last != n {
		t.Fatalf("%v, last line %d", err, last)
	}
	if src.maxAhead > window {
		t.Errorf("read %d rows ahead, window %d", src.maxAhead, window)
	}
}

// gatedSource yields a good address, then a bad one, then waits for the
// bad one's row before ending: without Ordered, a decided row is not held
// back by an undecided one before it.
type gatedSource struct {
	i    int
	gate chan struct{}
}

func (g *gatedSource) Next() (Input, error) {
	g.i++
	switch g.i {
	case 1:
		return Input{Line: 1, Text: "bob@slow.test"}, nil
	case 2:
		return Input{Line: 2, Text: "not an address"}, nil
	}
	select {
	case <-g.gate:
		return Input{}, io.EOF
	case <-time.After(time.Minute):
		return Input{}, fmt.Errorf("the decided row was held back")
	}
}

func TestBulkNotHeldBack(t *testing.T) {
	hang, err := smtptest.Start("hang\n")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(hang.Close)
	o := bulkOptions(hang.Addr())
	o.Session.Timeout = time.Minute
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	src := &gatedSource{gate: make(chan struct{})}
	var lines []int
	_, err = Run(ctx, o, src, func(r *Result) {
		lines = append(lines, r.Line)
		if r.Line == 2 {
			close(src.gate)
			cancel() // the hanging server would hold line 1 a minute
		}
	})
	if err != nil || !slices.Equal(lines, []int{2, 1}) {
		t.Errorf("%v: rows %v, want line 2 then line 1", err, lines)
	}
}

// fnv1a is FNV-1a (64 bits) as published (offset basis and prime), written
// out here apart from the code under test: the shard of a domain must not
// change from one version or machine to the next.
func fnv1a(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

func TestShardOf(t *testing.T) {
	for _, tt := range []struct {
		in, key string
	}{
		{"bob@example.com", "example.com"},
		{"Bob@EXAMPLE.com", "example.com"},
		{"bob@example.com.", "example.com"},
		{"bob@bücher.test", "xn--bcher-kva.test"},
		{"alice@xn--bcher-kva.test", "xn--bcher-kva.test"},
		{"not an address", "not an address"},
		{"a b@Example.org", "example.org"},
	} {
		for _, n := range []int{2, 3, 4, 16} {
			want := int(fnv1a(tt.key) % uint64(n))
			for i := 1; i <= n; i++ {
				if got := (Shard{I: i, N: n}).Has(Input{Text: tt.in}); got != (i-1 == want) {
					t.Errorf("%q in shard %d/%d: %v, want shard %d (FNV-1a of %q)", tt.in, i, n, got, want+1, tt.key)
				}
			}
		}
	}
	// Pinned: a change of hash would scatter the shards of a job already
	// running on other machines.
	if !(Shard{I: 3, N: 4}).Has(Input{Text: "bob@example.com"}) || fnv1a("example.com") != 0x576846634e2714c6 {
		t.Errorf("FNV-1a(example.com) = %#x, not shard 3/4", fnv1a("example.com"))
	}
}

// The N shards of a list are together exactly the list: every line in
// exactly one shard, every domain in one shard, the same shard on every
// run.
func TestShards(t *testing.T) {
	srv := instant(t)
	var in []Input
	for i := range 3000 {
		text := genAddress(i, 300)
		switch i % 50 {
		case 1:
			text = strings.ToUpper(text)
		case 2:
			text = fmt.Sprintf("u%d@bücher%d.test", i, i%7)
		case 3:
			text = fmt.Sprintf("u%d@xn--bcher%d-n2a.test", i, i%7)
		}
		in = append(in, Input{Line: i + 1, Text: text})
	}
	runShard := func(sh Shard) map[int]string {
		o := bulkOptions(srv.Addr())
		o.Shard = sh
		got := map[int]string{}
		var mu sync.Mutex
		_, err := Run(context.Background(), o, Inputs(in), func(r *Result) {
			mu.Lock()
			defer mu.Unlock()
			if _, dup := got[r.Line]; dup {
				t.Errorf("shard %v: line %d twice", sh, r.Line)
			}
			key := r.Address.ASCIIDomain
			if r.Verdict == BadSyntax {
				key = "syntax:" + r.Input
			}
			got[r.Line] = strings.ToLower(key)
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	for _, n := range []int{1, 3, 4} {
		owner := map[int]int{}
		domainShard := map[string]int{}
		for i := 1; i <= n; i++ {
			for line, dom := range runShard(Shard{I: i, N: n}) {
				if prev, ok := owner[line]; ok {
					t.Errorf("%d shards: line %d in shard %d and %d", n, line, prev, i)
				}
				owner[line] = i
				if s, ok := domainShard[dom]; ok && s != i {
					t.Errorf("%d shards: domain %s in shard %d and %d", n, dom, s, i)
				}
				domainShard[dom] = i
			}
		}
		if len(owner) != len(in) {
			t.Errorf("%d shards: %d lines in all, want %d", n, len(owner), len(in))
		}
		if n > 1 && !(len(domainShard) > n) {
			t.Errorf("%d shards: %d domains", n, len(domainShard))
		}
	}
	a, b := runShard(Shard{I: 2, N: 4}), runShard(Shard{I: 2, N: 4})
	if len(a) != len(b) || len(a) == 0 {
		t.Errorf("shard 2/4: %d rows, then %d", len(a), len(b))
	}
	for line := range a {
		if _, ok := b[line]; !ok {
			t.Errorf("shard 2/4: line %d only in the first run", line)
		}
	}
}

func TestParseShard(t *testing.T) {
	if s, err := ParseShard("2/4"); err != nil || s != (Shard{I: 2, N: 4}) {
		t.Errorf("2/4: %v %v", s, err)
	}
	for _, bad := range []string{"0/4", "5/4", "4", "a/b", "1/0", "-1/4", "/"} {
		if _, err := ParseShard(bad); exitcode.For(err) != exitcode.Usage {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// A run forgets the domains it has nothing pending for past maxIdle, and
// asks again should they come back: what it remembers does not grow with
// the number of domains in the list.
func TestForgetIdleDomains(t *testing.T) {
	const domains = 20
	var in []Input
	for pass := range 2 {
		for d := range domains {
			in = append(in, Input{Line: len(in) + 1, Text: fmt.Sprintf("ok%d@d%d.test", pass, d)})
		}
	}
	for _, tt := range []struct{ maxIdle, probes int }{{100, domains}, {5, 2 * domains}} {
		srv := instant(t)
		o := bulkOptions(srv.Addr())
		o.PerMX, o.Concurrency = 1, 1
		o.Window, o.maxIdle = 1, tt.maxIdle
		e := newEngine(context.Background(), o, nil)
		sum, err := e.run(Inputs(in))
		if err != nil || sum.ByVerdict[Deliverable] != len(in) {
			t.Fatalf("maxIdle %d: %v %v", tt.maxIdle, sum, err)
		}
		if probes := srv.Rcpts() - len(in); probes != tt.probes {
			t.Errorf("maxIdle %d: %d catch-all probes, want %d", tt.maxIdle, probes, tt.probes)
		}
		if len(e.domains) > tt.maxIdle || len(e.jobs) != 0 {
			t.Errorf("maxIdle %d: %d domains and %d jobs remembered", tt.maxIdle, len(e.domains), len(e.jobs))
		}
	}
}

// BenchmarkBulk verifies 10,000 addresses over 1,000 domains per
// operation against a local MX that answers at once (8 sessions), and
// reports addresses/s and allocations per address; the server's share is
// in the same process.
func BenchmarkBulk(b *testing.B) {
	const n = 10000
	srv := instant(b)
	o := bulkOptions(srv.Addr())
	var in []Input
	for i := range n {
		in = append(in, Input{Line: i + 1, Text: genAddress(i, 1000)})
	}
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	b.ResetTimer()
	for range b.N {
		rows := 0
		if _, err := Run(context.Background(), o, Inputs(in), func(*Result) { rows++ }); err != nil || rows != n {
			b.Fatal(err, rows)
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&m1)
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "addr/s")
	b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/float64(n*b.N), "allocs/addr")
}
