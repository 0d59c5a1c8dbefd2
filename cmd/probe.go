package cmd

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/probe"
	"github.com/smtpx/smtpx/internal/tlsconf"
	"github.com/smtpx/smtpx/internal/transport"
)

type probeFlags struct {
	runF          func(probe.Options) error
	conn          connFlags
	ports         []int
	dnsServer     string
	helo          string
	noMX          bool
	ipv4, ipv6    bool
	require       []string
	requireTLS    bool
	requireMTASTS bool
	requireDANE   bool
	certDays      int
	failOn        string
	ignore        []string
	count         int
	parallel      int
	greetPause    time.Duration
	connectTo     []string
	checkRelay    bool
	checkVRFY     bool
	checkInject   bool
	checkLegacy   bool
	checkTLS      bool
	requireTLS13  bool
	checkSize     bool
	mtaSTSCA      string
	mtaSTSPort    int
}

// newProbeCmd builds the probe verb; runF, when set, gets the options
// instead of running them.
func newProbeCmd(env *Env, runF func(probe.Options) error) *cobra.Command {
	f := &probeFlags{runF: runF}
	c := &cobra.Command{
		Use:   "probe [flags] DOMAIN | HOST:PORT",
		Short: "Inspect a mail server or a mail domain in depth, as a CI gate",
		Long: longHelp(`Probe a mail server the way posttls-finger, testssl.sh, CheckTLS and
MxToolbox do together, and exit with a status a CI job can gate on. The
probe is read-only: it never sends DATA.

TARGETS
  A name without a port (example.com) is a mail domain: its MX hosts by
  preference (the implicit MX when there is none; a null MX is reported,
  not probed), and the domain's MTA-STS, TLS-RPT, SPF and DMARC records.
  HOST:PORT, [IPv6]:PORT, an address, smtp:// smtps:// submission://
  lmtp:// unix:// URLs or --socket PATH are one host; --no-mx makes a name
  without a port a host too. Every address of every host is probed, IPv4
  and IPv6 separately (-4, -6: one family), on every --port (25,587,465;
  465 is implicit TLS, RFC 8314), --parallel endpoints at a time; the
  report keeps the order MX preference, host, address, port.

WHAT IT REPORTS
  Per endpoint: the connect time; the time to the greeting (slower than
  --greet-pause is flagged as a greet pause or tarpit); the banner (a 4xx
  or 5xx greeting is a failure); the EHLO inventory (every keyword with its
  parameters, SIZE in bytes and MiB); STARTTLS or implicit TLS (version,
  cipher, key exchange group, handshake time); the certificate chain as
  sent (subject, issuer, names, validity and days left, key, signature,
  fingerprint) and its verification for the MX host name against the
  system roots or --ca-file; OCSP stapling; EHLO after TLS and what
  changed; where AUTH is offered; reverse DNS (forward-confirmed, compared
  with the banner and EHLO names); and DANE: TLSA records for
  _PORT._tcp.HOST asked with the DNSSEC OK bit, used only when the resolver
  set the AD bit, each matched against the chain (DANE-EE and DANE-TA).
  --count N repeats the dialogue: min/median/max per phase, and whether
  later connections resume the TLS session. --connect-to H1:P1:H2:P2 probes
  H1:P1 (its name, certificate and DNS) over a connection to H2:P2, as curl
  does, e.g. a staging address.

  Each check is PASS, WARN, FAIL or INFO (a fact without a verdict), with a
  stable id (CHECK IDS below) and its evidence; everything a server or DNS
  sent is escaped. -v adds each endpoint's transcript and lists the
  extensions not advertised one by one; -q prints only the error. The first
  check behind the exit status is printed as "smtpx: error: ENDPOINT:
  CHECK-ID: summary" with a hint.

  A self-signed certificate on an MX is a warning, not a failure: senders
  using opportunistic STARTTLS still encrypt. It fails on a submission port
  (587, 465), where mail clients verify, and exits 6 when TLS is required.

  The MTA-STS policy is fetched from https://mta-sts.DOMAIN/.well-known/
  mta-sts.txt as RFC 8461 §3.3 asks: the certificate must be valid for that
  name (--mta-sts-ca adds CAs for it), redirects are not followed, only a
  200 text/plain answer of at most 64 KiB counts, and the name is resolved
  through --dns-server like everything else (no HTTP proxy is used).
  --dns-server asks one resolver for MX, A/AAAA, TXT, TLSA and PTR; DANE
  needs a validating one. Reverse DNS and TLSA lookups for loopback
  addresses are skipped unless --dns-server names a resolver.

GATES
  --require EXT,...   each extension is advertised, before or after TLS
                      (require.KEYWORD; exit 1)
  --require-tls       STARTTLS is offered, the handshake succeeds, the
                      certificate verifies and the version meets --tls-min
                      (exit 6 otherwise)
  --tls-min VERSION   the least version accepted (default 1.2); the probe
                      still offers 1.0 to 1.3 to see what the server picks
  --cert-days N       a certificate expiring within N days fails (exit 1);
                      under 30 days is always a warning, expired or not yet
                      valid always a failure
  --require-mta-sts   a valid MTA-STS policy in enforce mode, every MX
                      matching it with a valid certificate (mail domains)
  --require-dane      every MX has DNSSEC-validated TLSA records that match
                      its certificate
  --fail-on warn      warnings fail too (default: --fail-on fail)
  --fail-on ID,...    these checks' warnings fail too (tls.legacy,
                      tls.ciphers; prefix.* allowed)
  --require-tls13     TLS 1.3 is accepted (needs a TLS handshake)
  --ignore ID,...     report these checks, but never gate on them;
                      tls.cert.* matches a family
  With several endpoints the most severe failure sets the exit status
  (7 > 6 > 5 > 4 > 3 > 1 > 0).

OPT-IN CHECKS
  Each sends more than EHLO and STARTTLS, so each needs its flag; none
  sends DATA.
  --check-size        MAIL FROM:<> SIZE=limit+1, then RSET: is the
                      advertised SIZE enforced at MAIL?
  --check-vrfy        VRFY and EXPN postmaster: a 250 means the server
                      confirms addresses
  --check-relay       MAIL/RCPT to smtpx-probe@example.net from a foreign, a
                      null and a local sender, RSET between: an accepted
                      RCPT is a sign of an open relay, not proof
  --check-injection   a second connection sends STARTTLS and RSET in one
                      packet: a server that answers the RSET inside TLS kept
                      plaintext across the handshake (CVE-2011-0411)
  --check-legacy-tls  extra connections, one per TLS version 1.0 to 1.3:
                      which the server accepts (1.0 and 1.1 should not be,
                      RFC 8996)
  --check-tls         those, and one connection per TLS 1.0-1.2 cipher suite
                      Go can offer, as testssl.sh -t smtp reports them; weak
                      suites and TLS 1.0/1.1 warn (4 + 22 connections)

CHECK IDS
  dns.mx              domain    MX hosts by preference; the implicit MX; a
                                null MX (RFC 7505)
  dns.mx.addresses    domain    every MX host has an address
  mta_sts.record      domain    the _mta-sts TXT record (RFC 8461 §3.1)
  mta_sts.policy      domain    the HTTPS policy: fetched, parsed, its mode
                                and max_age (RFC 8461 §3.2, §3.3)
  mta_sts.mx          domain    every MX matches a policy pattern and presents
                                a valid certificate (RFC 8461 §4)
  tls_rpt.record      domain    the _smtp._tls TXT record (RFC 8460 §3)
  spf.record          domain    the SPF record is present and parses (RFC
                                7208)
  dmarc.record        domain    the DMARC record is present and parses (RFC
                                7489)
  dns.host            target    the target host name resolves (HOST:PORT
                                targets)
  probe.limit         target    more endpoints than the probe talks to (64);
                                the first ones by MX preference are probed
  connect             endpoint  TCP connection and its time
  banner              endpoint  the greeting: 220, or a 4xx/5xx refusal
  banner.delay        endpoint  time to the greeting; a greet pause or tarpit
  ehlo                endpoint  EHLO accepted (HELO fallback is a warning)
  ehlo.extensions     endpoint  every keyword the server advertised, with
                                parameters
  ehlo.KEYWORD        endpoint  one check per notable extension:
                                ehlo.pipelining, ehlo.size, ehlo.8bitmime,
                                ehlo.smtputf8, ehlo.chunking, ehlo.binarymime,
                                ehlo.dsn, ehlo.enhancedstatuscodes, ehlo.auth,
                                ehlo.requiretls, ehlo.deliverby,
                                ehlo.mt_priority, ehlo.limits
  auth.tls            endpoint  AUTH only after TLS; PLAIN/LOGIN in clear text
                                on a submission port (RFC 8314)
  tls.starttls        endpoint  STARTTLS offered and accepted (RFC 3207), or
                                implicit TLS
  tls.handshake       endpoint  the TLS handshake and its time
  tls.version         endpoint  the negotiated TLS version against --tls-min
  tls.cipher          endpoint  the cipher suite
  tls.group           endpoint  the key exchange group
  tls.cert.chain      endpoint  the certificates as sent: subject, issuer,
                                SANs, validity, key, signature
  tls.cert.verify     endpoint  the chain verifies for the host name against
                                the system roots or --ca-file
  tls.cert.expiry     endpoint  days until the certificate expires
                                (--cert-days; a warning under 30)
  tls.ocsp            endpoint  an OCSP response was stapled
  ehlo.tls            endpoint  EHLO after TLS
  ehlo.tls.diff       endpoint  what TLS changed in the extension list
  tls.starttls.again  endpoint  STARTTLS is not advertised again inside TLS
                                (RFC 3207 §4.2)
  require.KEYWORD     endpoint  an extension named by --require is advertised
  dns.ptr             endpoint  reverse DNS of the address, forward-confirmed,
                                against the banner and EHLO names
  dane.tlsa           endpoint  TLSA records for _PORT._tcp.HOST and their
                                DNSSEC status (RFC 7672)
  dane.match          endpoint  a usable TLSA record matches the presented
                                chain
  size.enforced       endpoint  --check-size: MAIL with SIZE over the
                                advertised limit is refused
  vrfy.disclosure     endpoint  --check-vrfy: VRFY does not confirm users
  expn.disclosure     endpoint  --check-vrfy: EXPN does not expand lists
  relay.foreign_rcpt  endpoint  --check-relay: RCPT for a foreign domain is
                                refused
  tls.injection       endpoint  --check-injection: commands sent before the
                                handshake are not executed inside TLS
  tls.legacy.1_0      endpoint  --check-legacy-tls: TLS 1.0 is refused (RFC
                                8996)
  tls.legacy.1_1      endpoint  --check-legacy-tls: TLS 1.1 is refused (RFC
                                8996)
  tls.versions        endpoint  --check-tls, --check-legacy-tls: the TLS
                                versions (1.0-1.3) the server accepts
  tls.tls13           endpoint  --check-tls, --require-tls13: TLS 1.3 is
                                accepted (RFC 8446)
  tls.ciphers         endpoint  --check-tls: each TLS 1.0-1.2 cipher suite Go
                                can offer, accepted or not; weak ones warn
  tls.resumption      endpoint  a later connection resumes the TLS session
                                (--count 2 or more)
  timing              endpoint  min/median/max per phase over --count
                                dialogues

--json prints one object; its fields are in the JSON OUTPUT section of
smtpx-probe(1) and in docs/json.md.`,
			`  smtpx probe example.com
  smtpx probe mx.example.com:25 --require STARTTLS,SMTPUTF8 --cert-days 14
  smtpx probe --port 25,587,465 mail.example.com --no-mx
  smtpx probe --require-tls --require-mta-sts --fail-on warn example.com
  smtpx probe --json example.com | jq '.endpoints[].checks[] | select(.status=="fail")'
  smtpx probe --count 10 127.0.0.1:2525
  smtpx probe --check-relay --check-vrfy --check-injection mx.example.com:25
  smtpx probe --check-tls --require-tls13 --fail-on tls.legacy,tls.ciphers mx.example.com:25
`,
			exitcode.Case{Code: exitcode.OK, When: "every gating check passed (warnings too, unless --fail-on warn)"},
			exitcode.Case{Code: exitcode.Check, When: "a check failed: --require, --cert-days, an expired certificate, MTA-STS or DANE broken, STARTTLS advertised but failing (when TLS is not required) or advertised again inside TLS, a failing --check-*, --require-tls13 without TLS 1.3; with --fail-on warn (or a check id), a warning"},
			exitcode.Case{Code: exitcode.Usage},
			exitcode.Case{Code: exitcode.Network, When: "DNS did not answer, a connection was refused or timed out, the server went silent"},
			exitcode.Case{Code: exitcode.Transient, When: "a 4xx greeting or EHLO"},
			exitcode.Case{Code: exitcode.Permanent, When: "a 5xx greeting or EHLO, a null MX, or a domain that does not exist"},
			exitcode.Case{Code: exitcode.TLS, When: "TLS was required (--require-tls, submission://, implicit TLS on 465 or --tls-on-connect) and STARTTLS was missing or refused, the handshake failed, the certificate did not verify, or DANE did not match"},
			exitcode.Case{Code: exitcode.Protocol, When: "the server broke the protocol (a malformed reply)"},
			exitcode.Case{Code: exitcode.Interrupted}),
		Args: atMostArgs(1, "smtpx probe [flags] TARGET"),
		RunE: func(cmd *cobra.Command, args []string) error {
			tgt := ""
			if len(args) == 1 {
				tgt = args[0]
			}
			return runProbe(cmd.Context(), env, f, tgt)
		},
	}
	fs := c.Flags()
	fs.IntSliceVar(&f.ports, "port", nil, "probe these `PORTS` on every address (e.g. 25,587,465; 465 is implicit TLS)")
	fs.StringVar(&f.dnsServer, "dns-server", "", "ask the DNS server at `ADDR` (host[:port]) instead of the system's")
	fs.StringVar(&f.helo, "helo", "", "`NAME` to say in EHLO (default: this host's FQDN, else its address literal)")
	fs.BoolVar(&f.noMX, "no-mx", false, "probe a name without a port as a host, not as a mail domain")
	fs.BoolVarP(&f.ipv4, "ipv4", "4", false, "probe IPv4 addresses only")
	fs.BoolVarP(&f.ipv6, "ipv6", "6", false, "probe IPv6 addresses only")
	fs.StringSliceVar(&f.require, "require", nil, "fail unless these EHLO `EXTENSIONS` are advertised (e.g. STARTTLS,SMTPUTF8)")
	fs.BoolVar(&f.requireTLS, "require-tls", false, "STARTTLS must be offered and the certificate verify; a TLS failure exits 6")
	fs.BoolVar(&f.requireMTASTS, "require-mta-sts", false, "fail unless the domain has an MTA-STS policy in enforce mode that every MX satisfies")
	fs.BoolVar(&f.requireDANE, "require-dane", false, "fail unless every MX has DNSSEC-validated TLSA records matching its certificate")
	fs.IntVar(&f.certDays, "cert-days", 0, "fail when a certificate expires within `N` days (a warning under 30 regardless)")
	fs.StringVar(&f.failOn, "fail-on", "fail", "what fails the probe, `LEVEL`: fail, warn, or check ids whose warnings fail too (e.g. tls.legacy)")
	fs.StringSliceVar(&f.ignore, "ignore", nil, "report these check `IDS` but never gate on them (prefix.* allowed)")
	fs.IntVar(&f.count, "count", 1, "repeat the dialogue `N` times and report min/median/max per phase")
	fs.IntVar(&f.parallel, "parallel", 4, "probe up to `N` endpoints at once")
	fs.DurationVar(&f.greetPause, "greet-pause", 5*time.Second, "flag a greeting slower than `DURATION` as a greet pause or tarpit")
	stringListVar(fs, &f.connectTo, "connect-to", "", nil, "probe `HOST1:PORT1:HOST2:PORT2`: connect to HOST2:PORT2 instead of HOST1:PORT1 (as curl)")
	fs.BoolVar(&f.checkRelay, "check-relay", false, "opt-in: try RCPT for a foreign domain (never DATA; RSET between)")
	fs.BoolVar(&f.checkVRFY, "check-vrfy", false, "opt-in: ask VRFY and EXPN about postmaster")
	fs.BoolVar(&f.checkInject, "check-injection", false, "opt-in: test STARTTLS command injection (CVE-2011-0411)")
	fs.BoolVar(&f.checkLegacy, "check-legacy-tls", false, "opt-in: test which TLS versions (1.0-1.3) are accepted, one handshake each")
	fs.BoolVar(&f.checkTLS, "check-tls", false, "opt-in: test which TLS versions and TLS 1.0-1.2 cipher suites are accepted, one handshake each (about 25 connections)")
	fs.BoolVar(&f.requireTLS13, "require-tls13", false, "fail unless the server accepts TLS 1.3")
	fs.BoolVar(&f.checkSize, "check-size", false, "opt-in: test whether the advertised SIZE is enforced at MAIL")
	fs.StringVar(&f.mtaSTSCA, "mta-sts-ca", "", "trust the CA certificates in `FILE` (PEM) for the MTA-STS policy server")
	fs.IntVar(&f.mtaSTSPort, "mta-sts-port", 0, "port of the MTA-STS policy server (tests)")
	_ = fs.MarkHidden("mta-sts-port")
	f.conn.register(c, true)
	_ = c.MarkFlagFilename("mta-sts-ca")
	_ = c.RegisterFlagCompletionFunc("fail-on", cobra.FixedCompletions([]string{"fail", "warn"}, cobra.ShellCompDirectiveNoFileComp))
	_ = c.RegisterFlagCompletionFunc("require", cobra.FixedCompletions(append([]string{"STARTTLS", "AUTH"}, probe.Keywords...), cobra.ShellCompDirectiveNoFileComp))
	_ = c.RegisterFlagCompletionFunc("ignore", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		var ids []string
		for _, x := range probe.IDs {
			if strings.HasSuffix(x.ID, ".") {
				ids = append(ids, x.ID+"*")
				continue
			}
			ids = append(ids, x.ID+"\t"+x.About)
		}
		return ids, cobra.ShellCompDirectiveNoFileComp
	})
	return c
}

