package sink

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"time"

	"github.com/smtpx/smtpx/internal/certs"
)

// CertInfo describes the certificate the sink presents.
type CertInfo struct {
	SelfSigned  bool
	Subject     string
	Hosts       []string // DNS names and IP addresses it is valid for
	NotAfter    time.Time
	Fingerprint string // SHA-256, colon-separated hex
	Saved       string // where the self-signed certificate was written
}

func (s *Sink) setupTLS() error {
	var cert tls.Certificate
	info := &CertInfo{}
	if s.o.CertFile != "" {
		var err error
		cert, err = tls.LoadX509KeyPair(s.o.CertFile, s.o.KeyFile)
		if err != nil {
			return &OptionError{Msg: "--cert/--key: " + err.Error(), Err: err,
				Hint: "give a PEM certificate and its matching private key, or leave both out for a self-signed one"}
		}
	} else {
		c, err := certs.SelfSigned(certs.Options{Hosts: s.certHosts()})
		if err != nil {
			return &OptionError{Msg: "generating a self-signed certificate: " + err.Error(), Err: err,
				Hint: "give a certificate with --cert and --key"}
		}
		cert = c.TLS
		info.SelfSigned = true
		if s.o.SaveCert != "" {
			if err := writeFileAtomic(s.o.SaveCert, c.CertPEM); err != nil {
				return &OptionError{Msg: "--save-cert: " + err.Error(), Hint: "check that the path can be created and written", Err: err}
			}
			info.Saved = s.o.SaveCert
		}
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return &OptionError{Msg: "--cert: " + err.Error(), Hint: "give a PEM certificate chain, leaf first", Err: err}
	}
	info.Subject = leaf.Subject.CommonName
	info.Hosts = append(info.Hosts, leaf.DNSNames...)
	for _, ip := range leaf.IPAddresses {
		info.Hosts = append(info.Hosts, ip.String())
	}
	info.NotAfter = leaf.NotAfter
	info.Fingerprint = certs.Fingerprint(leaf.Raw)
	s.cert = info
	s.tls = &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		// No resumption: a sink has no use for it, and without session
		// tickets every record the server writes after the handshake is
		// SMTP text, which the transcript relies on (see conn.wrote).
		SessionTicketsDisabled: true,
	}
	return nil
}

// certHosts are the names a self-signed certificate covers: the loopback
// names clients use, the --hostname, and any specific --listen host.
func (s *Sink) certHosts() []string {
	hosts := []string{"localhost"}
	seen := map[string]bool{"localhost": true}
	add := func(h string) {
		if h != "" && !seen[h] {
			seen[h] = true
			hosts = append(hosts, h)
		}
	}
	add(s.o.Hostname)
	add("127.0.0.1")
	add("::1")
	for _, a := range s.o.Listen {
		if a.Network != "tcp" {
			continue
		}
		if h, _, err := net.SplitHostPort(a.Address); err == nil {
			if ip := net.ParseIP(h); ip == nil || !ip.IsUnspecified() {
				add(h)
			}
		}
	}
	if h, err := os.Hostname(); err == nil {
		add(h)
	}
	return hosts
}
