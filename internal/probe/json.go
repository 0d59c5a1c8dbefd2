package probe

import (
	"errors"

	"github.com/smtpx/smtpx/internal/exitcode"

	"github.com/smtpx/smtpx/internal/session"
	"github.com/smtpx/smtpx/internal/transcript"
)

// JSON is the --json form of a Result: one object per probe.
type JSON struct {
	Target    string         `json:"target"`
	Mode      Mode           `json:"mode"`
	Domain    *DomainJSON    `json:"domain"`
	Checks    []*Check       `json:"checks"`
	Endpoints []EndpointJSON `json:"endpoints"`
	Summary   Summary        `json:"summary"`
	transcript.Final
	TimingsMS map[string]float64 `json:"timings_ms"`
}

// Summary counts the checks of a probe.
type Summary struct {
	Endpoints int `json:"endpoints"`
	Pass      int `json:"pass"`
	Info      int `json:"info"`
	Warn      int `json:"warn"`
	Fail      int `json:"fail"`
	// Gating is how many checks set a non-zero exit status.
	Gating int `json:"gating"`
}

// DomainJSON is the per-domain part.
type DomainJSON struct {
	Name       string     `json:"name"`
	MX         []MXJSON   `json:"mx"`
	ImplicitMX bool       `json:"implicit_mx"`
	NullMX     bool       `json:"null_mx"`
	AD         bool       `json:"ad"`
	MTASTS     *MTASTS    `json:"mta_sts"`
	TLSRPT     *TXTRecord `json:"tls_rpt"`
	SPF        *TXTRecord `json:"spf"`
	DMARC      *TXTRecord `json:"dmarc"`
	Checks     []*Check   `json:"checks"`
}

// MXJSON is one MX host.
type MXJSON struct {
	Host       string   `json:"host"`
	Preference uint16   `json:"preference"`
	IPv4       []string `json:"ipv4"`
	IPv6       []string `json:"ipv6"`
	AD         bool     `json:"ad"`
	Error      string   `json:"error,omitempty"`
}

// PTRJSON is one reverse-DNS name.
type PTRJSON struct {
	Name      string `json:"name"`
	Confirmed bool   `json:"confirmed"`
}

// EndpointJSON is one endpoint.
type EndpointJSON struct {
	Host          string              `json:"host"`
	Preference    *int                `json:"preference"`
	Address       string              `json:"address"`
	Port          int                 `json:"port"`
	Dial          string              `json:"dial"`
	Family        string              `json:"family"`
	ImplicitTLS   bool                `json:"implicit_tls"`
	ServerName    string              `json:"server_name"`
	Helo          string              `json:"helo"`
	HeloFallback  bool                `json:"helo_fallback"`
	Banner        *transcript.Reply   `json:"banner"`
	Extensions    []session.Extension `json:"extensions"`
	ExtensionsTLS []session.Extension `json:"extensions_tls"`
	TLS           *transcript.TLS     `json:"tls"`
	Certificates  []Cert              `json:"certificates"`
	Verification  *Verification       `json:"verification"`
	PTR           []PTRJSON           `json:"ptr"`
	DANE          *DANE               `json:"dane"`
	Checks        []*Check            `json:"checks"`
	TimingsMS     map[string]float64  `json:"timings_ms"`
	Runs          int                 `json:"runs"`
	RunsFailed    int                 `json:"runs_failed"`
	TimingStats   map[string]Stat     `json:"timing_stats_ms,omitempty"`
	transcript.Final
	Events []transcript.JSONEvent `json:"events"`
}

// FillHints gives every failed check without a hint of its own the hint
// for its error (cmd knows how to phrase those).
func (r *Result) FillHints(hint func(error) string) {
	fill := func(cs []*Check) {
		for _, c := range cs {
			if c.Hint == "" && c.Err != nil && c.Status != Pass {
				c.Hint = hint(c.Err)
			}
		}
	}
	fill(r.Checks)
	if r.Domain != nil {
		fill(r.Domain.Checks)
	}
	for _, ep := range r.Endpoints {
		fill(ep.Checks)
	}
	var xe *exitcode.Error
	if r.Decisive != nil && errors.As(r.Err, &xe) && xe.Hint == "" {
		xe.Hint = r.Decisive.Hint
	}
}

