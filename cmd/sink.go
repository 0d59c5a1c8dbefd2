package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/help"
	"github.com/smtpx/smtpx/internal/sink"
	"github.com/smtpx/smtpx/internal/transport"
)

func sinkDelayHelp() string {
	var b strings.Builder
	for _, d := range sink.DelayPoints {
		fmt.Fprintf(&b, "    %-8s %s\n", d.Name, d.What)
	}
	return b.String()
}

func newSinkCmd(env *Env) *cobra.Command {
	o := &sink.Flags{}
	c := &cobra.Command{
		Use:   "sink [flags]",
		Short: "Run a local SMTP server that stores (or fails) what it receives",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return exitcode.Usagef("sink takes no arguments; addresses go in --listen", "unexpected argument %q", args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("timeout") {
				o.Timeout = env.G.Timeout
			}
			o.ListenGiven = cmd.Flags().Changed("listen")
			return sinkRun(cmd.Context(), env, o)
		},
	}
	env.lazyLong(c, func() string {
		return longHelp(strings.Replace(help.Body("sink"), "{{delay points}}", sinkDelayHelp(), 1), help.Examples("sink"),
			exitcode.Case{Code: exitcode.OK, When: "it stopped as asked: --exit-after N reached, or --run-for, Ctrl-C or SIGTERM without --exit-after"},
			exitcode.Case{Code: exitcode.Check, When: "--exit-after N was not reached when --run-for passed or a signal came"},
			exitcode.Case{Code: exitcode.Usage, When: "a bad flag, an --auth-file others can write, or a --ready-file that cannot be written"},
			exitcode.Case{Code: exitcode.Network, When: "it cannot listen (the port is in use, the address is not local)"})
	})
	f := c.Flags()
	stringListVar(f, &o.Listen, "listen", "", []string{sink.DefaultListen}, "`ADDR` to listen on: HOST:PORT, unix:/path or /path (repeatable)")
	f.StringVar(&o.Hostname, "hostname", "localhost", "server `NAME` in the banner and EHLO reply")
	f.StringVar(&o.Dir, "dir", "", "store each message as `DIR`/<time>-<seq>.eml")
	f.StringVar(&o.Maildir, "maildir", "", "deliver each message into the Maildir `DIR`")
	f.BoolVar(&o.Received, "received", false, "add a Received: trace header field to each message (default: stored byte-exact)")
	f.BoolVar(&o.TLS, "tls", false, "offer STARTTLS")
	f.BoolVar(&o.TLSOnConnect, "tls-on-connect", false, "speak TLS from the first byte (implicit TLS, as on port 465)")
	f.StringVar(&o.Cert, "cert", "", "PEM certificate chain `FILE` (default: a self-signed certificate)")
	f.StringVar(&o.Key, "key", "", "PEM private key `FILE` for --cert")
	f.StringVar(&o.SaveCert, "save-cert", "", "write the self-signed certificate (PEM) to `FILE` for clients' --ca-file")
	stringListVar(f, &o.Auth, "auth", "", nil, "accept AUTH as `USER:PASS` (repeatable; prefer --auth-file or $SMTPX_SINK_AUTH)")
	f.StringVar(&o.AuthFile, "auth-file", "", "accept AUTH with the accounts in `FILE`, one USER:PASSWORD per line")
	f.BoolVar(&o.AuthAny, "auth-any", false, "accept AUTH with any user and password")
	f.BoolVar(&o.AllowInsecureAuth, "allow-insecure-auth", false, "offer AUTH on connections without TLS")
	f.BoolVar(&o.LMTP, "lmtp", false, "speak LMTP instead of SMTP")
	stringListVar(f, &o.RejectRcpt, "reject-rcpt", "", nil, "answer 550 5.1.1 to recipients matching `REGEX` (repeatable)")
	stringListVar(f, &o.TempfailRcpt, "tempfail-rcpt", "", nil, "answer 450 4.2.0 to recipients matching `REGEX` (repeatable)")
	f.BoolVar(&o.RejectData, "reject-data", false, "answer 554 5.7.1 to every message")
	f.BoolVar(&o.TempfailData, "tempfail-data", false, "answer 451 4.3.0 to every message")
	f.BoolVar(&o.Greylist, "greylist", false, "answer 450 4.7.1 to the first try of each sender/recipient/IP")
	f.StringVar(&o.MaxSize, "max-size", "64M", "largest message accepted in bytes, `SIZE` such as 10M; 0: no limit")
	f.IntVar(&o.MaxRcpts, "max-rcpts", sink.DefaultMaxRcpts, "most recipients per message, `N`")
	f.IntVar(&o.MaxConns, "max-conns", sink.DefaultMaxConns, "most connections at once, `N`; more are told 421")
	f.DurationVar(&o.IdleTimeout, "idle-timeout", sink.DefaultIdleTimeout, "close a connection silent for `DURATION`")
	stringListVar(f, &o.Delay, "delay", "", nil, "hold back a reply, `CMD:DURATION` such as rcpt:2s (repeatable)")
	f.IntVar(&o.ExitAfter, "exit-after", 0, "exit after `N` accepted messages")
	f.DurationVar(&o.RunFor, "run-for", 0, "exit after `DURATION` (0: run until stopped)")
	f.DurationVar(&o.Grace, "grace", sink.DefaultMessageGrace, "once stopping, how long a message in flight may still take, `DURATION`")
	f.StringVar(&o.ReadyFile, "ready-file", "", "write the listening addresses to `FILE` once ready")
	f.BoolVar(&o.Stdio, "stdio", false, "serve one client on stdin and stdout instead of listening (inetd, a client's --pipe)")
	for _, n := range []string{"dir", "maildir", "cert", "key", "save-cert", "ready-file", "auth-file"} {
		_ = c.MarkFlagFilename(n)
	}
	_ = c.RegisterFlagCompletionFunc("delay", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		var s []string
		for _, d := range sink.DelayPoints {
			s = append(s, d.Name+":")
		}
		return s, cobra.ShellCompDirectiveNoSpace | cobra.ShellCompDirectiveNoFileComp
	})
	return c
}

