package cmd

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/help"
	"github.com/smtpx/smtpx/internal/probe"
	"github.com/smtpx/smtpx/internal/tlsconf"
)

type probeFlags struct {
	runF func(probe.Options) error
	conn connFlags
	p    probe.Flags
}

// newProbeCmd builds the probe verb; runF, when set, gets the options
// instead of running them.
func newProbeCmd(env *Env, runF func(probe.Options) error) *cobra.Command {
	f := &probeFlags{runF: runF}
	c := &cobra.Command{
		Use:   "probe [flags] DOMAIN | HOST:PORT",
		Short: "Inspect a mail server or a mail domain in depth, as a CI gate",
		Args:  atMostArgs(1, "smtpx probe [flags] TARGET"),
		RunE: func(cmd *cobra.Command, args []string) error {
			tgt := ""
			if len(args) == 1 {
				tgt = args[0]
			}
			return runProbe(cmd.Context(), env, f, tgt)
		},
	}
	env.lazyLong(c, func() string {
		return longHelp(help.Body("probe"), help.Examples("probe"),
			exitcode.Case{Code: exitcode.OK, When: "every gating check passed (warnings too, unless --fail-on warn)"},
			exitcode.Case{Code: exitcode.Check, When: "a check failed: --require, --cert-days, an expired certificate, MTA-STS or DANE broken, STARTTLS advertised but failing (when TLS is not required) or advertised again inside TLS, a failing --check-*, --require-tls13 without TLS 1.3; with --fail-on warn (or a check id), a warning"},
			exitcode.Case{Code: exitcode.Usage},
			exitcode.Case{Code: exitcode.Network, When: "DNS did not answer, a connection was refused or timed out, the server went silent"},
			exitcode.Case{Code: exitcode.Transient, When: "a 4xx greeting or EHLO"},
			exitcode.Case{Code: exitcode.Permanent, When: "a 5xx greeting or EHLO, a null MX, or a domain that does not exist"},
			exitcode.Case{Code: exitcode.TLS, When: "TLS was required (--require-tls, submission://, implicit TLS on 465 or --tls-on-connect) and STARTTLS was missing or refused, the handshake failed, the certificate did not verify, or DANE did not match"},
			exitcode.Case{Code: exitcode.Protocol, When: "the server broke the protocol (a malformed reply)"},
			exitcode.Case{Code: exitcode.Interrupted})
	})
	fs := c.Flags()
	fs.IntSliceVar(&f.p.Ports, "port", nil, "probe these `PORTS` on every address (e.g. 25,587,465; 465 is implicit TLS)")
	fs.StringVar(&f.p.DNSServer, "dns-server", "", "ask the DNS server at `ADDR` (host[:port]) instead of the system's")
	fs.StringVar(&f.p.Helo, "helo", "", "`NAME` to say in EHLO (default: this host's FQDN, else its address literal)")
	fs.BoolVar(&f.p.NoMX, "no-mx", false, "probe a name without a port as a host, not as a mail domain")
	fs.BoolVarP(&f.p.IPv4, "ipv4", "4", false, "probe IPv4 addresses only")
	fs.BoolVarP(&f.p.IPv6, "ipv6", "6", false, "probe IPv6 addresses only")
	fs.StringSliceVar(&f.p.Require, "require", nil, "fail unless these EHLO `EXTENSIONS` are advertised (e.g. STARTTLS,SMTPUTF8)")
	fs.BoolVar(&f.p.RequireTLS, "require-tls", false, "STARTTLS must be offered and the certificate verify; a TLS failure exits 6")
	fs.BoolVar(&f.p.RequireMTASTS, "require-mta-sts", false, "fail unless the domain has an MTA-STS policy in enforce mode that every MX satisfies")
	fs.BoolVar(&f.p.RequireDANE, "require-dane", false, "fail unless every MX has DNSSEC-validated TLSA records matching its certificate")
	fs.IntVar(&f.p.CertDays, "cert-days", 0, "fail when a certificate expires within `N` days (a warning under 30 regardless)")
	fs.StringVar(&f.p.FailOn, "fail-on", "fail", "what fails the probe, `LEVEL`: fail, warn, or check ids whose warnings fail too (e.g. tls.legacy)")
	fs.StringSliceVar(&f.p.Ignore, "ignore", nil, "report these check `IDS` but never gate on them (prefix.* allowed)")
	fs.IntVar(&f.p.Count, "count", 1, "repeat the dialogue `N` times and report min/median/max per phase")
	fs.IntVar(&f.p.Parallel, "parallel", 4, "probe up to `N` endpoints at once")
	fs.DurationVar(&f.p.GreetPause, "greet-pause", 5*time.Second, "flag a greeting slower than `DURATION` as a greet pause or tarpit")
	stringListVar(fs, &f.p.ConnectTo, "connect-to", "", nil, "probe `HOST1:PORT1:HOST2:PORT2`: connect to HOST2:PORT2 instead of HOST1:PORT1 (as curl)")
	fs.BoolVar(&f.p.CheckRelay, "check-relay", false, "opt-in: try RCPT for a foreign domain (never DATA; RSET between)")
	fs.BoolVar(&f.p.CheckVRFY, "check-vrfy", false, "opt-in: ask VRFY and EXPN about postmaster")
	fs.BoolVar(&f.p.CheckInjection, "check-injection", false, "opt-in: test STARTTLS command injection (CVE-2011-0411)")
	fs.BoolVar(&f.p.CheckLegacyTLS, "check-legacy-tls", false, "opt-in: test which TLS versions (1.0-1.3) are accepted, one handshake each")
	fs.BoolVar(&f.p.CheckTLS, "check-tls", false, "opt-in: test which TLS versions and TLS 1.0-1.2 cipher suites are accepted, one handshake each (about 25 connections)")
	fs.BoolVar(&f.p.RequireTLS13, "require-tls13", false, "fail unless the server accepts TLS 1.3")
	fs.BoolVar(&f.p.CheckSize, "check-size", false, "opt-in: test whether the advertised SIZE is enforced at MAIL")
	fs.StringVar(&f.p.MTASTSCA, "mta-sts-ca", "", "trust the CA certificates in `FILE` (PEM) for the MTA-STS policy server")
	fs.IntVar(&f.p.MTASTSPort, "mta-sts-port", 0, "port of the MTA-STS policy server (tests)")
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

// probeOptions turns the flags into probe options: probe checks its own
// flags, cmd the connection and TLS flags the verbs share.
func probeOptions(env *Env, f *probeFlags, tgt string) (probe.Options, error) {
	o := probe.Options{
		Target: tgt, Socket: f.conn.Socket, ImplicitTLS: f.conn.TLSOnConnect, LMTP: f.conn.LMTP,
		ConnectTimeout: env.G.ConnectTimeout, Timeout: env.G.Timeout, DNSTimeout: env.G.ConnectTimeout,
	}
	if err := checkHelo(f.p.Helo); err != nil {
		return o, err
	}
	if tgt == "" && f.conn.Socket == "" && f.conn.Transport.Pipe == "" {
		return o, exitcode.Usagef("smtpx probe DOMAIN or smtpx probe HOST[:PORT]", "probe needs a TARGET")
	}
	if err := f.p.Apply(&o, f.conn.TLS.Max); err != nil {
		return o, err
	}
	var err error
	if o.TLS, err = f.conn.TLSConfig(); err != nil {
		return o, err
	}
	d, err := f.conn.Dialer(env.IO.Getenv)
	if err != nil {
		return o, err
	}
	if d != nil {
		o.Dial = d.Dial
	}
	if d.Pipe() {
		if _, err := f.conn.PipeTLS(f.p.RequireTLS); err != nil {
			return o, err
		}
		o.Pipe = d.PipeLine()
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
	res := probe.Run(ctx, o)
	if res.Exit == exitcode.Usage {
		return res.Err
	}
	res.FillHints(Hint)
	if err := env.show(func() any { return res.ToJSON(Hint) }, func(w io.Writer) error {
		res.WriteHuman(w, probe.HumanOptions{Palette: env.palette(), Verbose: env.G.Verbose, TimeLapse: f.conn.TimeLapse})
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
	return f.conn.SavePeerCert(env.IO.Err, probeChain(res), runErr)
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
