package cmd

import (
	"context"
	"crypto/x509"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/smtpx/smtpx/internal/auth"
	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/help"
	"github.com/smtpx/smtpx/internal/message"
	"github.com/smtpx/smtpx/internal/route"
	"github.com/smtpx/smtpx/internal/send"
	"github.com/smtpx/smtpx/internal/target"
	"github.com/smtpx/smtpx/internal/tlsconf"
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

	msg      send.MessageFlags
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
	force8Bit    bool

	dropAfter, dropAfterSend          string
	xclient, xforward                 []string
	xclientOptional, xforwardOptional bool
	prdr                              bool
}

// newSendCmd builds the send verb. runF, when set, gets the plan instead
// of running it (tests of argv -> options).
func newSendCmd(env *Env, runF func(*sendPlan) error) *cobra.Command {
	f := &sendFlags{runF: runF}
	c := &cobra.Command{
		Use:   "send [flags]",
		Short: "Send a test message, or any message, and report each reply",
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
	env.lazyLong(c, func() string {
		return longHelp(help.Body("send"), help.Examples("send"),
			exitcode.Case{Code: exitcode.OK, When: "every recipient and the message were accepted (--allow-partial: at least one recipient), or --quit-after was reached"},
			exitcode.Case{Code: exitcode.Check, When: "AUTH was asked for and the server offers no mechanism the credentials fit"},
			exitcode.Case{Code: exitcode.Usage},
			exitcode.Case{Code: exitcode.Network},
			exitcode.Case{Code: exitcode.Transient, When: "the worst failure was a 4xx: retry later, to the recipients marked retry"},
			exitcode.Case{Code: exitcode.Permanent, When: "the worst failure was a 5xx, or a recipient's domain does not exist or has a null MX, or the message is over the server's SIZE"},
			exitcode.Case{Code: exitcode.TLS, When: "STARTTLS failed or its certificate did not verify, --tls and STARTTLS not offered, --requiretls not possible, or AUTH refused in clear text"},
			exitcode.Case{Code: exitcode.Protocol},
			exitcode.Case{Code: exitcode.Interrupted, When: "Ctrl-C or SIGTERM ended the send before it finished (load mode: 3)"})
	})
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

	registerMessageFlags(c, &f.msg)
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
	fs.BoolVar(&f.force8Bit, "force-8bit", false, "send 8-bit content to a server that does not offer 8BITMIME (for testing servers; default: exit 5 before MAIL)")
	fs.StringVar(&f.dropAfter, "drop-after", "", "close the connection without QUIT once `STAGE`'s reply is in (the --quit-after stages)")
	fs.StringVar(&f.dropAfterSend, "drop-after-send", "", "close the connection without QUIT right after sending `STAGE`'s command, its reply unread")
	stringListVar(fs, &f.xclient, "xclient", "", nil, "send Postfix XCLIENT `ATTR=VALUE`,... after STARTTLS, then EHLO again (NAME, ADDR, PORT, PROTO, HELO, LOGIN, DESTADDR, DESTPORT)")
	fs.BoolVar(&f.xclientOptional, "xclient-optional", false, "leave XCLIENT out, instead of stopping, when the server does not offer it or an attribute")
	stringListVar(fs, &f.xforward, "xforward", "", nil, "send Postfix XFORWARD `ATTR=VALUE`,... before MAIL (NAME, ADDR, PORT, PROTO, HELO, IDENT, SOURCE)")
	fs.BoolVar(&f.xforwardOptional, "xforward-optional", false, "leave XFORWARD out, instead of stopping, when the server does not offer it or an attribute")
	fs.BoolVar(&f.prdr, "prdr", false, "ask for a reply per recipient after the data (MAIL ... PRDR) when the server offers PRDR")

	_ = c.RegisterFlagCompletionFunc("quit-after", cobra.FixedCompletions(send.StopPoints, cobra.ShellCompDirectiveNoFileComp))
	_ = c.RegisterFlagCompletionFunc("drop-after", cobra.FixedCompletions(send.StopPoints, cobra.ShellCompDirectiveNoFileComp))
	_ = c.RegisterFlagCompletionFunc("drop-after-send", cobra.FixedCompletions(send.StopPoints[2:], cobra.ShellCompDirectiveNoFileComp))
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
	src, err := f.msg.Source(env.IO.In, plan.env, "smtpx/"+env.Build.Version)
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
	if f.load.active() && f.conn.TLS.PeerCertFile != "" {
		return exitcode.Usagef("save the certificate with a single send, then run the load", "--tls-get-peer-cert does not apply to load mode")
	}
	if f.load.active() && plan.opts.Drop != send.DropNone {
		return exitcode.Usagef("drop connections with a single send", "--drop-after and --drop-after-send do not apply to load mode")
	}
	if f.load.active() {
		return runLoad(ctx, env, f, plan)
	}
	if f.load.noResume {
		return exitcode.Usagef("add --count N (with --per-connection M for new connections), or drop --tls-no-resume", "--tls-no-resume applies to load mode only")
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
	plan.opts.Session.Observer = env.observerWith(rec, transcript.Options{ShowAuth: f.showAuth, TimeLapse: f.conn.TimeLapse})
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
	return f.conn.SavePeerCert(env.IO.Err, peerChain(txs), err)
}

// peerChain is what --tls-get-peer-cert saves from a send: the chain of
// the first TLS connection made, else of the first handshake refused on
// verification.
func peerChain(txs []*send.Transaction) []*x509.Certificate {
	for _, tx := range txs {
		if tx.Session != nil && tx.Session.TLS != nil {
			return tlsconf.PeerChain(tx.Session.TLS, nil)
		}
	}
	for _, tx := range txs {
		for _, f := range tx.Failures {
			if c := tlsconf.PeerChain(nil, f); c != nil {
				return c
			}
		}
	}
	return nil
}
