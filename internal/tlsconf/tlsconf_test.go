package tlsconf

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/smtpx/smtpx/internal/certs"
)

func TestBuildFiles(t *testing.T) {
	dir := t.TempDir()
	c, err := certs.SelfSigned(certs.Options{Hosts: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	cert, key, err := c.WriteFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.pem")
	if err := os.WriteFile(big, nil, 0o644); err != nil || os.Truncate(big, MaxFile+1) != nil {
		t.Fatal("cannot make a big file")
	}
	notPEM := filepath.Join(dir, "x.txt")
	os.WriteFile(notPEM, []byte("hello"), 0o644)

	cfg, err := Options{CAFile: cert, CertFile: cert, KeyFile: key}.Build()
	if err != nil || cfg.RootCAs == nil || len(cfg.Certificates) != 1 {
		t.Fatalf("good files: %v", err)
	}
	for _, tt := range []struct {
		o          Options
		flag, want string
	}{
		// A device or a huge file fails in bounded memory (these ran out of memory).
		{Options{CAFile: "/dev/zero"}, "--ca-file", "larger than 4 MiB"},
		{Options{CertFile: big, KeyFile: key}, "--cert", "larger than 4 MiB"},
		{Options{CertFile: cert, KeyFile: big}, "--key", "larger than 4 MiB"},
		{Options{CAFile: filepath.Join(dir, "missing")}, "--ca-file", "no such file"},
		{Options{CAFile: notPEM}, "--ca-file", "holds no PEM certificate"},
		{Options{CertFile: cert}, "--cert", "go together"},
		{Options{CertFile: cert, KeyFile: notPEM}, "--cert", ""},
		{Options{Min: "0.9"}, "--tls-min", "1.0, 1.1"},
		{Options{Max: "1.4"}, "--tls-max", "1.0, 1.1"},
		{Options{Max: "1.1"}, "--tls-max", "below the minimum 1.2"},
		{Options{Min: "1.3", Max: "1.2"}, "--tls-max", "below the minimum 1.3"},
		{Options{Ciphers: "TLS_CHACHA20_POLY1305_SHA256"}, "--tls-ciphers", "TLS 1.3 suite"},
		{Options{Ciphers: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,,"}, "--tls-ciphers", "empty name"},
		{Options{Ciphers: "AES128-SHA"}, "--tls-ciphers", "not a cipher suite"},
		{Options{PeerCertFile: filepath.Join(dir, "missing", "x.pem")}, "--tls-get-peer-cert", "no such file"},
		{Options{PeerCertFile: dir}, "--tls-get-peer-cert", "is a directory"},
		{Options{SNI: "a\r\nb"}, "--tls-sni", "line breaks"},
	} {
		_, err := tt.o.Build()
		e, ok := err.(*Error)
		if !ok || e.Flag != tt.flag || !strings.Contains(e.Msg, tt.want) {
			t.Errorf("%+v: %v, want %s: %s", tt.o, err, tt.flag, tt.want)
		}
	}
}

func TestVersionsAndSuites(t *testing.T) {
	cfg, err := Options{Min: "1.0", Max: "1.2", Ciphers: " tls_ecdhe_rsa_with_aes_128_gcm_sha256 ,TLS_RSA_WITH_3DES_EDE_CBC_SHA,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"}.Build()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MinVersion != tls.VersionTLS10 || cfg.MaxVersion != tls.VersionTLS12 {
		t.Errorf("versions %x-%x", cfg.MinVersion, cfg.MaxVersion)
	}
	want := []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA}
	if !slices.Equal(cfg.CipherSuites, want) {
		t.Errorf("suites %x, want %x", cfg.CipherSuites, want)
	}
	names := SuiteNames()
	if len(names) < 20 || slices.Contains(names, "TLS_AES_128_GCM_SHA256") || !slices.Contains(names, "TLS_RSA_WITH_RC4_128_SHA") {
		t.Errorf("suite names %q", names)
	}
}

// The chain comes from an established connection, or from a handshake that
// failed verification, and is written as PEM, leaf first.
func TestPeerChain(t *testing.T) {
	a, _ := certs.SelfSigned(certs.Options{Hosts: []string{"a.test"}})
	b, _ := certs.SelfSigned(certs.Options{Hosts: []string{"b.test"}})
	leaf, ca := a.X509, b.X509
	st := &tls.ConnectionState{PeerCertificates: []*x509.Certificate{leaf, ca}}
	if got := PeerChain(st, nil); len(got) != 2 {
		t.Errorf("from the state: %d certificates", len(got))
	}
	verr := fmt.Errorf("TLS: %w", &tls.CertificateVerificationError{UnverifiedCertificates: []*x509.Certificate{leaf}, Err: x509.UnknownAuthorityError{}})
	if got := PeerChain(nil, verr); len(got) != 1 || got[0] != leaf {
		t.Errorf("from the error: %v", got)
	}
	if got := PeerChain(nil, errors.New("refused")); got != nil {
		t.Errorf("from another error: %v", got)
	}
	path := filepath.Join(t.TempDir(), "chain.pem")
	if err := WriteChain(path, st.PeerCertificates); err != nil {
		t.Fatal(err)
	}
	b1, _ := os.ReadFile(path)
	p1, rest := pem.Decode(b1)
	p2, rest := pem.Decode(rest)
	if p1 == nil || p2 == nil || len(rest) != 0 || !bytes.Equal(p1.Bytes, leaf.Raw) || !bytes.Equal(p2.Bytes, ca.Raw) {
		t.Errorf("written:\n%s", b1)
	}
}
