package probe

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/policy"
	"github.com/smtpx/smtpx/internal/route"
	"github.com/smtpx/smtpx/internal/session"
	"github.com/smtpx/smtpx/internal/transcript"
)

// dnsChecks looks up the endpoint's reverse DNS and TLSA records.
func (pr *prober) dnsChecks(ctx context.Context, ep *Endpoint, c *conv, cl *checkList) {
	if ep.noIP() {
		return
	}
	pr.ptrCheck(ctx, ep, c, cl)
	pr.daneChecks(ctx, ep, c, cl)
}

// localOnly reports whether DNS questions about ep would go to the
// system's resolvers about a loopback address, which no public zone
// describes: they are skipped unless --dns-server names a resolver.
func (pr *prober) localOnly(ep *Endpoint) bool {
	return pr.o.DNSServer == "" && ep.Addr.IsLoopback()
}

// greetName is the first word of a greeting or EHLO reply: the name the
// server calls itself.
func greetName(r *session.Reply) string {
	if r == nil || len(r.Lines) == 0 {
		return ""
	}
	f := strings.Fields(r.Lines[0])
	if len(f) > 0 && session.IsEnhanced(f[0]) {
		f = f[1:]
	}
	if len(f) == 0 {
		return ""
	}
	// Only a domain or an address literal is a name; some servers open
	// with a word such as "Hello".
	n := strings.ToLower(strings.TrimSuffix(f[0], "."))
	if !strings.Contains(n, ".") && !strings.HasPrefix(n, "[") {
		return ""
	}
	return n
}

// ptrCheck reports the reverse DNS of the address, forward-confirmed, and
// compares it with the names in the banner and the EHLO reply.
func (pr *prober) ptrCheck(ctx context.Context, ep *Endpoint, c *conv, cl *checkList) {
	const id = "dns.ptr"
	if pr.localOnly(ep) {
		cl.add(id, Info, "not looked up for a loopback address (give --dns-server to ask)", ev("looked_up", false))
		return
	}
	pr.mu.Lock()
	m := pr.ptr[ep.Addr]
	if m == nil {
		m = &once[[]route.PTR]{}
		pr.ptr[ep.Addr] = m
	}
	pr.mu.Unlock()
	ptrs, err := m.do(func() ([]route.PTR, error) { return pr.res.LookupPTR(ctx, ep.Addr) })
	ep.PTR, ep.PTRErr = ptrs, err
	banner, helo := greetName(c.banner), greetName(c.hello)
	e := ev("looked_up", true, "address", ep.Addr.String(), "banner_name", banner, "ehlo_name", helo)
	var names []map[string]any
	var parts []string
	confirmed := ""
	for _, p := range ptrs {
		names = append(names, map[string]any{"name": p.Name, "confirmed": p.Confirmed})
		s := p.Name
		if p.Confirmed {
			s += " (forward-confirmed)"
			if confirmed == "" {
				confirmed = p.Name
			}
		} else {
			s += " (does not resolve back)"
		}
		parts = append(parts, s)
	}
	e["ptr"] = nonNil(names)
	if err != nil {
		switch route.KindOf(err) {
		case route.KindNXDomain, route.KindNoData:
			cl.addf(id, Info, e, "%s has no PTR record", ep.Addr)
		default:
			e["error"] = err.Error()
			cl.addf(id, Info, e, "PTR lookup for %s failed: %v", ep.Addr, err)
		}
		return
	}
	sum := fmt.Sprintf("%s is %s", ep.Addr, strings.Join(parts, ", "))
	var det []string
	for _, n := range []struct{ what, name string }{{"banner", banner}, {"EHLO", helo}} {
		if n.name == "" {
			continue
		}
		same := false
		for _, p := range ptrs {
			same = same || p.Name == n.name
		}
		if same {
			det = append(det, fmt.Sprintf("the %s name %s matches", n.what, n.name))
		} else {
			det = append(det, fmt.Sprintf("the %s name %s differs", n.what, n.name))
		}
	}
	e["forward_confirmed"] = confirmed != ""
	ch := cl.add(id, Info, sum, e)
	ch.Details = det
}

// DANE is what the TLSA records of one endpoint say (RFC 6698, RFC 7672).
type DANE struct {
	Name    string   `json:"name"`    // "_25._tcp.mx.example.com"
	Records []string `json:"records"` // presentation form, "3 1 1 <hex>"
	// AD is the AD bit of the TLSA answer: a validating resolver vouched
	// for it.
	AD bool `json:"ad"`
	// HostAD is set when the lookups that led to the host (the MX answer in
	// a domain probe, and the host's addresses) were validated too; RFC
	// 7672 §2.2 uses TLSA records only then.
	HostAD bool `json:"host_ad"`
	// Usable is set when at least one DANE-TA(2) or DANE-EE(3) record can
	// be used: validated answers all the way.
	Usable  bool     `json:"usable"`
	Matched []string `json:"matched"`
	Error   string   `json:"error,omitempty"`
}

