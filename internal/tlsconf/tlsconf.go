// Package tlsconf turns the TLS flags every client verb shares (--insecure,
// --ca-file, --tls-sni, --tls-min, --tls-max, --tls-ciphers, --cert, --key)
// into a crypto/tls configuration, and writes the chain a server sent
// (--tls-get-peer-cert). Verification is on by default; SNI is always sent for a
// host name (RFC 6066 forbids it for IP literals).
package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"os"
	"strings"
)

// Options are the user's TLS choices.
type Options struct {
	Insecure bool   // skip certificate verification
	CAFile   string // PEM bundle to trust instead of the system roots
	SNI      string // server name to send and verify; default: the target host
	Min      string // minimum version: 1.0, 1.1, 1.2 or 1.3
	Max      string // maximum version, the same values; "" for Go's highest
	// Ciphers lists the TLS 1.0-1.2 cipher suites to offer, by IANA name
	// (TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256), comma-separated; "" offers
	// Go's default list. TLS 1.3 suites cannot be chosen: Go always
	// offers its three.
	Ciphers string
	// PeerCertFile is where --tls-get-peer-cert writes the server's chain;
	// Build only checks that it can be created.
	PeerCertFile string
	CertFile     string // client certificate (PEM)
	KeyFile      string // its key (PEM)
}

// Error is a problem with the user's TLS flags; Flag names the flag.
type Error struct {
	Flag string
	Msg  string
}

func (e *Error) Error() string { return e.Flag + ": " + e.Msg }

// Versions maps --tls-min values to crypto/tls constants.
var Versions = map[string]uint16{
	"1.0": tls.VersionTLS10, "1.1": tls.VersionTLS11, "1.2": tls.VersionTLS12, "1.3": tls.VersionTLS13,
}

// Build returns the configuration. Files are read here, so a bad path is
// reported before any connection is made.
func (o Options) Build() (*tls.Config, error) {
	cfg := &tls.Config{InsecureSkipVerify: o.Insecure, ServerName: o.SNI, MinVersion: tls.VersionTLS12}
	if o.Min != "" {
		v, ok := Versions[o.Min]
		if !ok {
			return nil, &Error{"--tls-min", fmt.Sprintf("%q is not one of 1.0, 1.1, 1.2, 1.3", o.Min)}
		}
		cfg.MinVersion = v
	}
	if o.Max != "" {
		v, ok := Versions[o.Max]
		if !ok {
			return nil, &Error{"--tls-max", fmt.Sprintf("%q is not one of 1.0, 1.1, 1.2, 1.3", o.Max)}
		}
		if v < cfg.MinVersion {
			min := o.Min
			if min == "" {
				min = "1.2, the default --tls-min,"
			}
			return nil, &Error{"--tls-max", fmt.Sprintf("%s is below the minimum %s", o.Max, min)}
		}
		cfg.MaxVersion = v
	}
	if o.Ciphers != "" {
		ids, err := CipherSuites(o.Ciphers)
		if err != nil {
			return nil, err
		}
		cfg.CipherSuites = ids
	}
	if o.PeerCertFile != "" {
		if err := checkWritable(o.PeerCertFile); err != nil {
			return nil, &Error{"--tls-get-peer-cert", err.Error()}
		}
	}
	if o.CAFile != "" {
		pem, err := ReadFile(o.CAFile)
		if err != nil {
			return nil, &Error{"--ca-file", err.Error()}
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, &Error{"--ca-file", fmt.Sprintf("%s holds no PEM certificate", o.CAFile)}
		}
		cfg.RootCAs = pool
	}
	if (o.CertFile == "") != (o.KeyFile == "") {
		return nil, &Error{"--cert", "--cert and --key go together"}
	}
	if o.CertFile != "" {
		certPEM, err := ReadFile(o.CertFile)
		if err != nil {
			return nil, &Error{"--cert", err.Error()}
		}
		keyPEM, err := ReadFile(o.KeyFile)
		if err != nil {
			return nil, &Error{"--key", err.Error()}
		}
		c, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, &Error{"--cert", err.Error()}
		}
		cfg.Certificates = []tls.Certificate{c}
	}
	if strings.ContainsAny(o.SNI, " \r\n") {
		return nil, &Error{"--tls-sni", "a server name has no spaces or line breaks"}
	}
	return cfg, nil
}

// MaxFile bounds a PEM file: the largest CA bundles are a few hundred KiB,
// and a wrong path (/dev/zero, a disk image) must fail, not fill memory.
const MaxFile = 4 << 20

// ReadFile reads a PEM file of at most MaxFile bytes.
func ReadFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tooBig := fmt.Errorf("%s is larger than %d MiB: not a PEM file", path, MaxFile>>20)
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() && st.Size() > MaxFile {
		return nil, tooBig
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxFile {
		return nil, tooBig
	}
	return b, nil
}
