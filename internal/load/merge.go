package load

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/session"
)

// maxResultBytes bounds one --json result read back for a merge: a run's
// object holds at most a few thousand buckets per phase.
const maxResultBytes = 16 << 20

// ReadResults reads the --json results of load runs from r: one object or
// several (JSON Lines). name says where they come from, for errors, which
// are usage errors (exit 2).
func ReadResults(r io.Reader, name string) ([]*Result, error) {
	bad := func(format string, a ...any) error {
		return exitcode.Usagef("give the files --json wrote in load mode (smtpx send --count N --json)", "%s: "+format, append([]any{name}, a...)...)
	}
	dec := json.NewDecoder(io.LimitReader(r, maxResultBytes+1))
	var out []*Result
	for {
		var raw map[string]json.RawMessage
		if err := dec.Decode(&raw); err == io.EOF {
			break
		} else if err != nil {
			if dec.InputOffset() > maxResultBytes {
				return nil, bad("more than %d MiB: not load results", maxResultBytes>>20)
			}
			return nil, bad("not JSON: %v", err)
		}
		if raw["latency_ms"] == nil || raw["sent"] == nil || raw["elapsed_ms"] == nil {
			return nil, bad("result %d is not a load-mode result (no sent, elapsed_ms and latency_ms)", len(out)+1)
		}
		b, _ := json.Marshal(raw)
		var j JSON
		if err := json.Unmarshal(b, &j); err != nil {
			return nil, bad("result %d: %v", len(out)+1, err)
		}
		res, err := FromJSON(j)
		if err != nil {
			return nil, bad("result %d: %v", len(out)+1, err)
		}
		out = append(out, res)
	}
	if len(out) == 0 {
		return nil, bad("no result")
	}
	return out, nil
}

// FromJSON rebuilds a run's result from its --json object, histograms
// included; a latency without its buckets (an older smtpx) cannot be
// merged exactly and is refused.
func FromJSON(j JSON) (*Result, error) {
	r := &Result{
		Server: j.Server, Count: j.Count, Duration: msDuration(j.DurationMS), Concurrency: j.Concurrency,
		PerConnection: j.PerConnection, Rate: j.Rate, Elapsed: msDuration(j.ElapsedMS),
		Sent: j.Sent, Accepted: j.Accepted, Deferred: j.Deferred, Rejected: j.Rejected,
		NetworkErrors: j.NetworkErrors, OtherErrors: j.OtherErrors, NotSent: j.NotSent,
		Connections: j.Connections, Pipelined: j.Pipelined, Chunked: j.Chunked, Interrupted: j.Interrupted,
		Replies: map[int]int64{}, Errors: j.Errors, first: map[int]sample{},
	}
	if h := j.TLSHandshakes; h != nil {
		r.TLSFull, r.TLSResumed = h.Full, h.Resumed
	}
	for k, n := range j.Replies {
		c, err := strconv.Atoi(k)
		if err != nil {
			return nil, fmt.Errorf("reply code %q", k)
		}
		r.Replies[c] = n
	}
	for name, l := range j.LatencyMS {
		p := slices.Index(PhaseNames[:], name)
		if p < 0 {
			return nil, fmt.Errorf("unknown phase %q", name)
		}
		var sum uint64
		for _, b := range l.Buckets {
			r.Hist[p].AddBucket(b[0], b[1], time.Duration(l.MaxNS))
			sum += b[1]
		}
		if sum != l.Count {
			return nil, fmt.Errorf("the %s histogram holds %d samples for a count of %d (made by an older smtpx?)", name, sum, l.Count)
		}
	}
	for k, text := range j.FirstErrors {
		c, err := strconv.Atoi(k)
		if err != nil {
			return nil, fmt.Errorf("exit status %q", k)
		}
		r.first[c] = sample{err: errors.New(text)}
	}
	var reply *session.Reply
	if j.Code != 0 {
		reply = &session.Reply{Code: j.Code, Enhanced: j.Enhanced, Lines: strings.Split(j.Text, "\n")}
	}
	if s, ok := r.first[j.Exit]; ok && j.Exit != exitcode.OK {
		s.reply = reply
		r.first[j.Exit] = s
	} else if j.Exit == exitcode.OK {
		r.lastOK = reply
	}
	r.summarise()
	return r, nil
}

func msDuration(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }

// Merge combines the results of runs made side by side (processes or
// machines of one job, each with its own connections): counts, replies,
// errors and latency histograms add up exactly, so the percentiles are
// those of all the messages together; the elapsed time is the longest
// run's, so msgs/s is the rate of the whole job.
func Merge(rs ...*Result) *Result {
	m := &Result{Replies: map[int]int64{}, first: map[int]sample{}}
	errs := map[string]int64{}
	var servers []string
	for _, r := range rs {
		if !slices.Contains(servers, r.Server) {
			servers = append(servers, r.Server)
		}
		m.Count += r.Count
		m.Duration = max(m.Duration, r.Duration)
		m.Concurrency += r.Concurrency
		m.PerConnection = max(m.PerConnection, r.PerConnection)
		m.Rate += r.Rate
		m.Elapsed = max(m.Elapsed, r.Elapsed)
		m.Sent += r.Sent
		m.Accepted += r.Accepted
		m.Deferred += r.Deferred
		m.Rejected += r.Rejected
		m.NetworkErrors += r.NetworkErrors
		m.OtherErrors += r.OtherErrors
		m.NotSent += r.NotSent
		m.Connections += r.Connections
		m.TLSFull += r.TLSFull
		m.TLSResumed += r.TLSResumed
		m.Pipelined = m.Pipelined || r.Pipelined
		m.Chunked = m.Chunked || r.Chunked
		m.Interrupted = m.Interrupted || r.Interrupted
		for c, n := range r.Replies {
			m.Replies[c] += n
		}
		for _, e := range r.Errors {
			errs[e.Error] += e.Count
		}
		for p := range m.Hist {
			m.Hist[p].Merge(&r.Hist[p])
		}
		for c, s := range r.first {
			if _, ok := m.first[c]; !ok {
				m.first[c] = s
			}
		}
		if r.lastOK != nil {
			m.lastOK = r.lastOK
		}
	}
	m.Server = strings.Join(servers, ", ")
	for e, n := range errs {
		m.Errors = append(m.Errors, ErrorCount{Error: e, Count: n})
	}
	slices.SortFunc(m.Errors, func(a, b ErrorCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Error, b.Error))
	})
	m.summarise()
	return m
}
