package cmd

import (
	"crypto/tls"
	"errors"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/session"
	"github.com/smtpx/smtpx/internal/target"
	"github.com/smtpx/smtpx/internal/tlsconf"
	"github.com/smtpx/smtpx/internal/transcript"
)

// connFlags are the connection flags the client verbs share.
type connFlags struct {
	tlsOnConnect bool
	socket       string
	lmtp         bool
	tls          tlsconf.Options
}

func (c *connFlags) register(cmd *cobra.Command, clientCert bool) {
	fs := cmd.Flags()
	fs.BoolVar(&c.tlsOnConnect, "tls-on-connect", false, "TLS from the first byte (implicit TLS, port 465)")
	fs.StringVar(&c.socket, "socket", "", "connect to a unix socket at `PATH` instead of TCP")
	fs.BoolVar(&c.lmtp, "lmtp", false, "speak LMTP (LHLO) instead of SMTP")
	c.registerTLS(cmd, clientCert)
	_ = cmd.MarkFlagFilename("socket")
}

func (c *connFlags) registerTLS(cmd *cobra.Command, clientCert bool) {
	fs := cmd.Flags()
	fs.BoolVarP(&c.tls.Insecure, "insecure", "k", false, "do not verify the server's certificate")
	fs.StringVar(&c.tls.CAFile, "ca-file", "", "trust the CA certificates in `FILE` (PEM) instead of the system's")
	fs.StringVar(&c.tls.SNI, "tls-sni", "", "server `NAME` to send in SNI and verify (default: the host)")
	fs.StringVar(&c.tls.Min, "tls-min", "", "minimum TLS `VERSION`: 1.0, 1.1, 1.2 (default) or 1.3")
	if clientCert {
		fs.StringVar(&c.tls.CertFile, "cert", "", "client certificate `FILE` (PEM)")
		fs.StringVar(&c.tls.KeyFile, "key", "", "client certificate key `FILE` (PEM)")
		_ = cmd.MarkFlagFilename("cert")
		_ = cmd.MarkFlagFilename("key")
	}
	_ = cmd.MarkFlagFilename("ca-file")
	_ = cmd.RegisterFlagCompletionFunc("tls-min", cobra.FixedCompletions([]string{"1.0", "1.1", "1.2", "1.3"}, cobra.ShellCompDirectiveNoFileComp))
}

// sessionOptions resolves the target and TLS flags into session options.
// defPort applies when the target names none.
func (c *connFlags) sessionOptions(env *Env, tgt string, defPort int) (session.Options, target.Target, error) {
	var t target.Target
	var err error
	if c.socket != "" {
		if tgt != "" {
			return session.Options{}, t, exitcode.Usagef("give either a target or --socket", "a target and --socket were both given")
		}
		t = target.Target{Network: "unix", Path: c.socket}
	} else {
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
	return so, t, nil
}

// insecureVerdict is the TLS line's verdict under --insecure: the line
// names the flag that switched verification off.
const insecureVerdict = session.NotVerified + " (--insecure)"

// human returns the transcript renderer for stdout.
func (e *Env) human(showAuth bool) *transcript.Human {
	return transcript.NewHuman(e.IO.Out, transcript.Options{Color: e.ColorOut(), ShowAuth: showAuth})
}

// observer returns the observer for a dialogue: a live transcript on stdout
// unless --json or -q, always recording for JSON.
func (e *Env) observer(rec *transcript.Recorder, showAuth bool) session.Observer {
	if e.G.JSON || e.G.Quiet {
		return rec.Observe
	}
	h := e.human(showAuth)
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
