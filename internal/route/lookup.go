package route

import (
	"context"
	"encoding/hex"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// LookupTXT returns the TXT records at name, one string per record with its
// character-strings joined without separators (RFC 7208 §3.3; the same rule
// serves DMARC, MTA-STS and TLS-RPT). Probe asks for "_mta-sts.DOMAIN",
// "_smtp._tls.DOMAIN", "_dmarc.DOMAIN" and DOMAIN (SPF). A name with no TXT
// records gives KindNoData, a name that does not exist KindNXDomain: for
// those records both just mean "not published".
func (r *Resolver) LookupTXT(ctx context.Context, name string) ([]string, error) {
	n, err := ToASCII(name)
	if err != nil {
		return nil, err
	}
	ans, err := r.query(ctx, n, dns.TypeTXT, false)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(ans.rrs))
	for _, rr := range ans.rrs {
		out = append(out, strings.Join(rr.(*dns.TXT).Txt, ""))
	}
	return out, nil
}

// TLSA is one TLSA record (RFC 6698 §2.1).
type TLSA struct {
	Usage        uint8  // 0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE (RFC 7218)
	Selector     uint8  // 0 full certificate, 1 SubjectPublicKeyInfo
	MatchingType uint8  // 0 exact, 1 SHA-256, 2 SHA-512
	Data         []byte // the certificate association data
}

// String gives the record in presentation form, "3 1 1 <hex>".
func (t TLSA) String() string {
	return fmt.Sprintf("%d %d %d %x", t.Usage, t.Selector, t.MatchingType, t.Data)
}

// TLSAResult is the answer to a TLSA lookup.
type TLSAResult struct {
	// Name is the name asked about: "_PORT._tcp.HOST".
	Name string
	// Records are the TLSA records found, in the order the resolver gave
	// them; records whose data is not valid hex are left out.
	Records []TLSA
	// AD is the AD bit of the response (of every response, when a CNAME was
	// followed): the resolver validated the answer, or the denial, with
	// DNSSEC. RFC 7672 §2.2 uses the records only when it is set. It is
	// filled in for NXDOMAIN and NoData answers too.
	AD bool
}

// LookupTLSA asks for the TLSA records of a TLS service, "_PORT._tcp.HOST"
// (RFC 6698 §3; RFC 7672 §2.2.2 for SMTP, where port is 25), with the
// DNSSEC OK bit set (RFC 4035 §3.2.1). A host without TLSA records gives
// KindNoData or KindNXDomain along with a TLSAResult whose AD bit says
// whether that absence was proven.
func (r *Resolver) LookupTLSA(ctx context.Context, host string, port int) (TLSAResult, error) {
	h, err := ToASCII(host)
	if err != nil {
		return TLSAResult{}, err
	}
	if port < 1 || port > 65535 {
		return TLSAResult{}, invalid(host, "port %d out of range", port)
	}
	res := TLSAResult{Name: "_" + strconv.Itoa(port) + "._tcp." + h}
	ans, err := r.query(ctx, res.Name, dns.TypeTLSA, true)
	res.AD = ans.ad
	if err != nil {
		return res, err
	}
	for _, rr := range ans.rrs {
		t := rr.(*dns.TLSA)
		data, err := hex.DecodeString(t.Certificate)
		if err != nil {
			continue
		}
		res.Records = append(res.Records, TLSA{Usage: t.Usage, Selector: t.Selector, MatchingType: t.MatchingType, Data: data})
	}
	return res, nil
}

// PTR is one reverse-DNS name of an address and whether it points back.
type PTR struct {
	Name string // ASCII, lower case, without the trailing dot
	// Confirmed is set when Name resolves to the address again: the
	// "forward-confirmed reverse DNS" receiving servers check.
	Confirmed bool
	// Addrs are Name's addresses of the same family as the address asked
	// about.
	Addrs []netip.Addr
	// Err is why the forward lookup failed, if it did.
	Err error
}

// maxPTR bounds how many PTR names are forward-checked: real addresses have
// one or two, and a hostile zone should not make us ask hundreds of
// questions.
const maxPTR = 10

// LookupPTR returns the reverse-DNS names of ip (RFC 1035 §3.5, RFC 3596
// §2.5), each checked against its forward A or AAAA records. An address
// without PTR records gives KindNXDomain or KindNoData.
func (r *Resolver) LookupPTR(ctx context.Context, ip netip.Addr) ([]PTR, error) {
	if !ip.IsValid() {
		return nil, invalid("", "no address to look up")
	}
	ip = ip.Unmap().WithZone("")
	arpa, err := dns.ReverseAddr(ip.String())
	if err != nil {
		return nil, invalid(ip.String(), "%v", err)
	}
	ans, err := r.query(ctx, strings.TrimSuffix(arpa, "."), dns.TypePTR, false)
	if err != nil {
		return nil, err
	}
	var out []PTR
	for _, rr := range ans.rrs {
		name := strings.ToLower(strings.TrimSuffix(rr.(*dns.PTR).Ptr, "."))
		if name != "" && !slices.ContainsFunc(out, func(p PTR) bool { return p.Name == name }) && len(out) < maxPTR {
			out = append(out, PTR{Name: name})
		}
	}
	qtype := dns.TypeA
	if ip.Is6() {
		qtype = dns.TypeAAAA
	}
	var wg sync.WaitGroup
	for i := range out {
		wg.Go(func() {
			p := &out[i]
			if _, err := ToASCII(p.Name); err != nil {
				p.Err = err
				return
			}
			p.Addrs, _, p.Err = r.addrs(ctx, p.Name, qtype)
			p.Confirmed = slices.Contains(p.Addrs, ip)
		})
	}
	wg.Wait()
	return out, nil
}
