package load

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/session"
	"github.com/smtpx/smtpx/internal/transcript"
)

// Result is the outcome of a run.
type Result struct {
	Server        string
	Count         int
	Duration      time.Duration
	Concurrency   int
	PerConnection int
	Rate          float64

	Elapsed       time.Duration
	Sent          int64 // messages with an outcome, whatever it was
	Accepted      int64
	Deferred      int64 // 4xx
	Rejected      int64 // 5xx
	NetworkErrors int64
	OtherErrors   int64 // TLS, protocol, AUTH and local refusals
	NotSent       int64 // of Count, never started: the run was interrupted or stopped
	Connections   int64 // connection attempts
	Pipelined     bool  // some transaction used PIPELINING
	Chunked       bool  // some transaction used BDAT
	// TLS handshakes: full, and resumed from an earlier connection's
	// session.
	TLSFull, TLSResumed int64
	// Replies counts messages by the reply that decided each one: the reply
	// to the end of data, or the refusal that ended the transaction.
	Replies map[int]int64
	// Errors are the distinct failures, most frequent first.
	Errors  []ErrorCount
	Latency [NumPhases]Summary
	// Hist holds every latency sample, by phase.
	Hist [NumPhases]Histogram
	// Interrupted is set when the caller's context ended the run.
	Interrupted bool
	// Stopped is the failure that ended the run early: no connection could
	// be opened, or one failed in a way retrying cannot mend (TLS, AUTH,
	// an unreadable message).
	Stopped error

	first  map[int]sample
	lastOK *session.Reply
}

// ErrorCount is one kind of failure and how many messages it hit.
type ErrorCount struct {
	Error string `json:"error"`
	Count int64  `json:"count"`
}

// Summary describes the latency of one phase.
type Summary struct {
	Count              uint64
	P50, P90, P99, Max time.Duration
}

func (r *Runner) result(elapsed time.Duration, interrupted bool) *Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	o := r.o
	res := &Result{
		Server: o.Send.Session.Address, Count: o.Count, Duration: o.Duration,
		Concurrency: o.Concurrency, PerConnection: o.PerConnection, Rate: o.Rate,
		Elapsed: elapsed, Sent: r.sent.Load(), Accepted: r.accepted.Load(),
		Deferred: r.deferred.Load(), Rejected: r.rejected.Load(),
		NetworkErrors: r.network.Load(), OtherErrors: r.other.Load(),
		Connections: r.conns.Load(), Pipelined: r.pipelined, Chunked: r.chunked,
		TLSFull: r.full, TLSResumed: r.resumed, Replies: map[int]int64{}, Interrupted: interrupted, Stopped: r.stopErr,
		first: map[int]sample{},
	}
	if r.haveOK {
		res.lastOK = r.lastOK.Clone()
	}
	if o.Count > 0 {
		res.NotSent = int64(o.Count) - res.Sent
	}
	for k, v := range r.replies {
		res.Replies[k] = v
	}
	for k, v := range r.first {
		res.first[k] = v
	}
	for k, v := range r.errs {
		res.Errors = append(res.Errors, ErrorCount{Error: k, Count: v})
	}
	sort.Slice(res.Errors, func(i, j int) bool {
		a, b := res.Errors[i], res.Errors[j]
		return a.Count > b.Count || a.Count == b.Count && a.Error < b.Error
	})
	res.Hist = r.hist
	res.summarise()
	return res
}

// summarise computes Latency from Hist.
func (r *Result) summarise() {
	for p := range r.Latency {
		h := &r.Hist[p]
		r.Latency[p] = Summary{Count: h.Count(), P50: h.Quantile(.5), P90: h.Quantile(.9), P99: h.Quantile(.99), Max: h.Max()}
	}
}

// MsgsPerSec is the number of messages that got an outcome per second.
func (r *Result) MsgsPerSec() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Sent) / r.Elapsed.Seconds()
}

// severity orders exit statuses for the run's status: a permanent refusal
// before a transient one, both before anything else, network last.
var severity = []int{exitcode.Permanent, exitcode.Transient, exitcode.TLS, exitcode.Protocol,
	exitcode.Check, exitcode.Usage, exitcode.Network}

