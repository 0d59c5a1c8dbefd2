package cmd

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/session"
	"github.com/smtpx/smtpx/internal/target"
	"github.com/smtpx/smtpx/internal/tlsconf"
	"github.com/smtpx/smtpx/internal/transcript"
	"github.com/smtpx/smtpx/internal/transport"
)

// connFlags are the connection flags the client verbs share.
type connFlags struct {
	tlsOnConnect bool
	socket       string
	lmtp         bool
	tls          tlsconf.Options
	transport    transport.Options
	timeLapse    bool
}

func (c *connFlags) register(cmd *cobra.Command, clientCert bool) {
	fs := cmd.Flags()
	fs.BoolVar(&c.tlsOnConnect, "tls-on-connect", false, "TLS from the first byte (implicit TLS, port 465)")
	fs.StringVar(&c.socket, "socket", "", "connect to a unix socket at `PATH` instead of TCP")
	fs.BoolVar(&c.lmtp, "lmtp", false, "speak LMTP (LHLO) instead of SMTP")
	c.registerTLS(cmd, clientCert)
	c.registerTransport(cmd)
	cmd.Flags().BoolVar(&c.timeLapse, "show-time-lapse", false, "end each reply in the transcript with how long it took (JSON events always carry wait_ms)")
	cmd.Flags().StringVar(&c.tls.PeerCertFile, "tls-get-peer-cert", "", "write the certificate chain the server sent to `FILE` (PEM), even one that fails verification")
	_ = cmd.MarkFlagFilename("tls-get-peer-cert")
	_ = cmd.MarkFlagFilename("socket")
}

func (c *connFlags) registerTransport(cmd *cobra.Command) {
	fs := cmd.Flags()
	t := &c.transport
	fs.StringVar(&t.Pipe, "pipe", "", "speak SMTP with `COMMAND`'s stdin and stdout instead of a server (split like a shell, run without one)")
	fs.StringVar(&t.LocalAddress, "local-address", "", "connect from `ADDR` (ADDR, ADDR:PORT, [IPv6]:PORT or :PORT)")
	fs.StringVar(&t.Proxy, "proxy", "", "connect through the SOCKS5 proxy at `URL`: socks5://[USER:PASS@]HOST[:PORT], socks5h:// to resolve names there")
	fs.BoolVar(&t.ProxyFromEnv, "proxy-from-env", false, "take the SOCKS5 proxy from $ALL_PROXY, honouring $NO_PROXY")
	fs.StringVar(&t.ProxyProtocol, "proxy-protocol", "", "send a HAProxy PROXY protocol header first, `VERSION` v1 or v2")
	fs.StringVar(&t.ProxySource, "proxy-source", "", "client `ADDR:PORT` the PROXY header announces (default: this end of the connection)")
	fs.StringVar(&t.ProxyDest, "proxy-dest", "", "server `ADDR:PORT` the PROXY header announces (default: the server's end)")
	_ = cmd.MarkFlagFilename("pipe")
	_ = cmd.RegisterFlagCompletionFunc("proxy-protocol", cobra.FixedCompletions([]string{"v1", "v2"}, cobra.ShellCompDirectiveNoFileComp))
}

func (c *connFlags) registerTLS(cmd *cobra.Command, clientCert bool) {
	fs := cmd.Flags()
	fs.BoolVarP(&c.tls.Insecure, "insecure", "k", false, "do not verify the server's certificate")
	fs.StringVar(&c.tls.CAFile, "ca-file", "", "trust the CA certificates in `FILE` (PEM) instead of the system's")
	fs.StringVar(&c.tls.SNI, "tls-sni", "", "server `NAME` to send in SNI and verify (default: the host)")
	fs.StringVar(&c.tls.Min, "tls-min", "", "minimum TLS `VERSION`: 1.0, 1.1, 1.2 (default) or 1.3")
	fs.StringVar(&c.tls.Max, "tls-max", "", "maximum TLS `VERSION`: 1.0, 1.1, 1.2 or 1.3 (default)")
	fs.StringVar(&c.tls.Ciphers, "tls-ciphers", "", "offer only these TLS 1.0-1.2 cipher `SUITES`, IANA names, comma-separated (TLS 1.3 suites are fixed)")
	if clientCert {
		fs.StringVar(&c.tls.CertFile, "cert", "", "client certificate `FILE` (PEM)")
		fs.StringVar(&c.tls.KeyFile, "key", "", "client certificate key `FILE` (PEM)")
		_ = cmd.MarkFlagFilename("cert")
		_ = cmd.MarkFlagFilename("key")
	}
	_ = cmd.MarkFlagFilename("ca-file")
	versions := cobra.FixedCompletions([]string{"1.0", "1.1", "1.2", "1.3"}, cobra.ShellCompDirectiveNoFileComp)
	_ = cmd.RegisterFlagCompletionFunc("tls-min", versions)
	_ = cmd.RegisterFlagCompletionFunc("tls-max", versions)
	_ = cmd.RegisterFlagCompletionFunc("tls-ciphers", cobra.FixedCompletions(tlsconf.SuiteNames(), cobra.ShellCompDirectiveNoFileComp))
}

