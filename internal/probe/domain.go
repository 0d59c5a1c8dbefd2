package probe

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"

	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/policy"
	"github.com/smtpx/smtpx/internal/route"
)

// TXTRecord is one policy record published in DNS (TLS-RPT, SPF, DMARC).
type TXTRecord struct {
	Name      string            `json:"name"`      // where it was looked up
	Published bool              `json:"published"` // a record of this kind exists
	Record    string            `json:"record"`    // the record; the first one when there are several
	Tags      map[string]string `json:"tags,omitempty"`
	Error     string            `json:"error,omitempty"` // why it is unusable, or the lookup failed
	lookupErr error
	parseErr  error
}

// set records what the parser made of the answers.
func (t *TXTRecord) set(r policy.Record) {
	t.Published, t.Record, t.Tags = r.Published, r.Text, r.Tags
	if r.Err != nil {
		t.parseErr, t.Error = r.Err, r.Err.Error()
	}
}

// MTASTS is a domain's MTA-STS deployment (RFC 8461).
type MTASTS struct {
	TXTRecord
	ID          string      `json:"id,omitempty"`
	URL         string      `json:"policy_url,omitempty"`
	Policy      *policy.STS `json:"policy"`
	PolicyError string      `json:"policy_error,omitempty"`
}

// lookupTXT returns the TXT records at name; "none published" is not an
// error.
func (pr *prober) lookupTXT(ctx context.Context, name string) ([]string, error) {
	txts, err := pr.res.LookupTXT(ctx, name)
	switch route.KindOf(err) {
	case 0:
		return txts, nil
	case route.KindNoData, route.KindNXDomain:
		return nil, nil
	}
	return nil, err
}

// domainRecords looks up the domain's policy records and fetches its
// MTA-STS policy.
func (pr *prober) domainRecords(ctx context.Context, dom *Domain) {
	d := dom.Name
	dom.MTASTS = &MTASTS{TXTRecord: TXTRecord{Name: "_mta-sts." + d}}
	dom.TLSRPT = &TXTRecord{Name: "_smtp._tls." + d}
	dom.SPF = &TXTRecord{Name: d}
	dom.DMARC = &TXTRecord{Name: "_dmarc." + d}
	var wg sync.WaitGroup
	look := func(t *TXTRecord, parse func([]string) policy.Record) {
		wg.Go(func() {
			txts, err := pr.lookupTXT(ctx, t.Name)
			if err != nil {
				t.lookupErr, t.Error = err, err.Error()
				return
			}
			t.set(parse(txts))
		})
	}
	look(&dom.MTASTS.TXTRecord, func(txts []string) policy.Record {
		r, id := policy.ParseSTSRecord(txts)
		dom.MTASTS.ID = id
		return r
	})
	look(dom.TLSRPT, policy.ParseTLSRPT)
	look(dom.SPF, policy.ParseSPF)
	look(dom.DMARC, policy.ParseDMARC)
	wg.Wait()
	m := dom.MTASTS
	if m.Published && m.parseErr == nil {
		m.URL = policy.STSURL(d, pr.o.MTASTSPort)
		body, err := fetchPolicy(ctx, pr.res, d, pr.o.MTASTSPort, pr.o.MTASTSRoots, pr.o.Timeout)
		if err != nil {
			m.PolicyError = err.Error()
			return
		}
		p, err := policy.ParseSTS(body)
		m.Policy = p
		if err != nil {
			m.PolicyError = err.Error()
		}
	}
}

// domainChecks evaluates the domain's MX set and records, once the
// endpoints are probed (MTA-STS needs their certificates).
func (pr *prober) domainChecks(dom *Domain, eps []*Endpoint) {
	cl := &dom.Checks
	pr.mxChecks(dom, eps, cl)
	pr.mtaSTSChecks(dom, eps, cl)
	recordCheck(cl, "tls_rpt.record", dom.TLSRPT, "publish a TLS-RPT record (RFC 8460) to receive reports of TLS failures", func(t *TXTRecord) string {
		return "reports go to " + t.Tags["rua"]
	})
	recordCheck(cl, "spf.record", dom.SPF, "", func(t *TXTRecord) string { return t.Record })
	recordCheck(cl, "dmarc.record", dom.DMARC, "", func(t *TXTRecord) string {
		s := "policy " + t.Tags["p"]
		if t.Tags["rua"] != "" {
			s += ", reports to " + t.Tags["rua"]
		}
		return s
	})
}

// recordCheck reports a record that is informational when absent.
func recordCheck(cl *checkList, id string, t *TXTRecord, absentHint string, good func(*TXTRecord) string) {
	e := ev("name", t.Name, "published", t.Published, "record", t.Record, "tags", t.Tags)
	switch {
	case t.lookupErr != nil:
		e["error"] = t.Error
		ch := cl.add(id, Warn, "lookup failed: "+t.Error, e)
		ch.Hint = "the DNS did not answer for " + t.Name + "; retry, or ask another resolver with --dns-server"
	case !t.Published:
		ch := cl.add(id, Info, "not published at "+t.Name, e)
		ch.Hint = absentHint
	case t.parseErr != nil:
		e["error"] = t.Error
		ch := cl.add(id, Warn, "does not parse: "+t.Error, e)
		ch.Details = []string{t.Record}
		ch.Hint = "fix the record at " + t.Name
	default:
		ch := cl.add(id, Pass, good(t), e)
		if ch.Summary != t.Record {
			ch.Details = []string{t.Record}
		}
	}
}