// Exit returns the run's exit status and, unless every message was
// accepted, an error that says what went wrong. Its status is that of the
// worst failure (5xx before 4xx, network errors only when nothing else
// failed); the first failure of that kind is wrapped, for hints.
func (r *Result) Exit() (int, error) {
	code, s := r.decider()
	if code == exitcode.OK {
		return code, nil
	}
	var parts []string
	add := func(n int64, what string) {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, what))
		}
	}
	add(r.Rejected, "rejected (5xx)")
	add(r.Deferred, "deferred (4xx)")
	add(r.NetworkErrors, transcript.Plural(int(r.NetworkErrors), "network error", "network errors"))
	add(r.OtherErrors, transcript.Plural(int(r.OtherErrors), "other error", "other errors"))
	add(r.NotSent, "not sent")
	total := r.Sent + r.NotSent
	msg := fmt.Sprintf("%d of %d messages were not accepted: %s", total-r.Accepted, total, strings.Join(parts, ", "))
	switch {
	case r.Stopped != nil:
		msg = "the run stopped early: " + msg
	case r.Interrupted:
		msg = "interrupted: " + msg
	}
	if s.err != nil {
		msg += "; first: " + s.err.Error()
	}
	e := &exitcode.Error{Code: code, Msg: msg, Err: s.err}
	if s.err == nil {
		e.Hint = "run again for the rest"
	}
	return code, e
}

// decider returns the run's exit status and the failure behind it.
func (r *Result) decider() (int, sample) {
	for _, c := range severity {
		if s, ok := r.first[c]; ok {
			return c, s
		}
	}
	if r.NotSent > 0 || r.Sent == 0 {
		return exitcode.Network, sample{}
	}
	return exitcode.OK, sample{reply: r.lastOK}
}

// WriteSummary writes the human summary.
func (r *Result) WriteSummary(w io.Writer) {
	secs := r.Elapsed.Seconds()
	fmt.Fprintf(w, "sent          %d %s to %s in %.3f s over %d %s: %.1f msg/s\n",
		r.Sent, transcript.Plural(int(r.Sent), "message", "messages"), transcript.Escape(r.Server), secs,
		r.Concurrency, transcript.Plural(r.Concurrency, "connection", "connections"), r.MsgsPerSec())
	mode := "one command at a time"
	switch {
	case r.Chunked:
		mode = "PIPELINING and BDAT"
	case r.Pipelined:
		mode = "PIPELINING"
	}
	fmt.Fprintf(w, "connections   %d opened, %s\n", r.Connections, mode)
	if n := r.TLSFull + r.TLSResumed; n > 0 {
		fmt.Fprintf(w, "handshakes    %d TLS: %d full, %d resumed\n", n, r.TLSFull, r.TLSResumed)
	}
	fmt.Fprintf(w, "accepted      %d\n", r.Accepted)
	fmt.Fprintf(w, "deferred      %d (4xx)\n", r.Deferred)
	fmt.Fprintf(w, "rejected      %d (5xx)\n", r.Rejected)
	fmt.Fprintf(w, "net errors    %d\n", r.NetworkErrors)
	fmt.Fprintf(w, "other errors  %d\n", r.OtherErrors)
	if r.NotSent > 0 {
		fmt.Fprintf(w, "not sent      %d\n", r.NotSent)
	}
	if len(r.Replies) > 0 {
		codes := make([]int, 0, len(r.Replies))
		for c := range r.Replies {
			codes = append(codes, c)
		}
		sort.Ints(codes)
		var b strings.Builder
		for i, c := range codes {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%d x%d", c, r.Replies[c])
		}
		fmt.Fprintf(w, "replies       %s\n", b.String())
	}
	for _, e := range r.Errors {
		fmt.Fprintf(w, "error         %d x %s\n", e.Count, transcript.Escape(e.Error))
	}
	fmt.Fprintf(w, "\n%-14s %8s %9s %9s %9s %9s\n", "latency (ms)", "count", "p50", "p90", "p99", "max")
	for p, s := range r.Latency {
		if s.Count == 0 {
			continue
		}
		fmt.Fprintf(w, "%-14s %8d %9.3f %9.3f %9.3f %9.3f\n", PhaseNames[p], s.Count, ms(s.P50), ms(s.P90), ms(s.P99), ms(s.Max))
	}
}

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

// jms is d in milliseconds to the microsecond, for JSON.
func jms(d time.Duration) float64 { return float64(d.Microseconds()) / 1e3 }