// ToJSON builds the JSON form; hint phrases the hint of an error.
func (r *Result) ToJSON(hint func(error) string) JSON {
	c := r.Counts()
	j := JSON{
		Target:    r.Target,
		Mode:      r.Mode,
		Checks:    nonNil(r.Checks),
		Endpoints: []EndpointJSON{},
		Summary:   Summary{Endpoints: len(r.Endpoints), Pass: c[Pass], Info: c[Info], Warn: c[Warn], Fail: c[Fail], Gating: r.Failed},
		TimingsMS: map[string]float64{},
	}
	if r.DNS > 0 {
		j.TimingsMS["dns"] = transcript.MS(r.DNS)
	}
	if d := r.Domain; d != nil {
		dj := &DomainJSON{
			Name: d.Name, MX: []MXJSON{}, ImplicitMX: d.Route.Implicit, NullMX: d.NullMX, AD: d.Route.AD,
			MTASTS: d.MTASTS, TLSRPT: d.TLSRPT, SPF: d.SPF, DMARC: d.DMARC, Checks: nonNil(d.Checks),
		}
		for _, h := range d.Route.Hosts {
			m := MXJSON{Host: h.Name, Preference: h.Preference, IPv4: addrStrings(h.IPv4), IPv6: addrStrings(h.IPv6), AD: h.AD}
			if h.Err != nil {
				m.Error = h.Err.Error()
			}
			dj.MX = append(dj.MX, m)
		}
		j.Domain = dj
	}
	for _, ep := range r.Endpoints {
		j.Endpoints = append(j.Endpoints, ep.toJSON(hint))
	}
	j.SetReply(r.Final())
	j.Exit = r.Exit
	if r.Err != nil {
		j.Error = r.Err.Error()
		j.Hint = hint(r.Err)
	}
	return j
}

func (ep *Endpoint) toJSON(hint func(error) string) EndpointJSON {
	j := EndpointJSON{
		Host: ep.Host, Port: ep.Port, Dial: ep.Dial, ImplicitTLS: ep.Implicit, ServerName: ep.ServerName,
		Helo: ep.Helo, HeloFallback: ep.UsedHELO, Banner: transcript.FromReply(ep.Banner),
		Extensions: transcript.Keywords(ep.Ext), Certificates: nonNil(ep.Certs), Verification: ep.Verify,
		PTR: []PTRJSON{}, DANE: ep.DANE, Checks: nonNil(ep.Checks), TimingsMS: ep.timingsMS(),
		Runs: ep.Runs, RunsFailed: ep.Failed, TimingStats: ep.Stats,
		Events: transcript.ToJSON(ep.Events, false),
	}
	if ep.Preference >= 0 {
		p := ep.Preference
		j.Preference = &p
	}
	switch {
	case ep.noIP():
		j.Address, j.Family = ep.Socket, ep.Network
	case ep.Addr.Is4():
		j.Address, j.Family = ep.Addr.String(), "ipv4"
	default:
		j.Address, j.Family = ep.Addr.String(), "ipv6"
	}
	if ep.ExtTLS != nil {
		j.ExtensionsTLS = transcript.Keywords(ep.ExtTLS)
	}
	if ep.TLS != nil {
		j.TLS = transcript.FromTLS(ep.TLS, ep.Verify != nil && ep.Verify.OK)
	}
	for _, p := range ep.PTR {
		j.PTR = append(j.PTR, PTRJSON{Name: p.Name, Confirmed: p.Confirmed})
	}
	j.SetReply(ep.Final)
	j.Exit = ep.Exit
	if c := ep.decisive(); c != nil {
		j.Error = c.ID + ": " + c.Summary
		j.Hint = c.Hint
		if j.Hint == "" && c.Err != nil {
			j.Hint = hint(c.Err)
		}
	}
	return j
}

// decisive is the first check that set the endpoint's exit status.
func (ep *Endpoint) decisive() *Check {
	if ep.Exit == 0 {
		return nil
	}
	for _, c := range ep.Checks {
		if c.Exit == ep.Exit {
			return c
		}
	}
	return nil
}
