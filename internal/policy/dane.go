package policy

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"fmt"
	"strings"
	"time"

	"github.com/smtpx/smtpx/internal/route"
)

// DANEUsable reports whether SMTP uses a TLSA record: DANE-TA(2) and
// DANE-EE(3) only, since PKIX-TA(0) and PKIX-EE(1) presume the sender
// knows which public CAs the receiver trusts (RFC 7672 §3.1.3).
func DANEUsable(t route.TLSA) bool { return t.Usage == 2 || t.Usage == 3 }

// tlsaData is what a record's selector and matching type make of a
// certificate (RFC 6698 §2.1.2, §2.1.3).
func tlsaData(t route.TLSA, c *x509.Certificate) ([]byte, bool) {
	var data []byte
	switch t.Selector {
	case 0:
		data = c.Raw
	case 1:
		data = c.RawSubjectPublicKeyInfo
	default:
		return nil, false
	}
	switch t.MatchingType {
	case 0:
		return data, true
	case 1:
		h := sha256.Sum256(data)
		return h[:], true
	case 2:
		h := sha512.Sum512(data)
		return h[:], true
	}
	return nil, false
}

// MatchTLSA checks one TLSA record against the chain a server presented,
// leaf first (RFC 7671 §5, RFC 7672 §3.1), and says why in words.
// DANE-EE(3) matches the leaf alone, without name or validity checks.
// DANE-TA(2) matches a certificate in the chain; the leaf must then chain
// up to it, valid at now, and carry one of the reference names.
func MatchTLSA(t route.TLSA, chain []*x509.Certificate, names []string, now time.Time) (bool, string) {
	if len(chain) == 0 {
		return false, "no certificate"
	}
	switch t.Usage {
	case 3:
		d, ok := tlsaData(t, chain[0])
		if !ok {
			return false, "unknown selector or matching type"
		}
		if bytes.Equal(d, t.Data) {
			return true, "matches the server's certificate"
		}
		return false, "does not match the server's certificate"
	case 2:
		for i, c := range chain {
			d, ok := tlsaData(t, c)
			if !ok {
				return false, "unknown selector or matching type"
			}
			if !bytes.Equal(d, t.Data) {
				continue
			}
			roots := x509.NewCertPool()
			roots.AddCert(c)
			inter := x509.NewCertPool()
			for _, x := range chain[1:i] {
				inter.AddCert(x)
			}
			_, err := chain[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
			if err != nil {
				return false, fmt.Sprintf("matches certificate %d, but the chain does not verify up to it: %v", i, err)
			}
			for _, n := range names {
				if n != "" && chain[0].VerifyHostname(n) == nil {
					return true, fmt.Sprintf("matches trust anchor %d, and the certificate names %s", i, n)
				}
			}
			return false, fmt.Sprintf("matches trust anchor %d, but the certificate names none of %s", i, strings.Join(names, ", "))
		}
		return false, "matches no certificate in the chain"
	}
	return false, fmt.Sprintf("usage %d is not usable in SMTP (RFC 7672 §3.1.3)", t.Usage)
}
