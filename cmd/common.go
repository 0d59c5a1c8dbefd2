package cmd

import (
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/smtpx/smtpx/internal/connect"
	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/session"
	"github.com/smtpx/smtpx/internal/tlsconf"
	"github.com/smtpx/smtpx/internal/transcript"
)

// connFlags are the connection flags the client verbs share; connect
// turns them into session options.
type connFlags struct{ connect.Settings }

func (c *connFlags) register(cmd *cobra.Command, clientCert bool) {
	fs := cmd.Flags()
	fs.BoolVar(&c.TLSOnConnect, "tls-on-connect", false, "TLS from the first byte (implicit TLS, port 465)")
	fs.StringVar(&c.Socket, "socket", "", "connect to a unix socket at `PATH` instead of TCP")
	fs.BoolVar(&c.LMTP, "lmtp", false, "speak LMTP (LHLO) instead of SMTP")
	c.registerTLS(cmd, clientCert)
	c.registerTransport(cmd)
	fs.BoolVar(&c.TimeLapse, "show-time-lapse", false, "end each reply in the transcript with how long it took (JSON events always carry wait_ms)")
	fs.StringVar(&c.TLS.PeerCertFile, "tls-get-peer-cert", "", "write the certificate chain the server sent to `FILE` (PEM), even one that fails verification")
	_ = cmd.MarkFlagFilename("tls-get-peer-cert")
	_ = cmd.MarkFlagFilename("socket")
}

func (c *connFlags) registerTransport(cmd *cobra.Command) {
	fs := cmd.Flags()
	t := &c.Transport
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
	fs.BoolVarP(&c.TLS.Insecure, "insecure", "k", false, "do not verify the server's certificate")
	fs.StringVar(&c.TLS.CAFile, "ca-file", "", "trust the CA certificates in `FILE` (PEM) instead of the system's")
	fs.StringVar(&c.TLS.SNI, "tls-sni", "", "server `NAME` to send in SNI and verify (default: the host)")
	fs.StringVar(&c.TLS.Min, "tls-min", "", "minimum TLS `VERSION`: 1.0, 1.1, 1.2 (default) or 1.3")
	fs.StringVar(&c.TLS.Max, "tls-max", "", "maximum TLS `VERSION`: 1.0, 1.1, 1.2 or 1.3 (default)")
	fs.StringVar(&c.TLS.Ciphers, "tls-ciphers", "", "offer only these TLS 1.0-1.2 cipher `SUITES`, IANA names, comma-separated (TLS 1.3 suites are fixed)")
	if clientCert {
		fs.StringVar(&c.TLS.CertFile, "cert", "", "client certificate `FILE` (PEM)")
		fs.StringVar(&c.TLS.KeyFile, "key", "", "client certificate key `FILE` (PEM)")
		_ = cmd.MarkFlagFilename("cert")
		_ = cmd.MarkFlagFilename("key")
	}
	_ = cmd.MarkFlagFilename("ca-file")
	versions := cobra.FixedCompletions([]string{"1.0", "1.1", "1.2", "1.3"}, cobra.ShellCompDirectiveNoFileComp)
	_ = cmd.RegisterFlagCompletionFunc("tls-min", versions)
	_ = cmd.RegisterFlagCompletionFunc("tls-max", versions)
	_ = cmd.RegisterFlagCompletionFunc("tls-ciphers", cobra.FixedCompletions(tlsconf.SuiteNames(), cobra.ShellCompDirectiveNoFileComp))
}

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
