package probe

import (
	"crypto/x509"
	"strings"
	"time"

	"github.com/smtpx/smtpx/internal/tlsconf"
)

// Flags are `smtpx probe`'s own flags as given; the connection and TLS
// flags it shares with the other verbs are set by the caller. Apply checks
// them and sets them on Options.
type Flags struct {
	Ports                                  []int
	DNSServer, Helo                        string
	NoMX, IPv4, IPv6                       bool
	Require                                []string
	RequireTLS, RequireMTASTS, RequireDANE bool
	CertDays                               int
	FailOn                                 string
	Ignore                                 []string
	Count, Parallel                        int
	GreetPause                             time.Duration
	ConnectTo                              []string
	CheckRelay, CheckVRFY, CheckInjection  bool
	CheckLegacyTLS, CheckTLS, CheckSize    bool
	RequireTLS13                           bool
	MTASTSCA                               string
	MTASTSPort                             int
}

// Apply checks the flags and sets them on o. tlsMax is --tls-max, which
// --require-tls13 must leave room for. Every error is a usage error.
func (f *Flags) Apply(o *Options, tlsMax string) error {
	o.Ports, o.NoMX, o.DNSServer, o.Helo = f.Ports, f.NoMX, f.DNSServer, f.Helo
	o.Require, o.RequireTLS, o.RequireMTASTS, o.RequireDANE = f.Require, f.RequireTLS, f.RequireMTASTS, f.RequireDANE
	o.CertDays, o.Ignore, o.Count, o.Parallel, o.GreetPause = f.CertDays, f.Ignore, f.Count, f.Parallel, f.GreetPause
	o.CheckRelay, o.CheckVRFY, o.CheckInjection = f.CheckRelay, f.CheckVRFY, f.CheckInjection
	o.CheckLegacyTLS, o.CheckSize, o.MTASTSPort = f.CheckLegacyTLS, f.CheckSize, f.MTASTSPort
	o.CheckTLS, o.RequireTLS13 = f.CheckTLS, f.RequireTLS13
	for _, v := range strings.Split(f.FailOn, ",") {
		switch v = strings.TrimSpace(v); {
		case v == "fail":
		case v == "warn":
			o.FailOnWarn = true
		case v == "" || !strings.Contains(v, "."):
			return usage("use --fail-on fail, --fail-on warn, or check ids such as --fail-on tls.legacy", "--fail-on %q is neither fail, warn nor a check id", v)
		default:
			o.FailOn = append(o.FailOn, v)
		}
	}
	if f.RequireTLS13 && (tlsMax == "1.0" || tlsMax == "1.1" || tlsMax == "1.2") {
		return usage("drop --tls-max, or --require-tls13", "--require-tls13 cannot be met with --tls-max %s", tlsMax)
	}
	switch {
	case f.IPv4 && f.IPv6:
		return usage("use one of -4 and -6, or neither for both", "-4 and -6 cannot be combined")
	case f.IPv4:
		o.Family = 4
	case f.IPv6:
		o.Family = 6
	}
	if f.Count < 1 {
		return usage("give --count from 1 to 1000", "--count %d is out of range", f.Count)
	}
	if f.Parallel < 1 {
		return usage("give --parallel from 1 to 64", "--parallel %d is out of range", f.Parallel)
	}
	if f.GreetPause <= 0 {
		return usage("give a positive duration such as 5s", "--greet-pause must be positive")
	}
	if f.MTASTSPort < 0 || f.MTASTSPort > 65535 {
		return usage("give a port from 1 to 65535", "--mta-sts-port %d is out of range", f.MTASTSPort)
	}
	for _, s := range f.ConnectTo {
		ct, err := ParseConnectTo(s)
		if err != nil {
			return usage("write --connect-to HOST1:PORT1:HOST2:PORT2, e.g. mx.example.com:25:127.0.0.1:2525", "--connect-to %v", err)
		}
		o.ConnectTo = append(o.ConnectTo, ct)
	}
	if f.MTASTSCA != "" {
		pem, err := tlsconf.ReadFile(f.MTASTSCA)
		if err != nil {
			return usage("check --mta-sts-ca", "--mta-sts-ca: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return usage("check --mta-sts-ca", "--mta-sts-ca: %s holds no PEM certificate", f.MTASTSCA)
		}
		o.MTASTSRoots = pool
	}
	return nil
}