// mxChecks reports the MX set and hosts without addresses.
func (pr *prober) mxChecks(dom *Domain, eps []*Endpoint, cl *checkList) {
	rt, err := dom.Route, dom.RouteErr
	var hosts []map[string]any
	var det []string
	for _, h := range rt.Hosts {
		hm := map[string]any{"host": h.Name, "preference": h.Preference, "ipv4": addrStrings(h.IPv4), "ipv6": addrStrings(h.IPv6), "ad": h.AD}
		line := fmt.Sprintf("%d %s: %s", h.Preference, h.Name, joinAddrs(append(append([]netip.Addr(nil), h.IPv4...), h.IPv6...)))
		if h.Err != nil {
			hm["error"] = h.Err.Error()
			line += " (" + h.Err.Error() + ")"
		}
		hosts = append(hosts, hm)
		det = append(det, line)
	}
	e := ev("domain", dom.Name, "hosts", nonNil(hosts), "implicit", rt.Implicit, "null_mx", dom.NullMX, "ad", rt.AD)
	switch {
	case dom.NullMX:
		ch := cl.fail("dns.mx", exitcode.Permanent, dom.Name+" publishes a null MX (RFC 7505): it accepts no mail", e)
		ch.Err = err
		ch.Hint = "nothing to probe: the domain says it receives no mail"
		return
	case err != nil:
		code := exitcode.For(err)
		e["error"] = err.Error()
		ch := cl.fail("dns.mx", code, err.Error(), e)
		ch.Err = err
		ch.Details = det
		ch.Hint = "check the domain's MX records, or ask another resolver with --dns-server"
		if code == exitcode.Network {
			ch.Hint = "the DNS did not answer; retry, or ask another resolver with --dns-server"
		}
		return
	}
	var prefs []string
	for _, h := range rt.Hosts {
		prefs = append(prefs, fmt.Sprintf("%d %s", h.Preference, h.Name))
	}
	sum := "MX by preference: " + strings.Join(prefs, ", ")
	if rt.Implicit {
		sum = "no MX records: mail goes to the domain's own address (implicit MX, RFC 5321 §5.1)"
	}
	if rt.AD {
		sum += " (DNSSEC-validated)"
	}
	if len(eps) == 0 {
		ch := cl.fail("dns.mx", exitcode.Network, fmt.Sprintf("no MX host has an IPv%d address", pr.o.Family), e)
		ch.Details = det
		ch.Hint = "drop -4/-6 to probe the other family"
		return
	}
	ch := cl.add("dns.mx", Info, sum, e)
	ch.Details = det
	var missing []string
	for _, h := range rt.Hosts {
		if len(h.IPv4)+len(h.IPv6) == 0 {
			why := "no address"
			if h.Err != nil {
				why = h.Err.Error()
			}
			missing = append(missing, h.Name+": "+why)
		}
	}
	if len(missing) > 0 {
		ch := cl.add("dns.mx.addresses", Warn, fmt.Sprintf("%d of %d MX hosts have no address", len(missing), len(rt.Hosts)), ev("missing", missing))
		ch.Details = missing
		ch.Hint = "remove the MX records of hosts that do not exist, or give them addresses"
	} else {
		cl.add("dns.mx.addresses", Pass, "every MX host has an address", ev("missing", []string{}))
	}
}

