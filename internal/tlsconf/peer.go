package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// CipherSuites reads a comma-separated list of TLS 1.0-1.2 cipher suite
// names, as IANA writes them, into crypto/tls ids. Go's insecure suites
// (RC4, 3DES, CBC with SHA-256, RSA key exchange) are accepted: testing
// whether a server still takes them is what the flag is for.
func CipherSuites(list string) ([]uint16, error) {
	byName := map[string]*tls.CipherSuite{}
	for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		byName[s.Name] = s
	}
	var ids []uint16
	for _, name := range strings.Split(list, ",") {
		name = strings.ToUpper(strings.TrimSpace(name))
		s, ok := byName[name]
		switch {
		case name == "":
			return nil, &Error{"--tls-ciphers", "an empty name in the list"}
		case !ok:
			return nil, &Error{"--tls-ciphers", fmt.Sprintf("%q is not a cipher suite Go can offer; give IANA names such as TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 (shell completion lists them)", name)}
		case slices.Contains(s.SupportedVersions, tls.VersionTLS13):
			return nil, &Error{"--tls-ciphers", fmt.Sprintf("%s is a TLS 1.3 suite, which cannot be chosen: Go offers all three (add --tls-max 1.2 to test 1.2 suites)", name)}
		}
		if !slices.Contains(ids, s.ID) {
			ids = append(ids, s.ID)
		}
	}
	return ids, nil
}

// SuiteNames lists every TLS 1.0-1.2 cipher suite Go can offer, secure
// ones first, for help text and completion.
func SuiteNames() []string {
	var out []string
	for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		if !slices.Contains(s.SupportedVersions, tls.VersionTLS13) {
			out = append(out, s.Name)
		}
	}
	return out
}

// checkWritable fails when path could not be created: its directory is
// missing or it names a directory. It writes nothing.
func checkWritable(path string) error {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("%s is a directory", path)
	}
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	return nil
}

// PeerChain is the chain a server sent: from an established connection,
// or, when the handshake failed on verification, from the error, so the
// certificate that was refused can still be saved and looked at.
func PeerChain(st *tls.ConnectionState, err error) []*x509.Certificate {
	if st != nil && len(st.PeerCertificates) > 0 {
		return st.PeerCertificates
	}
	var ve *tls.CertificateVerificationError
	if errors.As(err, &ve) {
		return ve.UnverifiedCertificates
	}
	return nil
}

// WriteChain writes certs as PEM blocks, leaf first, to path: under a
// temporary name, then renamed into place.
func WriteChain(path string, certs []*x509.Certificate) error {
	var b strings.Builder
	for _, c := range certs {
		if err := pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}); err != nil {
			return err
		}
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".smtpx-cert-*")
	if err != nil {
		return err
	}
	_, err = f.WriteString(b.String())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}