// sessionOptions resolves the target and TLS flags into session options.
// defPort applies when the target names none.
func (c *connFlags) sessionOptions(env *Env, tgt string, defPort int) (session.Options, target.Target, error) {
	var t target.Target
	var err error
	switch {
	case c.transport.Pipe != "":
		if tgt != "" || c.socket != "" {
			return session.Options{}, t, exitcode.Usagef("give one of a target, --socket and --pipe", "--pipe was given with a target or --socket")
		}
		t = target.Target{Network: transport.Network}
	case c.socket != "":
		if tgt != "" {
			return session.Options{}, t, exitcode.Usagef("give either a target or --socket", "a target and --socket were both given")
		}
		t = target.Target{Network: "unix", Path: c.socket}
	default:
		t, err = target.Parse(tgt, defPort)
		if err != nil {
			return session.Options{}, t, exitcode.Usagef("write the target as host, host:port or [ipv6]:port", "%v", err)
		}
	}
	if c.tlsOnConnect {
		t.TLS = target.TLSImplicit
		if !t.PortGiven && t.Network == "tcp" && defPort == 25 {
			t.Port = 465
		}
	}
	cfg, err := c.tls.Build()
	if err != nil {
		var te *tlsconf.Error
		if errors.As(err, &te) {
			return session.Options{}, t, exitcode.Usagef("check "+te.Flag, "%v", err)
		}
		return session.Options{}, t, exitcode.Usagef("check the TLS flags", "%v", err)
	}
	so := session.Options{
		Network:        t.Network,
		Address:        t.Address(),
		ImplicitTLS:    t.TLS == target.TLSImplicit,
		TLSConfig:      cfg,
		LMTP:           c.lmtp || t.LMTP,
		ConnectTimeout: env.G.ConnectTimeout,
		Timeout:        env.G.Timeout,
	}
	if c.tls.Insecure {
		so.TLSVerdict = func(*tls.ConnectionState) string { return insecureVerdict }
	}
	to := c.transport
	to.Getenv, to.Socket = env.IO.Getenv, c.socket != ""
	d, err := transport.New(to)
	if err != nil {
		return session.Options{}, t, err
	}
	if d != nil {
		so.Dial = d.Dial
	}
	if d.Pipe() {
		so.Address = d.PipeLine()
	}
	return so, t, nil
}

// pipeTLS checks TLS over --pipe, where no host name says what the
// server's certificate must be for: TLS the user asks for needs --tls-sni
// or --insecure. It reports whether TLS can be verified (or is not
// verified on purpose).
func (c *connFlags) pipeTLS(required bool) (bool, error) {
	if c.transport.Pipe == "" || c.tls.SNI != "" || c.tls.Insecure {
		return true, nil
	}
	if required || c.tlsOnConnect {
		return false, exitcode.Usagef("name the certificate to expect with --tls-sni NAME, or skip verification with --insecure",
			"TLS over --pipe has no server name to verify the certificate against")
	}
	return false, nil
}

// savePeerCert writes the chain the server sent for --tls-get-peer-cert,
// once the dialogue is over, and returns runErr, how the dialogue ended.
// A chain that cannot be written fails a run that otherwise succeeded.
func (c *connFlags) savePeerCert(env *Env, chain []*x509.Certificate, runErr error) error {
	path := c.tls.PeerCertFile
	if path == "" {
		return runErr
	}
	if len(chain) == 0 {
		fmt.Fprintf(env.IO.Err, "smtpx: warning: --tls-get-peer-cert: no certificate was received (no TLS handshake); %s not written\n", path)
		return runErr
	}
	if err := tlsconf.WriteChain(path, chain); err != nil {
		werr := &exitcode.Error{Code: exitcode.Usage, Msg: "--tls-get-peer-cert: " + err.Error(), Hint: "give a file in a directory you can write to", Err: err}
		if runErr == nil {
			return werr
		}
		fmt.Fprintf(env.IO.Err, "smtpx: warning: %v\n", werr)
	}
	return runErr
}

// insecureVerdict is the TLS line's verdict under --insecure: the line
// names the flag that switched verification off.
const insecureVerdict = session.NotVerified + " (--insecure)"

// observer returns the observer for a dialogue: a live transcript on stdout
// unless --json or -q, always recording for JSON.
func (e *Env) observer(rec *transcript.Recorder, showAuth bool) session.Observer {
	return e.observerWith(rec, transcript.Options{ShowAuth: showAuth})
}

// observerWith is observer with the transcript's options (its colour is
// stdout's).
func (e *Env) observerWith(rec *transcript.Recorder, o transcript.Options) session.Observer {
	if e.G.JSON || e.G.Quiet {
		return rec.Observe
	}
	o.Color = e.ColorOut()
	h := transcript.NewHuman(e.IO.Out, o)
	return transcript.Tee(rec.Observe, h.Event)
}

// checkHelo refuses an EHLO name that would not be one word on the wire:
// the one check of --helo for every client verb.
func checkHelo(name string) error {
	if strings.ContainsAny(name, "\r\n \t") {
		return exitcode.Usagef("give a single host name or address literal to --helo", "--helo must not contain spaces or line breaks")
	}
	return nil
}

// show writes a verb's result on stdout: as JSON with --json, else for a
// person unless -q.
func (e *Env) show(toJSON func() any, human func(w io.Writer) error) error {
	switch {
	case e.G.JSON:
		return e.printJSON(toJSON())
	case !e.G.Quiet:
		return human(e.IO.Out)
	}
	return nil
}

// printJSON writes v as one line of JSON on stdout.
func (e *Env) printJSON(v any) error {
	return transcript.WriteJSON(e.IO.Out, v)
}

// longHelp appends the EXIT STATUS and EXAMPLES sections every verb's help
// ends with: the statuses the verb can return (exits), from the one table.
func longHelp(body, examples string, exits ...exitcode.Case) string {
	return body + "\n\n" + exitcode.HelpSection(exits...) + "\nEXAMPLES\n" + examples
}
