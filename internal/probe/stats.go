package probe

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/smtpx/smtpx/internal/transcript"
)

// Stat is min/median/max of one phase over the --count dialogues, in
// milliseconds.
type Stat struct {
	Min    float64 `json:"min"`
	Median float64 `json:"median"`
	Max    float64 `json:"max"`
	N      int     `json:"n"`
}

// Phases are the timing phases in dialogue order, as named in JSON.
var Phases = []string{"dns", "connect", "banner", "ehlo", "starttls", "handshake", "ehlo_tls", "total"}

// stats computes a Stat per phase from samples.
func stats(samples []map[string]float64) map[string]Stat {
	out := map[string]Stat{}
	for _, ph := range Phases {
		var v []float64
		for _, s := range samples {
			if x, ok := s[ph]; ok {
				v = append(v, x)
			}
		}
		if len(v) == 0 {
			continue
		}
		slices.Sort(v)
		med := v[len(v)/2]
		if len(v)%2 == 0 {
			med = (v[len(v)/2-1] + v[len(v)/2]) / 2
		}
		out[ph] = Stat{Min: v[0], Median: med, Max: v[len(v)-1], N: len(v)}
	}
	return out
}

// timingsMS are an endpoint's phase timings in milliseconds, with the DNS
// time of its lookup.
func (ep *Endpoint) timingsMS() map[string]float64 {
	m := transcript.Timings(ep.Timings)
	if ep.DNS > 0 {
		m["dns"] = transcript.MS(ep.DNS)
	}
	return m
}

// repeat runs the dialogue again for --count, quietly, and reports the
// spread of each phase; a shared session cache shows whether the server
// resumes TLS sessions.
func (pr *prober) repeat(ctx context.Context, ep *Endpoint, first *conv, cl *checkList) {
	if first.tls != nil {
		if pr.o.Count < 2 {
			cl.add("tls.resumption", Info, "not tested (use --count 2 or more)", ev("tested", false))
		}
	}
	if pr.o.Count < 2 {
		return
	}
	samples := []map[string]float64{ep.timingsMS()}
	resumed, tlsRuns := 0, 0
	var firstErr error
	for i := 1; i < pr.o.Count; i++ {
		if ctx.Err() != nil {
			break
		}
		v := &Verification{}
		c := pr.converse(ctx, ep, nil, pr.tlsConfig(ep, v), nil)
		c.quit()
		ep.Runs++
		if c.err != nil {
			ep.Failed++
			if firstErr == nil {
				firstErr = c.err
			}
			continue
		}
		if c.tls != nil {
			tlsRuns++
			if c.tls.DidResume {
				resumed++
			}
		}
		m := transcript.Timings(c.timings)
		if ep.DNS > 0 {
			m["dns"] = transcript.MS(ep.DNS)
		}
		samples = append(samples, m)
	}
	if first.tls != nil {
		e := ev("tested", tlsRuns > 0, "resumed", resumed, "connections", tlsRuns)
		switch {
		case tlsRuns == 0:
			cl.add("tls.resumption", Info, "not tested: no later dialogue reached TLS", e)
		case resumed > 0:
			cl.addf("tls.resumption", Pass, e, "%d of %d later connections resumed the TLS session", resumed, tlsRuns)
		default:
			cl.addf("tls.resumption", Info, e, "none of %d later connections resumed the TLS session", tlsRuns)
		}
	}
	ep.Stats = stats(samples)
	var det []string
	for _, ph := range Phases {
		st, ok := ep.Stats[ph]
		if !ok || ph == "dns" {
			continue
		}
		det = append(det, fmt.Sprintf("%-10s min %8.2f  median %8.2f  max %8.2f ms", ph, st.Min, st.Median, st.Max))
	}
	e := ev("runs", ep.Runs, "failed", ep.Failed, "stats_ms", ep.Stats)
	var ch *Check
	if ep.Failed > 0 {
		ch = cl.addf("timing", Warn, e, "%d of %d dialogues failed; first: %v", ep.Failed, ep.Runs, firstErr)
		ch.Err = firstErr
		ch.Hint = "the server is unreliable under repeated connections (or rate-limits them)"
	} else {
		var parts []string
		for _, ph := range []string{"connect", "banner", "total"} {
			if st, ok := ep.Stats[ph]; ok {
				parts = append(parts, fmt.Sprintf("%s %.2f", ph, st.Median))
			}
		}
		ch = cl.addf("timing", Info, e, "%d dialogues; median ms: %s", ep.Runs, strings.Join(parts, ", "))
	}
	ch.Details = det
}