// probeOptions turns the flags into probe options.
func probeOptions(env *Env, f *probeFlags, tgt string) (probe.Options, error) {
	o := probe.Options{
		Target: tgt, Socket: f.conn.socket, Ports: f.ports, NoMX: f.noMX, DNSServer: f.dnsServer,
		ImplicitTLS: f.conn.tlsOnConnect, LMTP: f.conn.lmtp, Helo: f.helo,
		ConnectTimeout: env.G.ConnectTimeout, Timeout: env.G.Timeout, DNSTimeout: env.G.ConnectTimeout,
		Require: f.require, RequireTLS: f.requireTLS, RequireMTASTS: f.requireMTASTS, RequireDANE: f.requireDANE,
		CertDays: f.certDays, Ignore: f.ignore, Count: f.count, Parallel: f.parallel, GreetPause: f.greetPause,
		CheckRelay: f.checkRelay, CheckVRFY: f.checkVRFY, CheckInjection: f.checkInject,
		CheckLegacyTLS: f.checkLegacy, CheckSize: f.checkSize, MTASTSPort: f.mtaSTSPort,
		CheckTLS: f.checkTLS, RequireTLS13: f.requireTLS13,
	}
	if err := checkHelo(f.helo); err != nil {
		return o, err
	}
	if tgt == "" && f.conn.socket == "" && f.conn.transport.Pipe == "" {
		return o, exitcode.Usagef("smtpx probe DOMAIN or smtpx probe HOST[:PORT]", "probe needs a TARGET")
	}
	for _, v := range strings.Split(f.failOn, ",") {
		switch v = strings.TrimSpace(v); {
		case v == "fail":
		case v == "warn":
			o.FailOnWarn = true
		case v == "" || !strings.Contains(v, "."):
			return o, exitcode.Usagef("use --fail-on fail, --fail-on warn, or check ids such as --fail-on tls.legacy", "--fail-on %q is neither fail, warn nor a check id", v)
		default:
			o.FailOn = append(o.FailOn, v)
		}
	}
	if f.requireTLS13 && (f.conn.tls.Max == "1.0" || f.conn.tls.Max == "1.1" || f.conn.tls.Max == "1.2") {
		return o, exitcode.Usagef("drop --tls-max, or --require-tls13", "--require-tls13 cannot be met with --tls-max %s", f.conn.tls.Max)
	}
	switch {
	case f.ipv4 && f.ipv6:
		return o, exitcode.Usagef("use one of -4 and -6, or neither for both", "-4 and -6 cannot be combined")
	case f.ipv4:
		o.Family = 4
	case f.ipv6:
		o.Family = 6
	}
	if f.count < 1 {
		return o, exitcode.Usagef("give --count from 1 to 1000", "--count %d is out of range", f.count)
	}
	if f.parallel < 1 {
		return o, exitcode.Usagef("give --parallel from 1 to 64", "--parallel %d is out of range", f.parallel)
	}
	if f.greetPause <= 0 {
		return o, exitcode.Usagef("give a positive duration such as 5s", "--greet-pause must be positive")
	}
	if f.mtaSTSPort < 0 || f.mtaSTSPort > 65535 {
		return o, exitcode.Usagef("give a port from 1 to 65535", "--mta-sts-port %d is out of range", f.mtaSTSPort)
	}
	for _, s := range f.connectTo {
		ct, err := probe.ParseConnectTo(s)
		if err != nil {
			return o, exitcode.Usagef("write --connect-to HOST1:PORT1:HOST2:PORT2, e.g. mx.example.com:25:127.0.0.1:2525", "--connect-to %v", err)
		}
		o.ConnectTo = append(o.ConnectTo, ct)
	}
	cfg, err := f.conn.tls.Build()
	if err != nil {
		var te *tlsconf.Error
		if errors.As(err, &te) {
			return o, exitcode.Usagef("check "+te.Flag, "%v", err)
		}
		return o, exitcode.Usagef("check the TLS flags", "%v", err)
	}
	o.TLS = cfg
	to := f.conn.transport
	to.Getenv, to.Socket = env.IO.Getenv, f.conn.socket != ""
	d, err := transport.New(to)
	if err != nil {
		return o, err
	}
	if d != nil {
		o.Dial = d.Dial
	}
	if d.Pipe() {
		if _, err := f.conn.pipeTLS(f.requireTLS); err != nil {
			return o, err
		}
		o.Pipe = d.PipeLine()
	}
	if f.mtaSTSCA != "" {
		pem, err := tlsconf.ReadFile(f.mtaSTSCA)
		if err != nil {
			return o, exitcode.Usagef("check --mta-sts-ca", "--mta-sts-ca: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return o, exitcode.Usagef("check --mta-sts-ca", "--mta-sts-ca: %s holds no PEM certificate", f.mtaSTSCA)
		}
		o.MTASTSRoots = pool
	}
	return o, nil
}

func runProbe(ctx context.Context, env *Env, f *probeFlags, tgt string) error {
	o, err := probeOptions(env, f, tgt)
	if err != nil {
		return err
	}
	if f.runF != nil {
		return f.runF(o)
	}
	if ctx == nil {
		ctx = context.Background()
	}
	res := probe.Run(ctx, o)
	if res.Exit == exitcode.Usage {
		return res.Err
	}
	res.FillHints(Hint)
	if err := env.show(func() any { return res.ToJSON(Hint) }, func(w io.Writer) error {
		res.WriteHuman(w, probe.HumanOptions{Palette: env.palette(), Verbose: env.G.Verbose, TimeLapse: f.conn.timeLapse})
		return nil
	}); err != nil {
		return err
	}
	var runErr error
	switch {
	case res.Err == nil && res.Exit != 0:
		runErr = exitcode.Silent(res.Exit)
	case res.Err != nil:
		runErr = fmt.Errorf("%w", res.Err)
	}
	return f.conn.savePeerCert(env, probeChain(res), runErr)
}

// probeChain is what --tls-get-peer-cert saves from a probe: the chain the
// first endpoint with TLS sent.
func probeChain(res *probe.Result) []*x509.Certificate {
	for _, ep := range res.Endpoints {
		if c := tlsconf.PeerChain(ep.TLS, ep.Err); c != nil {
			return c
		}
	}
	return nil
}
