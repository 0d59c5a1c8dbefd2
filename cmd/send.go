package cmd

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	xterm "golang.org/x/term"

	"github.com/smtpx/smtpx/internal/auth"
	"github.com/smtpx/smtpx/internal/config"
	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/message"
	"github.com/smtpx/smtpx/internal/route"
	"github.com/smtpx/smtpx/internal/send"
	"github.com/smtpx/smtpx/internal/session"
	"github.com/smtpx/smtpx/internal/target"
	"github.com/smtpx/smtpx/internal/transcript"
)

// sendFlags are the send verb's flags, as given.
type sendFlags struct {
	conn       connFlags
	server     string
	port       int
	dnsServer  string
	to, cc     []string
	bcc        []string
	from       string
	helo       string
	tls, noTLS bool

	authMech          string
	user              string
	passwordFile      string
	passwordEnv       string
	password          string
	tokenFile         string
	tokenEnv          string
	allowInsecureAuth bool
	showAuth          bool

	msg      messageFlags
	dumpMail bool
	load     loadFlags

	cfg             configFlags
	passwordCommand string            // a profile's password_command
	origin          map[string]string // flag -> where config took its value from
	runF            func(*sendPlan) error

	notify, ret, envid string
	orcpt              bool
	requireTLS         bool
	mailParams         []string
	rcptParams         []string

	quitAfter    string
	pipeline     string
	chunking     string
	allowPartial bool
}