// JSON is the --json result of a run: one object.
type JSON struct {
	Server        string                 `json:"server"`
	Count         int                    `json:"count"`       // requested; 0 with only a duration
	DurationMS    float64                `json:"duration_ms"` // requested; 0 without --duration
	Concurrency   int                    `json:"concurrency"`
	PerConnection int                    `json:"per_connection"`
	Rate          float64                `json:"rate"`
	ElapsedMS     float64                `json:"elapsed_ms"`
	MsgsPerSec    float64                `json:"msgs_per_sec"`
	Sent          int64                  `json:"sent"`
	Accepted      int64                  `json:"accepted"`
	Deferred      int64                  `json:"deferred"`
	Rejected      int64                  `json:"rejected"`
	NetworkErrors int64                  `json:"network_errors"`
	OtherErrors   int64                  `json:"other_errors"`
	NotSent       int64                  `json:"not_sent"`
	Connections   int64                  `json:"connections"`
	Pipelined     bool                   `json:"pipelined"`
	Chunked       bool                   `json:"chunked"`
	TLSHandshakes *HandshakesJSON        `json:"tls_handshakes,omitempty"`
	Interrupted   bool                   `json:"interrupted"`
	Replies       map[string]int64       `json:"replies"`
	Errors        []ErrorCount           `json:"errors"`
	LatencyMS     map[string]LatencyJSON `json:"latency_ms"`
	// FirstErrors holds the first failure of each exit status, keyed by
	// the status: what a merge of several runs explains its status with.
	FirstErrors map[string]string `json:"first_errors"`
	transcript.Final
}

// HandshakesJSON counts a run's TLS handshakes.
type HandshakesJSON struct {
	Full    int64 `json:"full"`
	Resumed int64 `json:"resumed"`
}

// LatencyJSON is one phase's latency in milliseconds, with the histogram
// behind it: Buckets are [le_ns, count] pairs, le_ns the largest latency in
// nanoseconds a bucket holds. The buckets are the same in every run
// (log-linear: 64 per power of two, each under 1/64 of its values wide),
// so runs merge exactly.
type LatencyJSON struct {
	Count   uint64      `json:"count"`
	P50     float64     `json:"p50"`
	P90     float64     `json:"p90"`
	P99     float64     `json:"p99"`
	Max     float64     `json:"max"`
	MaxNS   int64       `json:"max_ns"`
	Buckets [][2]uint64 `json:"buckets"`
}

// ToJSON builds the result object; exit and err come from Exit, hint from
// the caller's hint table.
func (r *Result) ToJSON(exit int, err error, hint string) JSON {
	j := JSON{
		Server: r.Server, Count: r.Count, DurationMS: jms(r.Duration), Concurrency: r.Concurrency,
		PerConnection: r.PerConnection, Rate: r.Rate, ElapsedMS: jms(r.Elapsed), MsgsPerSec: math.Round(r.MsgsPerSec()*10) / 10,
		Sent: r.Sent, Accepted: r.Accepted, Deferred: r.Deferred, Rejected: r.Rejected,
		NetworkErrors: r.NetworkErrors, OtherErrors: r.OtherErrors, NotSent: r.NotSent,
		Connections: r.Connections, Pipelined: r.Pipelined, Chunked: r.Chunked, Interrupted: r.Interrupted,
		Replies: map[string]int64{}, Errors: r.Errors, LatencyMS: map[string]LatencyJSON{},
		FirstErrors: map[string]string{},
	}
	if j.Errors == nil {
		j.Errors = []ErrorCount{}
	}
	if r.TLSFull+r.TLSResumed > 0 {
		j.TLSHandshakes = &HandshakesJSON{Full: r.TLSFull, Resumed: r.TLSResumed}
	}
	for c, n := range r.Replies {
		j.Replies[strconv.Itoa(c)] = n
	}
	for p, s := range r.Latency {
		if s.Count > 0 {
			j.LatencyMS[PhaseNames[p]] = LatencyJSON{Count: s.Count, P50: jms(s.P50), P90: jms(s.P90), P99: jms(s.P99), Max: jms(s.Max),
				MaxNS: s.Max.Nanoseconds(), Buckets: r.Hist[p].Buckets()}
		}
	}
	for code, s := range r.first {
		if s.err != nil {
			j.FirstErrors[strconv.Itoa(code)] = s.err.Error()
		}
	}
	_, s := r.decider()
	j.SetReply(s.reply)
	j.Exit = exit
	if err != nil {
		j.Error = err.Error()
		j.Hint = hint
	}
	return j
}
