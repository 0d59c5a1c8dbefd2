package load

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/session"
	"github.com/smtpx/smtpx/internal/transcript"
)

// Every bucket's bound maps back to the bucket: a histogram rebuilt from
// its buckets is the histogram.
func TestBucketBounds(t *testing.T) {
	for i := 0; i < nBuckets; i++ {
		top := bucketTop(i)
		if bucket(top) != i {
			t.Fatalf("bucket %d: bound %d maps to bucket %d", i, top, bucket(top))
		}
		if top == 1<<63-1 {
			break
		}
	}
}

// runResult is a run whose samples are split off the same random stream.
func runResult(r *rand.Rand, n int, all *[NumPhases]Histogram) *Result {
	res := &Result{Server: "127.0.0.1:2525", Concurrency: 4, Elapsed: time.Duration(r.IntN(1e9)) + time.Second,
		Replies: map[int]int64{250: int64(n)}, first: map[int]sample{}}
	for p := range NumPhases {
		for range n {
			d := time.Duration(r.ExpFloat64() * float64(time.Duration(p+1)*200*time.Microsecond))
			res.Hist[p].Record(d)
			all[p].Record(d)
		}
	}
	res.Sent, res.Accepted = int64(n), int64(n)
	res.summarise()
	return res
}

// Runs written with --json and merged give exactly the histograms (so the
// percentiles and maxima) of one run that recorded every sample.
func TestMergeExact(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var all [NumPhases]Histogram
	var buf bytes.Buffer
	parts := []*Result{runResult(r, 5000, &all), runResult(r, 1, &all), runResult(r, 20000, &all)}
	parts[1].Deferred, parts[1].Accepted = 1, 0
	parts[1].first[exitcode.Transient] = sample{err: errors.New("RCPT rejected (450 4.2.0)"), reply: &session.Reply{Code: 450, Enhanced: "4.2.0", Lines: []string{"4.2.0 try later"}}}
	for _, p := range parts {
		code, err := p.Exit()
		if err := transcript.WriteJSON(&buf, p.ToJSON(code, err, "")); err != nil {
			t.Fatal(err)
		}
	}
	back, err := ReadResults(&buf, "runs.jsonl")
	if err != nil || len(back) != 3 {
		t.Fatalf("%d results, %v", len(back), err)
	}
	m := Merge(back...)
	for p := range NumPhases {
		if m.Hist[p] != all[p] {
			t.Errorf("%s: merged histogram differs from the one of all samples", PhaseNames[p])
		}
		want := Summary{Count: all[p].Count(), P50: all[p].Quantile(.5), P90: all[p].Quantile(.9), P99: all[p].Quantile(.99), Max: all[p].Max()}
		if m.Latency[p] != want {
			t.Errorf("%s: merged %+v, all samples %+v", PhaseNames[p], m.Latency[p], want)
		}
	}
	if m.Sent != 25001 || m.Accepted != 25000 || m.Deferred != 1 || m.Concurrency != 12 || m.Replies[250] != 25001 {
		t.Errorf("counts: %+v", m)
	}
	if m.Elapsed != max(parts[0].Elapsed, parts[1].Elapsed, parts[2].Elapsed).Truncate(time.Microsecond) {
		t.Errorf("elapsed %v", m.Elapsed)
	}
	code, err := m.Exit()
	if code != exitcode.Transient || err == nil || !strings.Contains(err.Error(), "first: RCPT rejected (450 4.2.0)") {
		t.Errorf("merged exit %d: %v", code, err)
	}
	j := m.ToJSON(code, err, "")
	if j.Code != 450 || j.Enhanced != "4.2.0" {
		t.Errorf("merged final reply %d %s", j.Code, j.Enhanced)
	}
	// The merge of one run is the run.
	one := Merge(back[0])
	if one.Hist != parts[0].Hist || one.Sent != parts[0].Sent {
		t.Error("a run merged alone changed")
	}
}

func TestReadResultsRefuses(t *testing.T) {
	good := func() map[string]any {
		var b bytes.Buffer
		r := runResult(rand.New(rand.NewPCG(1, 1)), 10, &[NumPhases]Histogram{})
		_ = transcript.WriteJSON(&b, r.ToJSON(0, nil, ""))
		var m map[string]any
		_ = json.Unmarshal(b.Bytes(), &m)
		return m
	}
	noBuckets := good()
	for _, v := range noBuckets["latency_ms"].(map[string]any) {
		delete(v.(map[string]any), "buckets")
	}
	for name, in := range map[string]any{
		"not JSON":           "{",
		"empty":              "",
		"a verify row":       map[string]any{"line": 1, "verdict": "deliverable"},
		"no buckets (older)": noBuckets,
	} {
		var b []byte
		if s, ok := in.(string); ok {
			b = []byte(s)
		} else {
			b, _ = json.Marshal(in)
		}
		_, err := ReadResults(bytes.NewReader(b), "x.json")
		if exitcode.For(err) != exitcode.Usage || !strings.HasPrefix(err.Error(), "x.json: ") {
			t.Errorf("%s: %v", name, err)
		}
	}
}
