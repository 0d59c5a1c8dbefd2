package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/help"
	"github.com/smtpx/smtpx/internal/sink"
	"github.com/smtpx/smtpx/internal/transport"
)

// SinkOptions are the sink verb's flags, as given.
type SinkOptions struct {
	Listen            []string
	Hostname          string
	Dir               string
	Maildir           string
	Received          bool
	TLS               bool
	TLSOnConnect      bool
	Cert              string
	Key               string
	SaveCert          string
	Auth              []string
	AuthFile          string
	AuthAny           bool
	AllowInsecureAuth bool
	LMTP              bool
	RejectRcpt        []string
	TempfailRcpt      []string
	RejectData        bool
	TempfailData      bool
	Greylist          bool
	MaxSize           string
	MaxRcpts          int
	MaxConns          int
	Delay             []string
	ExitAfter         int
	ReadyFile         string
	RunFor            time.Duration
	Grace             time.Duration
	IdleTimeout       time.Duration
	// Stdio serves one client on stdin and stdout instead of listening.
	Stdio bool
	// listenGiven is set when --listen was on the command line.
	listenGiven bool
	// Timeout is the global --timeout when it was given explicitly: for
	// the sink, the older spelling of --run-for.
	Timeout time.Duration
	// runFlag is the flag that set the run time, for messages.
	runFlag string
}

func sinkDelayHelp() string {
	var b strings.Builder
	for _, d := range sink.DelayPoints {
		fmt.Fprintf(&b, "    %-8s %s\n", d.Name, d.What)
	}
	return b.String()
}

func newSinkCmd(env *Env) *cobra.Command {
	o := &SinkOptions{}
	c := &cobra.Command{
		Use:   "sink [flags]",
		Short: "Run a local SMTP server that stores (or fails) what it receives",
		Long: longHelp(strings.Replace(help.Body("sink"), "{{delay points}}", sinkDelayHelp(), 1), help.Examples("sink"),
			exitcode.Case{Code: exitcode.OK, When: "it stopped as asked: --exit-after N reached, or --run-for, Ctrl-C or SIGTERM without --exit-after"},
			exitcode.Case{Code: exitcode.Check, When: "--exit-after N was not reached when --run-for passed or a signal came"},
			exitcode.Case{Code: exitcode.Usage, When: "a bad flag, an --auth-file others can write, or a --ready-file that cannot be written"},
			exitcode.Case{Code: exitcode.Network, When: "it cannot listen (the port is in use, the address is not local)"}),
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
			o.listenGiven = cmd.Flags().Changed("listen")
			return sinkRun(cmd.Context(), env, o)
		},
	}
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