// daneChecks looks up TLSA records for the endpoint's host and matches
// them against the presented chain.
func (pr *prober) daneChecks(ctx context.Context, ep *Endpoint, c *conv, cl *checkList) {
	if ep.Host == "" {
		if pr.o.RequireDANE {
			ch := cl.fail("dane.tlsa", exitcode.Check, "no host name to look up TLSA records for", nil)
			ch.Hint = "probe the server by name, or drop --require-dane"
		}
		return
	}
	if pr.localOnly(ep) && pr.p.mode == ModeHost {
		cl.add("dane.tlsa", Info, "not looked up for a loopback address (give --dns-server to ask)", ev("looked_up", false))
		return
	}
	name := "_" + strconv.Itoa(ep.Port) + "._tcp." + ep.Host
	pr.mu.Lock()
	m := pr.tlsa[name]
	if m == nil {
		m = &once[route.TLSAResult]{}
		pr.tlsa[name] = m
	}
	pr.mu.Unlock()
	tr, err := m.do(func() (route.TLSAResult, error) { return pr.res.LookupTLSA(ctx, ep.Host, ep.Port) })
	d := &DANE{Name: name, AD: tr.AD, HostAD: ep.hostAD, Records: []string{}, Matched: []string{}}
	ep.DANE = d
	for _, r := range tr.Records {
		d.Records = append(d.Records, r.String())
	}
	e := ev("name", name, "records", d.Records, "ad", d.AD, "host_ad", d.HostAD)
	need := func(st Status, sum, hint string) {
		if pr.o.RequireDANE {
			st = Fail
		}
		ch := cl.add("dane.tlsa", st, sum, e)
		ch.Hint = hint
	}
	switch k := route.KindOf(err); {
	case err != nil && (k == route.KindNoData || k == route.KindNXDomain):
		sum := "no TLSA records at " + name
		if tr.AD {
			sum += " (absence proven by DNSSEC)"
		}
		need(Info, sum, "publish TLSA records in a DNSSEC-signed zone (RFC 7672)")
		return
	case err != nil:
		d.Error = err.Error()
		e["error"] = d.Error
		need(Warn, "TLSA lookup failed: "+err.Error()+" (DANE senders defer mail while it fails)", "the zone's DNSSEC or its servers are broken; check with a validating resolver")
		return
	}
	usable := 0
	for _, r := range tr.Records {
		if policy.DANEUsable(r) {
			usable++
		}
	}
	switch {
	case !tr.AD:
		need(Warn, fmt.Sprintf("%d TLSA %s, but the answer is not DNSSEC-validated (AD bit clear): senders ignore them", len(tr.Records), transcript.Plural(len(tr.Records), "record", "records")), "sign the zone, and query a validating resolver with --dns-server")
		return
	case ep.hostADKnown && !ep.hostAD:
		need(Warn, fmt.Sprintf("%d TLSA %s, but the lookups leading to %s are not DNSSEC-validated: senders ignore them (RFC 7672 §2.2)", len(tr.Records), transcript.Plural(len(tr.Records), "record", "records"), ep.Host), "sign the zones of the domain's MX records and of the MX host")
		return
	case usable == 0:
		need(Warn, "only PKIX-TA(0)/PKIX-EE(1) records, which SMTP does not use (RFC 7672 §3.1.3)", "publish DANE-EE(3) or DANE-TA(2) records")
		return
	}
	d.Usable = true
	cl.addf("dane.tlsa", Pass, e, "%d TLSA %s at %s, DNSSEC-validated", len(tr.Records), transcript.Plural(len(tr.Records), "record", "records"), name)
	me := ev("name", name)
	if c.tls == nil {
		ch := cl.fail("dane.match", pr.daneExit(ep), "TLSA records are published but TLS did not come up: DANE senders will not deliver", me)
		ch.Hint = "enable STARTTLS, or withdraw the TLSA records"
		return
	}
	names := []string{ep.Host}
	if ep.domain != "" && ep.domain != ep.Host {
		names = append(names, ep.domain)
	}
	var det []string
	for _, r := range tr.Records {
		ok, why := policy.MatchTLSA(r, c.tls.PeerCertificates, names, pr.now)
		det = append(det, r.String()+": "+why)
		if ok {
			d.Matched = append(d.Matched, r.String())
		}
	}
	me["matched"] = d.Matched
	me["results"] = det
	var ch *Check
	if len(d.Matched) > 0 {
		ch = cl.addf("dane.match", Pass, me, "%d of %d TLSA %s %s the certificate", len(d.Matched), len(tr.Records), transcript.Plural(len(tr.Records), "record", "records"), transcript.Plural(len(d.Matched), "matches", "match"))
	} else {
		ch = cl.fail("dane.match", pr.daneExit(ep), "no TLSA record matches the certificate: DANE senders will not deliver", me)
		ch.Hint = "publish TLSA records for the current certificate (roll them over before changing keys)"
	}
	ch.Details = det
}

func (pr *prober) daneExit(ep *Endpoint) int {
	if pr.tlsRequired(ep) {
		return exitcode.TLS
	}
	return exitcode.Check
}
