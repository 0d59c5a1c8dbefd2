package cmd

import (
	"context"
	"io"
	"slices"

	"github.com/spf13/cobra"

	"github.com/smtpx/smtpx/internal/ehlo"
	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/help"
	"github.com/smtpx/smtpx/internal/tlsconf"
	"github.com/smtpx/smtpx/internal/transcript"
)

type ehloFlags struct {
	conn      connFlags
	helo      string
	tls       bool
	quitAfter string
	runF      func(ehlo.Options) error
}

// newEhloCmd builds the ehlo verb; runF, when set, gets the options
// instead of running them.
func newEhloCmd(env *Env, runF func(ehlo.Options) error) *cobra.Command {
	f := &ehloFlags{runF: runF}
	c := &cobra.Command{
		Use:   "ehlo [flags] TARGET",
		Short: "Connect, say EHLO and list the server's extensions",
		Args:  atMostArgs(1, "smtpx ehlo [flags] TARGET"),
		RunE: func(cmd *cobra.Command, args []string) error {
			tgt := ""
			if len(args) == 1 {
				tgt = args[0]
			} else if f.conn.Socket == "" && f.conn.Transport.Pipe == "" {
				return exitcode.Usagef("smtpx ehlo HOST[:PORT]", "ehlo needs a TARGET")
			}
			return runEhlo(cmd.Context(), env, f, tgt)
		},
	}
	env.lazyLong(c, func() string {
		return longHelp(help.Body("ehlo"), help.Examples("ehlo"),
			exitcode.Case{Code: exitcode.OK, When: "the server accepted EHLO or HELO (and, with --tls, STARTTLS and the EHLO after it), or --quit-after was reached"},
			exitcode.Case{Code: exitcode.Usage},
			exitcode.Case{Code: exitcode.Network},
			exitcode.Case{Code: exitcode.Transient, When: "a 4xx banner, EHLO/HELO or STARTTLS reply"},
			exitcode.Case{Code: exitcode.Permanent, When: "a 5xx banner or EHLO/HELO reply"},
			exitcode.Case{Code: exitcode.TLS, When: "with --tls, STARTTLS not offered or refused; the handshake or certificate verification failed"},
			exitcode.Case{Code: exitcode.Protocol},
			exitcode.Case{Code: exitcode.Interrupted})
	})
	fs := c.Flags()
	fs.StringVar(&f.helo, "helo", "", "`NAME` to say in EHLO (default: this host's FQDN, else its address literal)")
	fs.BoolVar(&f.tls, "tls", false, "require STARTTLS, then EHLO again and compare")
	fs.StringVar(&f.quitAfter, "quit-after", "", "stop after `POINT`: banner, ehlo or tls")
	f.conn.register(c, true)
	_ = c.RegisterFlagCompletionFunc("quit-after", cobra.FixedCompletions(ehlo.StopPoints, cobra.ShellCompDirectiveNoFileComp))
	return c
}

func runEhlo(ctx context.Context, env *Env, f *ehloFlags, tgt string) error {
	if f.quitAfter != "" && !slices.Contains(ehlo.StopPoints, f.quitAfter) {
		return exitcode.Usagef("use --quit-after banner, ehlo or tls", "--quit-after %q is not a stop point", f.quitAfter)
	}
	if err := checkHelo(f.helo); err != nil {
		return err
	}
	so, _, err := f.conn.Session(tgt, 25, env.G.ConnectTimeout, env.G.Timeout, env.IO.Getenv)
	if err != nil {
		return err
	}
	if f.tls && so.ImplicitTLS {
		return exitcode.Usagef("use one of --tls (STARTTLS) and --tls-on-connect", "--tls and --tls-on-connect cannot be combined")
	}
	if _, err := f.conn.PipeTLS(f.tls || f.quitAfter == ehlo.StopTLS); err != nil {
		return err
	}
	rec := &transcript.Recorder{}
	so.Observer = env.observerWith(rec, transcript.Options{TimeLapse: f.conn.TimeLapse})
	o := ehlo.Options{
		Session:   so,
		Helo:      f.helo,
		StartTLS:  f.tls || (f.quitAfter == ehlo.StopTLS && !so.ImplicitTLS),
		QuitAfter: f.quitAfter,
	}
	if f.runF != nil {
		return f.runF(o)
	}
	res := ehlo.Run(ctx, o)
	if err := env.show(func() any { return res.ToJSON(rec.Events, Hint(res.Err)) },
		func(w io.Writer) error { res.WriteHuman(w); return nil }); err != nil {
		return err
	}
	return f.conn.SavePeerCert(env.IO.Err, tlsconf.PeerChain(res.TLS, res.Err), res.Err)
}
