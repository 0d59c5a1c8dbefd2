package probe

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"strings"
	"time"

	"github.com/smtpx/smtpx/internal/certs"
	"github.com/smtpx/smtpx/internal/session"
)

// Verification is the probe's own check of a presented chain (RFC 5280
// path validation, RFC 6125 name check).
type Verification struct {
	Name    string   `json:"name"`            // the name checked; "" when there was none
	Skipped bool     `json:"skipped"`         // --insecure
	OK      bool     `json:"verified"`        // the chain verified for Name
	NameOK  bool     `json:"name_match"`      // the leaf is valid for Name, trusted or not
	Error   string   `json:"error,omitempty"` // why it did not verify
	Chain   []string `json:"chain,omitempty"` // subjects of the verified chain, leaf first
	kind    string   // "authority", "name", "expired", "roots", "other"
}

// Short is the verdict in the words of the transcript's TLS line.
func (v *Verification) Short() string {
	switch {
	case v.Skipped:
		return "not verified (--insecure)"
	case v.OK:
		return "verified"
	}
	return "NOT verified: " + v.Error
}

func (v *Verification) hint() string {
	switch v.kind {
	case "authority":
		return "trust its CA with --ca-file FILE, or use a certificate from a public CA"
	case "name":
		return "the certificate must name " + v.Name + "; add it to the certificate's SANs, or set the name with --tls-sni"
	case "expired":
		return "renew the certificate"
	case "roots":
		return "this system has no CA roots; give them with --ca-file"
	case "noname":
		return "give the name to verify with --tls-sni"
	}
	return "use -v to see the handshake"
}

// verify checks cs's chain for name against roots (nil: the system's).
func verify(cs tls.ConnectionState, name string, roots *x509.CertPool, skip bool, now time.Time) Verification {
	v := Verification{Name: name, Skipped: skip}
	if len(cs.PeerCertificates) == 0 {
		v.Error, v.kind = "no certificate", "other"
		return v
	}
	leaf := cs.PeerCertificates[0]
	if name != "" {
		v.NameOK = leaf.VerifyHostname(name) == nil
	}
	if skip {
		return v
	}
	if name == "" {
		v.Error, v.kind = "no name to verify the certificate against", "noname"
		return v
	}
	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	chains, err := leaf.Verify(x509.VerifyOptions{
		Roots: roots, Intermediates: inter, DNSName: name, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if err != nil {
		v.Error, v.kind = verifyError(err, name)
		return v
	}
	v.OK = true
	for _, c := range chains[0] {
		v.Chain = append(v.Chain, c.Subject.String())
	}
	return v
}

func verifyError(err error, name string) (string, string) {
	cause, msg := session.CertCause(err)
	switch cause {
	case session.ErrUntrustedCA:
		return msg, "authority"
	case session.ErrNameMismatch:
		return "certificate is not valid for " + name, "name"
	case session.ErrCertExpired:
		return msg, "expired"
	case session.ErrNoRoots:
		return msg, "roots"
	case session.ErrCertInvalid:
		return msg + ": " + err.Error(), "other"
	}
	return err.Error(), "other"
}

// Cert describes one certificate as the server sent it.
type Cert struct {
	Subject    string    `json:"subject"`
	Issuer     string    `json:"issuer"`
	SANs       []string  `json:"sans"`
	NotBefore  time.Time `json:"not_before"`
	NotAfter   time.Time `json:"not_after"`
	DaysLeft   int       `json:"days_left"`
	Key        string    `json:"key"`
	Signature  string    `json:"signature"`
	Serial     string    `json:"serial"`
	SHA256     string    `json:"sha256"`
	SelfSigned bool      `json:"self_signed"`
	CA         bool      `json:"ca"`
}

func describeChain(chain []*x509.Certificate, now time.Time) []Cert {
	out := make([]Cert, 0, len(chain))
	for _, c := range chain {
		sans := append([]string{}, c.DNSNames...)
		for _, ip := range c.IPAddresses {
			sans = append(sans, ip.String())
		}
		for _, e := range c.EmailAddresses {
			sans = append(sans, "email:"+e)
		}
		out = append(out, Cert{
			Subject:    c.Subject.String(),
			Issuer:     c.Issuer.String(),
			SANs:       sans,
			NotBefore:  c.NotBefore.UTC(),
			NotAfter:   c.NotAfter.UTC(),
			DaysLeft:   int(c.NotAfter.Sub(now).Hours() / 24),
			Key:        keyDesc(c),
			Signature:  c.SignatureAlgorithm.String(),
			Serial:     c.SerialNumber.Text(16),
			SHA256:     certs.Fingerprint(c.Raw),
			SelfSigned: c.CheckSignatureFrom(c) == nil && c.Subject.String() == c.Issuer.String(),
			CA:         c.IsCA,
		})
	}
	return out
}

// lines renders a certificate for the human report.
func (c Cert) lines(i int) []string {
	role := "leaf"
	if i > 0 {
		role = "chain"
	}
	if c.SelfSigned {
		role += ", self-signed"
	}
	l := []string{
		fmt.Sprintf("%d %s (%s)", i, c.Subject, role),
		fmt.Sprintf("  issuer    %s", c.Issuer),
	}
	if len(c.SANs) > 0 {
		l = append(l, "  names     "+strings.Join(c.SANs, ", "))
	}
	left := dayCount(c.DaysLeft) + " left"
	if c.DaysLeft < 0 {
		left = "expired " + dayCount(-c.DaysLeft) + " ago"
	}
	l = append(l,
		fmt.Sprintf("  valid     %s to %s (%s)", c.NotBefore.Format(time.DateOnly), c.NotAfter.Format(time.DateOnly), left),
		fmt.Sprintf("  key       %s, signed %s", c.Key, c.Signature),
		fmt.Sprintf("  sha256    %s", c.SHA256),
	)
	return l
}

func keyDesc(c *x509.Certificate) string {
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA %d", k.N.BitLen())
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name
	case ed25519.PublicKey:
		return "Ed25519"
	}
	return c.PublicKeyAlgorithm.String()
}
