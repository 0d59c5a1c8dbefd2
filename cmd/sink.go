package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/sink"
)

// SinkOptions are the sink verb's flags, as given.
type SinkOptions struct {
	Listen            []string
	Hostname          string
	Dir               string
	Maildir           string
	TLS               bool
	TLSOnConnect      bool
	Cert              string
	Key               string
	SaveCert          string
	Auth              []string
	AuthAny           bool
	AllowInsecureAuth bool
	LMTP              bool
	RejectRcpt        []string
	TempfailRcpt      []string
	RejectData        bool
	TempfailData      bool
	Greylist          bool
	MaxSize           string
	Delay             []string
	ExitAfter         int
	ReadyFile         string
	// Deadline is the global --timeout when it was given explicitly.
	Deadline time.Duration
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
		Long: longHelp(`Run a local SMTP server for tests, demos and CI: the other half of "send
test mail from a script". It prints a line per connection and a summary
per message, stores every message byte-exact, and can fail on purpose to
test a client's error handling.

It listens on 127.0.0.1:2525; --listen (repeatable) takes HOST:PORT
(127.0.0.1:0 for a port the system picks), [::1]:PORT, or a unix socket as
unix:/path or /path. --ready-file FILE is written once the sink listens,
atomically, with the bound addresses one per line (the port picked for :0
included), and removed at exit: a script waits for it, then reads where to
send. The server is emersion/go-smtp; it advertises PIPELINING, 8BITMIME,
ENHANCEDSTATUSCODES, CHUNKING (BDAT), BINARYMIME, SMTPUTF8, DSN and SIZE,
and names itself --hostname (localhost) in the banner and EHLO reply.
--lmtp speaks LMTP (RFC 2033) instead: LHLO, one reply per recipient after
DATA.

OUTPUT AND STORAGE
  -q prints nothing but errors. --json prints one JSON Lines record per
  accepted message on stdout (envelope, headers, attachments, size,
  sha256, path; the fields are in the JSON OUTPUT section of smtpx-sink(1)
  and in docs/json.md), the human lines going to stderr. -v prints each
  connection's dialogue from the sink's side: "<-  " what the client sent
  (commands, then up to 40 lines of each message), " -> " the sink's
  replies, "~" instead of "-" inside TLS, [N] the connection. AUTH payloads
  show as ********, and everything a client sent is escaped before it
  reaches the terminal, the summaries too.

  What is stored is exactly what the client sent after DATA (dot-stuffing
  undone) or in its BDAT chunks: no Received: header is added, line ends
  and 8-bit bytes are untouched. --dir DIR stores each message as
  DIR/<UTC time>-<seq>.eml (20261128T014004.593261Z-000001.eml); --maildir
  DIR delivers into a Maildir (tmp/, then new/). Each file is written under
  a temporary name (DIR/.smtpx-sink-*.tmp, hidden from *.eml) and linked
  into place, so a reader never sees half a message and two sinks sharing
  a directory never overwrite each other; files are mode 0600. Without
  --dir or --maildir nothing is kept, but the summary and the JSON record
  are still made. DATA lines may be up to 64 KiB (RFC 5321 allows 1000;
  longer gets 554 5.6.0 and the connection is closed); BDAT chunks may hold
  any bytes.

TLS AND AUTH
  --tls offers STARTTLS, --tls-on-connect speaks TLS from the first byte.
  The certificate is --cert/--key, or a self-signed ECDSA one made at start
  for localhost, 127.0.0.1, ::1, the host name and the --listen host; its
  fingerprint is printed, and --save-cert FILE writes it (PEM) so a client
  can trust it: smtpx send --ca-file FILE, swaks --tls-verify --tls-ca-path
  FILE. --auth USER:PASS (repeatable) or --auth-any (any user and password)
  offers AUTH PLAIN and LOGIN, and then requires it before MAIL (530
  5.7.0); a wrong password gets 535 5.7.8. AUTH is offered only inside TLS
  (523 5.7.10 to an AUTH before STARTTLS) unless --allow-insecure-auth;
  asking for AUTH without --tls, --tls-on-connect or --allow-insecure-auth
  is a usage error, since it could never be offered.

SCRIPTED FAILURES
  Each refusal names the flag that caused it ("550 5.1.1 <addr>: Recipient
  address rejected (smtpx sink --reject-rcpt)"), so a client's log shows it
  was intended. Refused transactions are printed too ("[3] RCPT
  TO:<bounce@example.com> refused: 550 5.1.1 (--reject-rcpt)"), and never
  stored or counted for --exit-after.
  --reject-rcpt REGEX     RCPT TO matching REGEX: 550 5.1.1 (repeatable)
  --tempfail-rcpt REGEX   RCPT TO matching REGEX: 450 4.2.0 (repeatable)
  --greylist              the first RCPT of each sender/recipient/client IP
                          gets 450 4.7.1; a retry passes at once (the point
                          is to test that a client retries, not to wait)
  --reject-data           every message, once received: 554 5.7.1
  --tempfail-data         every message, once received: 451 4.3.0
  --max-size SIZE         advertise SIZE (10M, 512K, 1000000); a larger
                          MAIL SIZE= or message gets 552 5.3.4
  --delay CMD:DURATION    hold back a reply (repeatable); CMD is one of
`+sinkDelayHelp()+`  Regular expressions are Go syntax, matched against the address without
  angle brackets; use ^ and $ to match all of it.

STOPPING
  --exit-after N stops after N accepted messages; the global --timeout,
  when given, is the longest the sink runs. They, Ctrl-C and SIGTERM all
  shut down the same way: no new connections, every message in flight
  (MAIL accepted, message not yet answered) finishes and is stored, the
  other connections get 5 seconds to say QUIT and are then told 421 4.3.2
  and closed. A second Ctrl-C quits at once.`,
			`  # Catch one message in ./out, then exit 0
  smtpx sink --exit-after 1 --dir out

  # In CI: start the sink on a free port, wait until it listens, run the app
  rm -f ready
  smtpx sink --listen 127.0.0.1:0 --exit-after 1 --timeout 60s --dir out --ready-file ready &
  until [ -s ready ] || ! kill -0 $! 2>/dev/null; do sleep 0.1; done
  ./app-under-test --smtp "$(cat ready)"
  wait $!

  # STARTTLS with AUTH, certificate saved for the client to trust
  smtpx sink --tls --save-cert sink.pem --auth alice:secret -v

  # Test a client's error handling
  smtpx sink --reject-rcpt '^bounce@' --greylist --delay data:5s
`,
			exitcode.Case{Code: exitcode.OK, When: "it stopped as asked: --exit-after N reached, or --timeout, Ctrl-C or SIGTERM without --exit-after"},
			exitcode.Case{Code: exitcode.Check, When: "--exit-after N was not reached when --timeout passed or a signal came"},
			exitcode.Case{Code: exitcode.Usage, When: "a bad flag, or a --ready-file that cannot be written"},
			exitcode.Case{Code: exitcode.Network, When: "it cannot listen (the port is in use, the address is not local)"}),
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return exitcode.Usagef("sink takes no arguments; addresses go in --listen", "unexpected argument %q", args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("timeout") {
				o.Deadline = env.G.Timeout
			}
			return sinkRun(cmd.Context(), env, o)
		},
	}
	f := c.Flags()
	stringListVar(f, &o.Listen, "listen", "", []string{sink.DefaultListen}, "`ADDR` to listen on: HOST:PORT, unix:/path or /path (repeatable)")
	f.StringVar(&o.Hostname, "hostname", "localhost", "server `NAME` in the banner and EHLO reply")
	f.StringVar(&o.Dir, "dir", "", "store each message as `DIR`/<time>-<seq>.eml")
	f.StringVar(&o.Maildir, "maildir", "", "deliver each message into the Maildir `DIR`")
	f.BoolVar(&o.TLS, "tls", false, "offer STARTTLS")
	f.BoolVar(&o.TLSOnConnect, "tls-on-connect", false, "speak TLS from the first byte (implicit TLS, as on port 465)")
	f.StringVar(&o.Cert, "cert", "", "PEM certificate chain `FILE` (default: a self-signed certificate)")
	f.StringVar(&o.Key, "key", "", "PEM private key `FILE` for --cert")
	f.StringVar(&o.SaveCert, "save-cert", "", "write the self-signed certificate (PEM) to `FILE` for clients' --ca-file")
	stringListVar(f, &o.Auth, "auth", "", nil, "accept AUTH as `USER:PASS` (repeatable)")
	f.BoolVar(&o.AuthAny, "auth-any", false, "accept AUTH with any user and password")
	f.BoolVar(&o.AllowInsecureAuth, "allow-insecure-auth", false, "offer AUTH on connections without TLS")
	f.BoolVar(&o.LMTP, "lmtp", false, "speak LMTP instead of SMTP")
	stringListVar(f, &o.RejectRcpt, "reject-rcpt", "", nil, "answer 550 5.1.1 to recipients matching `REGEX` (repeatable)")
	stringListVar(f, &o.TempfailRcpt, "tempfail-rcpt", "", nil, "answer 450 4.2.0 to recipients matching `REGEX` (repeatable)")
	f.BoolVar(&o.RejectData, "reject-data", false, "answer 554 5.7.1 to every message")
	f.BoolVar(&o.TempfailData, "tempfail-data", false, "answer 451 4.3.0 to every message")
	f.BoolVar(&o.Greylist, "greylist", false, "answer 450 4.7.1 to the first try of each sender/recipient/IP")
	f.StringVar(&o.MaxSize, "max-size", "", "largest message accepted in bytes, `SIZE` such as 10M (default: no limit)")
	stringListVar(f, &o.Delay, "delay", "", nil, "hold back a reply, `CMD:DURATION` such as rcpt:2s (repeatable)")
	f.IntVar(&o.ExitAfter, "exit-after", 0, "exit after `N` accepted messages")
	f.StringVar(&o.ReadyFile, "ready-file", "", "write the listening addresses to `FILE` once ready")
	for _, n := range []string{"dir", "maildir", "cert", "key", "save-cert", "ready-file"} {
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
// error with a hint.
func sinkOptions(o *SinkOptions) (sink.Options, error) {
	so := sink.Options{
		Hostname:          o.Hostname,
		Dir:               o.Dir,
		Maildir:           o.Maildir,
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
		Deadline:          o.Deadline,
		ReadyFile:         o.ReadyFile,
	}
	for _, l := range o.Listen {
		a, err := sink.ParseListen(l)
		if err != nil {
			return so, exitcode.Usagef("use HOST:PORT such as 127.0.0.1:2525, or unix:/path/to/socket", "%v", err)
		}
		so.Listen = append(so.Listen, a)
	}
	if len(o.Auth) > 0 {
		so.Users = map[string]string{}
	}
	for _, a := range o.Auth {
		u, p, err := sink.ParseAuth(a)
		if err != nil {
			return so, exitcode.Usagef("give an account as --auth alice:secret", "%v", err)
		}
		so.Users[u] = p
	}
	for _, l := range []struct {
		flag string
		in   []string
		out  *[]*regexp.Regexp
	}{{"--reject-rcpt", o.RejectRcpt, &so.RejectRcpt}, {"--tempfail-rcpt", o.TempfailRcpt, &so.TempfailRcpt}} {
		for _, s := range l.in {
			re, err := regexp.Compile(s)
			if err != nil {
				return so, exitcode.Usagef("use a Go regular expression such as '^bounce@' or 'example\\.net$'", "%s %q: %v", l.flag, s, err)
			}
			*l.out = append(*l.out, re)
		}
	}
	if o.MaxSize != "" {
		n, err := sink.ParseSize(o.MaxSize)
		if err != nil {
			return so, exitcode.Usagef("give bytes, optionally with K, M or G: --max-size 10M", "--max-size: %v", err)
		}
		so.MaxSize = n
	}
	for _, d := range o.Delay {
		name, dur, err := sink.ParseDelay(d)
		if err != nil {
			return so, exitcode.Usagef("e.g. --delay rcpt:2s or --delay data:500ms", "%v", err)
		}
		if so.Delays == nil {
			so.Delays = map[string]time.Duration{}
		}
		so.Delays[name] = dur
	}
	if o.ExitAfter < 0 {
		return so, exitcode.Usagef("give a count such as --exit-after 1", "--exit-after must not be negative")
	}
	return so, nil
}

// sinkHint explains how to fix an option combination sink.New refused.
func sinkHint(msg string) string {
	switch {
	case strings.Contains(msg, "--auth without TLS"):
		return "add --tls or --tls-on-connect, or --allow-insecure-auth to offer AUTH in plaintext"
	case strings.Contains(msg, "--cert/--key"):
		return "give a PEM certificate and its matching private key, or leave both out for a self-signed one"
	case strings.Contains(msg, "--cert needs") || strings.Contains(msg, "--save-cert needs"):
		return "add --tls (STARTTLS) or --tls-on-connect"
	case strings.Contains(msg, "--dir") || strings.Contains(msg, "--maildir") || strings.Contains(msg, "--save-cert:"):
		return "check that the path can be created and written"
	}
	return "run 'smtpx sink --help' for the flags"
}

func sinkRun(ctx context.Context, env *Env, o *SinkOptions) error {
	so, err := sinkOptions(o)
	if err != nil {
		return err
	}
	g := env.G
	pr := &sink.Printer{Verbose: g.Verbose, Summaries: !g.JSON}
	var human io.Writer = env.IO.Out
	pr.Color = env.ColorOut()
	if g.JSON {
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
		return exitcode.Usagef(sinkHint(err.Error()), "%v", err)
	}
	if err := s.Listen(); err != nil {
		hint := "pick another address with --listen, e.g. --listen 127.0.0.1:2526"
		if errors.Is(err, syscall.EADDRINUSE) {
			hint = "another server uses that port: stop it or pick another with --listen 127.0.0.1:2526"
		} else if strings.Contains(err.Error(), "--ready-file") {
			return exitcode.Usagef("check that the --ready-file directory exists and is writable", "%v", err)
		}
		return &exitcode.Error{Code: exitcode.Network, Msg: err.Error(), Hint: hint, Err: err}
	}
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		// After the first signal, restore the default handling so a
		// second one ends the process at once.
		<-ctx.Done()
		stop()
	}()
	res := s.Serve(ctx)
	if o.ExitAfter > 0 && res.Messages < o.ExitAfter {
		why := "interrupted"
		if res.Reason == sink.StopDeadline {
			why = fmt.Sprintf("--timeout %s passed", o.Deadline)
		}
		return &exitcode.Error{
			Code: exitcode.Check,
			Msg:  fmt.Sprintf("%s with %d of %d messages received", why, res.Messages, o.ExitAfter),
			Hint: "check that the client sends to " + strings.Join(s.Addrs(), " or ") + " (-v shows every dialogue)",
		}
	}
	return nil
}