func sinkRun(ctx context.Context, env *Env, o *sink.Flags) error {
	so, warnings, err := o.Options(env.IO.Env)
	if err != nil {
		return err
	}
	for _, w := range warnings {
		fmt.Fprintf(env.IO.Err, "smtpx: warning: %s\n", w)
	}
	g := env.G
	pr := &sink.Printer{Verbose: g.Verbose, Summaries: !g.JSON, RunFlag: o.RunFlag, Grace: so.MessageGrace}
	var human io.Writer = env.IO.Out
	pr.Color = env.ColorOut()
	switch {
	case o.Stdio:
		// stdout carries the SMTP dialogue: everything else goes to stderr.
		human, pr.Color = env.IO.Err, env.ColorErr()
		if g.JSON {
			pr.JSON = env.IO.Err
		}
	case g.JSON:
		pr.JSON = env.IO.Out
		human = env.IO.Err
		pr.Color = env.ColorErr()
	}
	if !g.Quiet {
		pr.Human = human
	}
	so.Observer = pr
	so.Transcript = g.Verbose && !g.Quiet
	s, err := sink.New(so)
	if err != nil {
		return sink.Usage(err)
	}
	if o.Stdio {
		return sinkServe(ctx, o, so, s, func(ctx context.Context) sink.Result {
			return s.ServeConn(ctx, transport.Stdio(env.IO.In, env.IO.Out))
		})
	}
	if err := s.Listen(); err != nil {
		var oe *sink.OptionError
		if errors.As(err, &oe) {
			return sink.Usage(err)
		}
		hint := "pick another address with --listen; 127.0.0.1:0 lets the system pick a free port (--ready-file tells which)"
		if errors.Is(err, syscall.EADDRINUSE) {
			hint = "another server uses that port: stop it, or use --listen 127.0.0.1:0 for a free port (--ready-file tells which)"
		}
		return &exitcode.Error{Code: exitcode.Network, Msg: err.Error(), Hint: hint, Err: err}
	}
	return sinkServe(ctx, o, so, s, s.Serve)
}

// sinkServe runs serve until a stop, and checks --exit-after.
func sinkServe(ctx context.Context, o *sink.Flags, so sink.Options, s *sink.Sink, serve func(context.Context) sink.Result) error {
	// The run's context (see Main) ends at the first Ctrl-C or SIGTERM;
	// a second one ends the process at once.
	res := serve(ctx)
	if o.ExitAfter > 0 && res.Messages < o.ExitAfter {
		why := "interrupted"
		switch res.Reason {
		case sink.StopDeadline:
			why = fmt.Sprintf("%s %s passed", o.RunFlag, so.Deadline)
		case sink.StopClosed:
			why = "the client left"
		}
		hint := "check that the client sends to " + strings.Join(s.Addrs(), " or ") + " (-v shows every dialogue)"
		if o.Stdio {
			hint = "check that the client sends a message (-v shows the dialogue on stderr)"
		}
		return &exitcode.Error{
			Code: exitcode.Check,
			Msg:  fmt.Sprintf("%s with %d of %d messages received", why, res.Messages, o.ExitAfter),
			Hint: hint,
		}
	}
	return nil
}