// mtaSTSChecks reports the record, the policy and whether every MX
// satisfies it.
func (pr *prober) mtaSTSChecks(dom *Domain, eps []*Endpoint, cl *checkList) {
	m := dom.MTASTS
	req := pr.o.RequireMTASTS
	reqStatus := func(st Status) Status {
		if req {
			return Fail
		}
		return st
	}
	e := ev("name", m.Name, "published", m.Published, "record", m.Record, "id", m.ID)
	switch {
	case m.lookupErr != nil:
		e["error"] = m.Error
		ch := cl.add("mta_sts.record", reqStatus(Warn), "lookup failed: "+m.Error, e)
		ch.Hint = "the DNS did not answer for " + m.Name + "; retry, or ask another resolver with --dns-server"
		return
	case !m.Published:
		ch := cl.add("mta_sts.record", reqStatus(Info), "not published at "+m.Name, e)
		ch.Hint = "publish an MTA-STS policy (RFC 8461) so senders insist on TLS"
		return
	case m.parseErr != nil:
		e["error"] = m.Error
		ch := cl.add("mta_sts.record", Fail, "unusable: "+m.Error, e)
		ch.Details = []string{m.Record}
		ch.Hint = "fix the TXT record at " + m.Name + `: "v=STSv1; id=YYYYMMDDNN"`
		return
	}
	cl.add("mta_sts.record", Pass, m.Record, e)
	pe := ev("url", m.URL, "policy", m.Policy)
	if m.PolicyError != "" {
		pe["error"] = m.PolicyError
		ch := cl.add("mta_sts.policy", Fail, "published but unusable: "+m.PolicyError, pe)
		ch.Hint = "serve the policy as text/plain at " + m.URL + " with a certificate valid for mta-sts." + dom.Name
		return
	}
	p := m.Policy
	sum := fmt.Sprintf("mode %s, max_age %d (%s)", p.Mode, p.MaxAge, ageText(p.MaxAge))
	if len(p.MX) > 0 {
		sum += ", mx " + strings.Join(p.MX, ", ")
	}
	switch p.Mode {
	case "enforce":
		cl.add("mta_sts.policy", Pass, sum, pe)
	case "testing":
		ch := cl.add("mta_sts.policy", reqStatus(Info), sum+": senders report TLS failures but deliver anyway", pe)
		ch.Hint = "switch the policy to mode: enforce once the reports are clean"
	default:
		ch := cl.add("mta_sts.policy", reqStatus(Info), sum+": the domain has withdrawn its policy", pe)
		ch.Hint = "publish mode: enforce to require TLS"
		return
	}
	var det, bad, unchecked []string
	var hosts []map[string]any
	for _, h := range dom.Route.Hosts {
		pat := p.Match(h.Name)
		state, ok := hostTLSState(h.Name, eps)
		line := h.Name + ": "
		if pat != "" {
			line += "matches " + pat
		} else {
			line += "matches no mx pattern"
		}
		line += "; " + state
		det = append(det, line)
		hosts = append(hosts, map[string]any{"host": h.Name, "pattern": pat, "tls": state, "ok": pat != "" && ok})
		switch {
		case pat == "":
			bad = append(bad, h.Name)
		case ok:
		case state == stateSkipped || state == stateNoAddress || strings.HasPrefix(state, stateNotReached):
			unchecked = append(unchecked, h.Name)
		default:
			bad = append(bad, h.Name)
		}
	}
	me := ev("hosts", nonNil(hosts))
	var ch *Check
	switch {
	case len(bad) > 0 && (p.Mode == "enforce" || req):
		ch = cl.fail("mta_sts.mx", exitcode.Check, "senders that enforce MTA-STS will not deliver to "+strings.Join(bad, ", "), me)
		ch.Hint = "every MX must match an mx line of the policy and present a certificate valid for its name from a public CA"
	case len(bad) > 0:
		ch = cl.add("mta_sts.mx", Warn, "in enforce mode, senders would not deliver to "+strings.Join(bad, ", "), me)
		ch.Hint = "fix these before switching to mode: enforce"
	case len(unchecked) > 0 && pr.o.TLS.InsecureSkipVerify:
		ch = cl.add("mta_sts.mx", Info, "every MX matches the policy; certificates not checked (--insecure)", me)
	case len(unchecked) > 0:
		ch = cl.add("mta_sts.mx", Warn, "every MX matches the policy, but the certificates of "+strings.Join(unchecked, ", ")+" could not be checked", me)
		ch.Hint = "see why those hosts could not be reached"
		if req {
			ch.Status = Fail
		}
	default:
		ch = cl.add("mta_sts.mx", Pass, "every MX matches the policy and presents a valid certificate", me)
	}
	ch.Details = det
}

// States of an MX host that say nothing about its certificate.
const (
	stateSkipped    = "certificate not checked (--insecure)"
	stateNoAddress  = "no address"
	stateNotReached = "not reached"
)

// hostTLSState says how an MX host's endpoints did for MTA-STS: a
// certificate that verifies for the host name is what counts (RFC 8461
// §4.2).
func hostTLSState(host string, eps []*Endpoint) (string, bool) {
	state := stateNoAddress
	for _, ep := range eps {
		if ep.Host != host {
			continue
		}
		switch {
		case ep.Verify != nil && ep.Verify.OK:
			return "certificate valid", true
		case ep.Verify != nil && ep.Verify.Skipped:
			state = stateSkipped
		case ep.Verify != nil:
			state = "certificate: " + ep.Verify.Error
		case ep.Banner != nil && ep.TLS == nil && (state == stateNoAddress || strings.HasPrefix(state, stateNotReached)):
			state = "no TLS"
		case state == stateNoAddress && ep.Err != nil:
			state = stateNotReached + ": " + ep.Err.Error()
		}
	}
	return state, false
}

func ageText(s int64) string {
	switch {
	case s >= 86400 && s%86400 == 0:
		return dayCount(int(s / 86400))
	case s >= 3600:
		return fmt.Sprintf("%.1f hours", float64(s)/3600)
	}
	return strconv.FormatInt(s, 10) + " s"
}