// sinkOptions turns the flags into sink.Options; every error is a usage
// error with a hint. getenv reads $SMTPX_SINK_AUTH; warnings are about
// how the accounts are kept.
func sinkOptions(o *SinkOptions, getenv func(string) string) (so sink.Options, warnings []string, err error) {
	so = sink.Options{
		Hostname:          o.Hostname,
		Dir:               o.Dir,
		Maildir:           o.Maildir,
		Received:          o.Received,
		TLS:               o.TLS,
		TLSOnConnect:      o.TLSOnConnect,
		CertFile:          o.Cert,
		KeyFile:           o.Key,
		SaveCert:          o.SaveCert,
		AuthAny:           o.AuthAny,
		AllowInsecureAuth: o.AllowInsecureAuth,
		LMTP:              o.LMTP,
		RejectData:        o.RejectData,
		TempfailData:      o.TempfailData,
		Greylist:          o.Greylist,
		ExitAfter:         o.ExitAfter,
		ReadyFile:         o.ReadyFile,
	}
	if o.Stdio && (o.listenGiven || o.ReadyFile != "") {
		return so, nil, exitcode.Usagef("drop --listen and --ready-file: with --stdio the client is on stdin and stdout",
			"--stdio cannot be combined with --listen or --ready-file")
	}
	for _, l := range o.Listen {
		a, err := sink.ParseListen(l)
		if err != nil {
			return so, nil, exitcode.Usagef("use HOST:PORT such as 127.0.0.1:2525, or unix:/path/to/socket", "%v", err)
		}
		so.Listen = append(so.Listen, a)
	}
	users := map[string]string{}
	for _, a := range o.Auth {
		u, p, err := sink.ParseAuth(a)
		if err != nil {
			return so, nil, exitcode.Usagef("give an account as --auth alice:secret", "%v", err)
		}
		users[u] = p
	}
	if o.AuthFile != "" {
		w, err := sink.LoadAccounts(o.AuthFile, users)
		if err != nil {
			return so, nil, optionUsage(err)
		}
		if w != "" {
			warnings = append(warnings, w)
		}
	}
	if v := getenv(sink.EnvAuth); v != "" {
		if err := sink.ParseAccounts(v, "$"+sink.EnvAuth, users); err != nil {
			return so, nil, exitcode.Usagef("set it to USER:PASSWORD, one account per line", "%v", err)
		}
	}
	if len(users) > 0 {
		so.Users = users
	}
	for _, l := range []struct {
		flag string
		in   []string
		out  *[]*regexp.Regexp
	}{{"--reject-rcpt", o.RejectRcpt, &so.RejectRcpt}, {"--tempfail-rcpt", o.TempfailRcpt, &so.TempfailRcpt}} {
		for _, s := range l.in {
			re, err := regexp.Compile(s)
			if err != nil {
				return so, nil, exitcode.Usagef("use a Go regular expression such as '^bounce@' or 'example\\.net$'", "%s %q: %v", l.flag, s, err)
			}
			*l.out = append(*l.out, re)
		}
	}
	n, err := sink.ParseSize(o.MaxSize)
	if err != nil {
		return so, nil, exitcode.Usagef("give bytes, optionally with K, M or G: --max-size 10M (0: no limit)", "--max-size: %v", err)
	}
	so.MaxSize = n
	if n == 0 {
		so.MaxSize = -1 // the sink's "no limit"
	}
	for _, l := range []struct {
		flag string
		n    int
		out  *int
	}{{"--max-rcpts", o.MaxRcpts, &so.MaxRcpts}, {"--max-conns", o.MaxConns, &so.MaxConns}} {
		if l.n < 1 {
			return so, nil, exitcode.Usagef("give a count of at least 1, such as "+l.flag+" 10", "%s must be at least 1", l.flag)
		}
		*l.out = l.n
	}
	for _, d := range o.Delay {
		name, dur, err := sink.ParseDelay(d)
		if err != nil {
			return so, nil, exitcode.Usagef("e.g. --delay rcpt:2s or --delay data:500ms", "%v", err)
		}
		if so.Delays == nil {
			so.Delays = map[string]time.Duration{}
		}
		so.Delays[name] = dur
	}
	if o.ExitAfter < 0 {
		return so, nil, exitcode.Usagef("give a count such as --exit-after 1", "--exit-after must not be negative")
	}
	o.runFlag = "--run-for"
	switch {
	case o.RunFor < 0:
		return so, nil, exitcode.Usagef("give a duration such as --run-for 60s (0: run until stopped)", "--run-for must not be negative")
	case o.Timeout > 0 && o.RunFor > 0:
		return so, nil, exitcode.Usagef("give the run time once, with --run-for", "--run-for and --timeout cannot be combined (for sink, --timeout is the older spelling of --run-for)")
	case o.Timeout > 0:
		so.Deadline, o.runFlag = o.Timeout, "--timeout"
	default:
		so.Deadline = o.RunFor
	}
	if o.Grace <= 0 {
		return so, nil, exitcode.Usagef("give a positive duration such as --grace 10s", "--grace must be positive")
	}
	so.MessageGrace = o.Grace
	so.Grace = min(sink.DefaultGrace, o.Grace)
	if o.IdleTimeout <= 0 {
		return so, nil, exitcode.Usagef("give a positive duration such as --idle-timeout 5m", "--idle-timeout must be positive")
	}
	so.IdleTimeout = o.IdleTimeout
	return so, warnings, nil
}

// optionUsage turns a *sink.OptionError into a usage error with its hint.
func optionUsage(err error) error {
	hint := "run 'smtpx sink --help' for the flags"
	var oe *sink.OptionError
	if errors.As(err, &oe) && oe.Hint != "" {
		hint = oe.Hint
	}
	return &exitcode.Error{Code: exitcode.Usage, Msg: err.Error(), Hint: hint, Err: err}
}

func sinkRun(ctx context.Context, env *Env, o *SinkOptions) error {
	so, warnings, err := sinkOptions(o, env.IO.Env)
	if err != nil {
		return err
	}
	for _, w := range warnings {
		fmt.Fprintf(env.IO.Err, "smtpx: warning: %s\n", w)
	}
	g := env.G
	pr := &sink.Printer{Verbose: g.Verbose, Summaries: !g.JSON, RunFlag: o.runFlag, Grace: so.MessageGrace}
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
		return optionUsage(err)
	}
	if o.Stdio {
		return sinkServe(ctx, o, so, s, func(ctx context.Context) sink.Result {
			return s.ServeConn(ctx, transport.Stdio(env.IO.In, env.IO.Out))
		})
	}
	if err := s.Listen(); err != nil {
		var oe *sink.OptionError
		if errors.As(err, &oe) {
			return optionUsage(err)
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
func sinkServe(ctx context.Context, o *SinkOptions, so sink.Options, s *sink.Sink, serve func(context.Context) sink.Result) error {
	if ctx == nil {
		ctx = context.Background()
	}
	// The run's context (see Main) ends at the first Ctrl-C or SIGTERM;
	// a second one ends the process at once.
	res := serve(ctx)
	if o.ExitAfter > 0 && res.Messages < o.ExitAfter {
		why := "interrupted"
		switch res.Reason {
		case sink.StopDeadline:
			why = fmt.Sprintf("%s %s passed", o.runFlag, so.Deadline)
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