// newSendCmd builds the send verb. runF, when set, gets the plan instead
// of running it (tests of argv -> options).
func newSendCmd(env *Env, runF func(*sendPlan) error) *cobra.Command {
	f := &sendFlags{runF: runF}
	c := &cobra.Command{
		Use:   "send [flags]",
		Short: "Send a test message, or any message, and report each reply",
		Long: longHelp(`Send a message and show the whole dialogue. Without --server, the
recipients' domains are routed by DNS (MX by preference, the implicit MX,
null MX refused). STARTTLS is used when offered and its certificate is
verified; AUTH is never sent in clear text to a non-loopback server.
Credentials go only to the server named by --server, $SMTPX_SERVER or the
profile that holds them: a send routed by DNS never authenticates (--user
or --auth without --server is a usage error; the environment's and a
profile's credentials are ignored there, with a warning).

With several recipients the transcript and JSON give each one's reply and
status: accepted, retry (a 4xx or a lost connection) or failed (a 5xx), and
a partial delivery ends with one line saying who got the message. The exit
status is 0 only when every recipient and the message were accepted,
otherwise that of the worst failure, a 5xx outranking a 4xx whatever the
order (--allow-partial: 0 when at least one recipient got the message).
After a partial delivery, send again only to the recipients marked retry,
so that no one gets the message twice (the last example).`,
			`  smtpx send --server 127.0.0.1:2525 --to you@example.com
  smtpx send --server submission://mail.example.com --auth --user me@example.com \
      --password-file ~/.smtp-pass --to you@example.com --subject "hello"
  smtpx send --server 127.0.0.1:2525 --to a@example.com --data @message.eml
  smtpx send --to you@example.com --body @report.txt --attach @report.pdf
  smtpx send --dump-mail --to you@example.com --html '<b>hi</b>'
  smtpx send --json --server mx.example.com --to a@example.com,b@example.com |
      jq -r '.recipients[] | select(.status == "retry") | .address'
`),
		Args: func(cmd *cobra.Command, args []string) error {
			if f.load.merge {
				if len(args) == 0 {
					return exitcode.Usagef("smtpx send --merge a.json b.json ...", "--merge needs the result FILEs")
				}
				return nil
			}
			// swaks takes the mechanism as the next word: --auth PLAIN.
			if len(args) > 0 && f.authMech == "auto" && cmd.Flags().Changed("auth") && auth.Supported(args[0]) {
				f.authMech, args = strings.ToUpper(args[0]), args[1:]
			}
			if len(args) > 0 {
				return exitcode.Usagef("send takes only flags; see 'smtpx send --help'", "unexpected argument %q", args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.load.merge {
				return runMerge(env, cmd, args)
			}
			if err := applySendConfig(env, cmd, f); err != nil {
				return err
			}
			return runSend(cmd.Context(), env, f)
		},
	}
	fs := c.Flags()
	fs.StringVarP(&f.server, "server", "s", "", "server: host[:port], [v6]:port, smtp://, smtps://, submission://, lmtp:// or unix:///path (default: route by DNS)")
	fs.IntVar(&f.port, "port", 25, "port for servers found through DNS")
	fs.StringVar(&f.dnsServer, "dns-server", "", "resolver `ADDR` for MX lookups instead of the system's")
	stringListVar(fs, &f.to, "to", "t", nil, "recipient `ADDR` or \"Name <ADDR>\" (repeatable, or a comma list)")
	stringListVar(fs, &f.cc, "cc", "", nil, "Cc recipient `ADDR` or \"Name <ADDR>\" (repeatable, or a comma list)")
	stringListVar(fs, &f.bcc, "bcc", "", nil, "blind recipient `ADDR`: envelope only, never in a header")
	fs.StringVarP(&f.from, "from", "f", "", "sender `ADDR` or \"Name <ADDR>\" (default $USER@this host; <> for the null sender)")
	fs.StringVar(&f.helo, "helo", "", "`NAME` to say in EHLO (default: this host's FQDN, else its address literal)")
	fs.BoolVar(&f.tls, "tls", false, "require STARTTLS (exit 6 when not offered)")
	fs.BoolVar(&f.noTLS, "no-tls", false, "never use STARTTLS")
	f.conn.register(c, true)

	fs.StringVar(&f.authMech, "auth", "", "authenticate: --auth picks the strongest mechanism offered, --auth MECH (or --auth=MECH) names one")
	fs.Lookup("auth").NoOptDefVal = "auto"
	fs.StringVarP(&f.user, "user", "u", "", "AUTH user `NAME`")
	fs.StringVar(&f.passwordFile, "password-file", "", "read the password from the first line of `FILE`")
	fs.StringVar(&f.passwordEnv, "password-env", "", "read the password from environment variable `VAR`")
	fs.StringVar(&f.password, "password", "", "the password itself (visible to other users: prefer the other ways)")
	fs.StringVar(&f.tokenFile, "oauth-token-file", "", "read an OAuth token for XOAUTH2/OAUTHBEARER from `FILE`")
	fs.StringVar(&f.tokenEnv, "oauth-token-env", "", "read an OAuth token from environment variable `VAR`")
	fs.BoolVar(&f.allowInsecureAuth, "allow-insecure-auth", false, "allow AUTH without TLS to a non-loopback server")
	fs.BoolVar(&f.showAuth, "show-auth", false, "show AUTH payloads in the transcript instead of ********")

	f.msg.register(c)
	f.load.register(c)
	f.cfg.register(c)
	fs.BoolVar(&f.dumpMail, "dump-mail", false, "print the message that would be sent and send nothing")

	fs.StringVar(&f.notify, "notify", "", "DSN NOTIFY: NEVER or a list of SUCCESS,FAILURE,DELAY")
	fs.StringVar(&f.ret, "ret", "", "DSN RET: FULL or HDRS")
	fs.StringVar(&f.envid, "envid", "", "DSN envelope `ID`")
	fs.BoolVar(&f.orcpt, "orcpt", false, "DSN: send ORCPT with each recipient")
	fs.BoolVar(&f.requireTLS, "requiretls", false, "ask for REQUIRETLS (RFC 8689): TLS on every hop")
	stringListVar(fs, &f.mailParams, "mail-param", "", nil, "raw MAIL FROM `PARAM` (repeatable)")
	stringListVar(fs, &f.rcptParams, "rcpt-param", "", nil, "raw RCPT TO `PARAM` (repeatable)")

	fs.StringVar(&f.quitAfter, "quit-after", "", "stop after `POINT`: "+strings.Join(send.StopPoints, ", "))
	fs.StringVar(&f.pipeline, "pipeline", "auto", "PIPELINING: auto (when offered) or never")
	fs.StringVar(&f.chunking, "chunking", "auto", "CHUNKING/BDAT: auto (when offered) or never")
	fs.BoolVar(&f.allowPartial, "allow-partial", false, "exit 0 when at least one recipient got the message")

	_ = c.RegisterFlagCompletionFunc("quit-after", cobra.FixedCompletions(send.StopPoints, cobra.ShellCompDirectiveNoFileComp))
	_ = c.RegisterFlagCompletionFunc("auth", cobra.FixedCompletions(auth.Mechanisms, cobra.ShellCompDirectiveNoFileComp))
	_ = c.RegisterFlagCompletionFunc("pipeline", cobra.FixedCompletions([]string{"auto", "never"}, cobra.ShellCompDirectiveNoFileComp))
	_ = c.RegisterFlagCompletionFunc("chunking", cobra.FixedCompletions([]string{"auto", "never"}, cobra.ShellCompDirectiveNoFileComp))
	_ = c.RegisterFlagCompletionFunc("ret", cobra.FixedCompletions([]string{"FULL", "HDRS"}, cobra.ShellCompDirectiveNoFileComp))
	_ = c.RegisterFlagCompletionFunc("notify", cobra.FixedCompletions([]string{"NEVER", "SUCCESS", "FAILURE", "DELAY", "SUCCESS,FAILURE", "SUCCESS,FAILURE,DELAY", "FAILURE,DELAY"}, cobra.ShellCompDirectiveNoFileComp))
	for _, name := range []string{"password-file", "oauth-token-file"} {
		_ = c.MarkFlagFilename(name)
	}
	return c
}

// sendPlan is everything runSend resolved from the flags before dialling.
type sendPlan struct {
	opts send.Options
	tgt  *target.Target // nil: route by DNS
	env  *send.Envelope
}

func runSend(ctx context.Context, env *Env, f *sendFlags) error {
	plan, err := planSend(env, f)
	if err != nil {
		return err
	}
	if f.runF != nil {
		return f.runF(plan)
	}
	src, err := f.msg.source(env, plan.env)
	if src != nil {
		defer src.Close()
	}
	if err != nil {
		return err
	}
	if f.dumpMail {
		return dumpMail(env, src)
	}
	plan.opts.Source = src
	if f.load.active() {
		return runLoad(ctx, env, f, plan)
	}
	return deliver(ctx, env, f, plan)
}

func dumpMail(env *Env, src message.Source) error {
	rc, err := src.Open()
	if err != nil {
		return exitcode.Usagef("check the message flags", "cannot read the message: %v", err)
	}
	defer rc.Close()
	if _, err := io.Copy(env.IO.Out, rc); err != nil {
		return exitcode.Usagef("", "cannot write the message: %v", err)
	}
	return nil
}

func deliver(ctx context.Context, env *Env, f *sendFlags, plan *sendPlan) error {
	rec := &transcript.Recorder{}
	plan.opts.Session.Observer = env.observer(rec, f.showAuth)
	var txs []*send.Transaction
	if plan.tgt != nil {
		txs = []*send.Transaction{send.Deliver(ctx, &plan.opts, plan.env.Rcpts)}
	} else {
		r, err := route.New(route.Options{Server: f.dnsServer, Timeout: env.G.ConnectTimeout})
		if err != nil {
			return exitcode.Usagef("give --dns-server as an IP address, optionally with :port", "%v", err)
		}
		dests := send.PlanRoutes(ctx, r, plan.env.Rcpts, f.port)
		txs = send.RunRoutes(ctx, &plan.opts, dests)
	}
	code, err := send.Exit(txs, f.allowPartial)
	if jerr := env.show(func() any { return send.ToJSON(&plan.opts, txs, code, err, Hint(err), rec.Events, f.showAuth) },
		func(w io.Writer) error { send.WriteSummary(w, env.palette(), txs); return nil }); jerr != nil {
		return jerr
	}
	if err != nil {
		return err
	}
	return nil
}

func planSend(env *Env, f *sendFlags) (*sendPlan, error) {
	plan := &sendPlan{}
	o := &plan.opts
	if f.quitAfter != "" && !slices.Contains(send.StopPoints, f.quitAfter) {
		return nil, exitcode.Usagef("use --quit-after "+strings.Join(send.StopPoints, ", "), "--quit-after %q is not a stop point", f.quitAfter)
	}
	for name, v := range map[string]string{"--pipeline": f.pipeline, "--chunking": f.chunking} {
		if v != "auto" && v != "never" {
			return nil, exitcode.Usagef("use "+name+" auto or "+name+" never", "%s %q is not auto or never", name, v)
		}
	}
	o.Pipeline, o.Chunking = f.pipeline == "auto", f.chunking == "auto"
	o.QuitAfter = f.quitAfter
	o.AllowPartial = f.allowPartial
	if f.tls && f.noTLS {
		return nil, exitcode.Usagef("use one of --tls and --no-tls", "--tls and --no-tls cannot be combined")
	}
	if err := checkHelo(f.helo); err != nil {
		return nil, err
	}
	o.Helo = f.helo

	// Envelope.
	ev, err := send.NewEnvelope(send.EnvelopeInput{From: f.from, DefaultFrom: defaultFrom(env), To: f.to, Cc: f.cc, Bcc: f.bcc, Origin: f.origin})
	if err != nil {
		return nil, err
	}
	plan.env = ev
	o.From, o.FromUTF8 = ev.From, ev.FromUTF8
	if len(ev.Rcpts) == 0 && !f.dumpMail {
		return nil, exitcode.Usagef("add --to ADDR", "no recipients")
	}

	// DSN and raw parameters.
	if o.DSN, err = send.NewDSN(f.notify, f.ret, f.envid, f.orcpt); err != nil {
		return nil, err
	}
	o.RequireTLS = f.requireTLS
	if err := send.CheckParams(f.mailParams, f.rcptParams); err != nil {
		return nil, err
	}
	o.MailParams, o.RcptParams = f.mailParams, f.rcptParams

	if f.dumpMail {
		return plan, nil
	}

	// Where to connect.
	var so session.Options
	if f.server != "" || f.conn.socket != "" {
		so, t, err := f.conn.sessionOptions(env, f.server, 25)
		if err != nil {
			return nil, err
		}
		plan.tgt = &t
		o.Session = so
		o.TLS = t.TLS
	} else {
		so, _, err = f.conn.sessionOptions(env, "127.0.0.1", 25)
		if err != nil {
			return nil, err
		}
		so.Address = ""
		o.Session = so
		if f.conn.tlsOnConnect {
			o.TLS = target.TLSImplicit
		}
		if f.conn.lmtp {
			return nil, exitcode.Usagef("give --server for LMTP", "--lmtp needs --server: LMTP is not routed by MX")
		}
	}
	switch {
	case f.noTLS && (o.TLS == target.TLSImplicit || o.TLS == target.TLSRequired):
		return nil, exitcode.Usagef("drop --no-tls or use an smtp:// server", "--no-tls conflicts with the server's TLS mode")
	case f.noTLS:
		o.TLS = target.TLSNone
	case f.tls && o.TLS == target.TLSImplicit:
		return nil, exitcode.Usagef("use one of --tls (STARTTLS) and --tls-on-connect", "--tls and implicit TLS cannot be combined")
	case f.tls:
		o.TLS = target.TLSRequired
	}
	o.Session.AllowInsecureAuth = f.allowInsecureAuth
	o.Session.TraceBody = env.G.Verbose

	// Authentication.
	if err := planAuth(env, f, o, plan.tgt == nil); err != nil {
		return nil, err
	}
	return plan, nil
}

// defaultFrom is $USER@this host, the sender when none is given.
func defaultFrom(env *Env) string {
	user := env.IO.Env("USER")
	if user == "" {
		user = "smtpx"
	}
	host, _ := os.Hostname()
	if host == "" {
		host = "localhost"
	}
	return user + "@" + host
}

// planAuth resolves the credentials; routed is true when no server was
// named (see send.NewAuth).
func planAuth(env *Env, f *sendFlags, o *send.Options, routed bool) error {
	in := send.AuthInput{Mech: f.authMech, User: f.user, PasswordFile: f.passwordFile, PasswordEnv: f.passwordEnv,
		Password: f.password, PasswordCommand: f.passwordCommand, TokenFile: f.tokenFile, TokenEnv: f.tokenEnv,
		CertAuth: f.conn.tls.CertFile != "", Routed: routed, Getenv: env.IO.Getenv, CommandTimeout: env.G.Timeout,
		PasswordEnvDefault: config.EnvPassword, TokenEnvDefault: config.EnvOAuthToken}
	if !in.Wanted() {
		return nil
	}
	if tgt, err := target.Parse(f.server, 25); err == nil {
		in.Host, in.Port = tgt.Host, tgt.Port
	}
	in.Prompt = passwordPrompt(env)
	a, warnings, err := send.NewAuth(in)
	if err != nil {
		return err
	}
	if !env.G.Quiet {
		for _, w := range warnings {
			fmt.Fprintf(env.IO.Err, "smtpx: warning: %s\n", w)
		}
	}
	o.Auth = a
	return nil
}

// passwordPrompt asks on the controlling terminal without echo, or returns
// nil when stdin is not a terminal (scripts must not hang on a prompt).
func passwordPrompt(env *Env) func(string) (string, error) {
	f, ok := env.IO.In.(*os.File)
	if !ok || !env.IO.InIsTTY {
		return nil
	}
	return func(p string) (string, error) {
		fmt.Fprint(env.IO.Err, p)
		b, err := xterm.ReadPassword(int(f.Fd()))
		fmt.Fprintln(env.IO.Err)
		return string(b), err
	}
}
