package policy

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/smtpx/smtpx/internal/route"
)

// chain makes a CA and a leaf it signed for names.
func chain(t *testing.T, names ...string) (leaf, ca *x509.Certificate) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ = x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: names[0]}, DNSNames: names,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ = x509.ParseCertificate(der)
	return leaf, ca
}

func TestMatchTLSA(t *testing.T) {
	leaf, ca := chain(t, "mx.example.test")
	other, _ := chain(t, "mx.example.test")
	spki := sha256.Sum256(leaf.RawSubjectPublicKeyInfo)
	full512 := sha512.Sum512(leaf.Raw)
	caSPKI := sha256.Sum256(ca.RawSubjectPublicKeyInfo)
	rec := func(u, s, m uint8, d []byte) route.TLSA {
		return route.TLSA{Usage: u, Selector: s, MatchingType: m, Data: d}
	}
	now := time.Now()
	ch := []*x509.Certificate{leaf, ca}
	names := []string{"mx.example.test", "example.test"}
	tests := []struct {
		name  string
		r     route.TLSA
		chain []*x509.Certificate
		names []string
		ok    bool
		why   string
	}{
		{"EE spki sha256", rec(3, 1, 1, spki[:]), ch, names, true, "matches the server"},
		{"EE full sha512", rec(3, 0, 2, full512[:]), ch, names, true, "matches the server"},
		{"EE full exact", rec(3, 0, 0, leaf.Raw), ch, names, true, "matches the server"},
		{"EE other key", rec(3, 1, 1, spki[:]), []*x509.Certificate{other}, names, false, "does not match"},
		{"EE ignores names", rec(3, 1, 1, spki[:]), ch, []string{"else.test"}, true, "matches the server"},
		{"TA spki", rec(2, 1, 1, caSPKI[:]), ch, names, true, "trust anchor 1"},
		{"TA full", rec(2, 0, 0, ca.Raw), ch, names, true, "trust anchor 1"},
		{"TA wrong name", rec(2, 1, 1, caSPKI[:]), ch, []string{"else.test"}, false, "names none"},
		{"TA not in chain", rec(2, 1, 1, caSPKI[:]), []*x509.Certificate{leaf}, names, false, "no certificate in the chain"},
		{"TA signs a different leaf", rec(2, 1, 1, caSPKI[:]), []*x509.Certificate{other, ca}, names, false, "does not verify"},
		{"PKIX-EE unusable", rec(1, 1, 1, spki[:]), ch, names, false, "not usable in SMTP"},
		{"bad selector", rec(3, 7, 1, spki[:]), ch, names, false, "unknown selector"},
		{"no chain", rec(3, 1, 1, spki[:]), nil, names, false, "no certificate"},
	}
	for _, tt := range tests {
		ok, why := MatchTLSA(tt.r, tt.chain, tt.names, now)
		if ok != tt.ok || !strings.Contains(why, tt.why) {
			t.Errorf("%s: %v %q, want %v %q", tt.name, ok, why, tt.ok, tt.why)
		}
	}
	if got := rec(3, 1, 1, spki[:]).String(); got != "3 1 1 "+hex.EncodeToString(spki[:]) {
		t.Errorf("String %q", got)
	}
}
