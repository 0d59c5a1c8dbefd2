package cmd

import (
	"fmt"
	"os"

	xterm "golang.org/x/term"

	"github.com/smtpx/smtpx/internal/config"
	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/send"
	"github.com/smtpx/smtpx/internal/session"
	"github.com/smtpx/smtpx/internal/target"
)

// planSend turns send's flags into the plan: options, envelope, target.
func planSend(env *Env, f *sendFlags) (*sendPlan, error) {
	plan := &sendPlan{}
	o := &plan.opts
	for name, v := range map[string]string{"--pipeline": f.pipeline, "--chunking": f.chunking} {
		if v != "auto" && v != "never" {
			return nil, exitcode.Usagef("use "+name+" auto or "+name+" never", "%s %q is not auto or never", name, v)
		}
	}
	o.Pipeline, o.Chunking = f.pipeline == "auto", f.chunking == "auto"
	if err := o.SetStop(f.quitAfter, f.dropAfter, f.dropAfterSend); err != nil {
		return nil, err
	}
	var err error
	if o.XClient, err = send.ParseAttrs("XCLIENT", f.xclient); err != nil {
		return nil, err
	}
	if o.XForward, err = send.ParseAttrs("XFORWARD", f.xforward); err != nil {
		return nil, err
	}
	o.XClientOptional, o.XForwardOptional, o.PRDR = f.xclientOptional, f.xforwardOptional, f.prdr
	o.AllowPartial = f.allowPartial
	o.Force8Bit = f.force8Bit
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
	if f.server != "" || f.conn.Socket != "" || f.conn.Transport.Pipe != "" {
		so, t, err := f.conn.Session(f.server, 25, env.G.ConnectTimeout, env.G.Timeout, env.IO.Getenv)
		if err != nil {
			return nil, err
		}
		plan.tgt = &t
		o.Session = so
		o.TLS = t.TLS
	} else {
		so, _, err = f.conn.Session("127.0.0.1", 25, env.G.ConnectTimeout, env.G.Timeout, env.IO.Getenv)
		if err != nil {
			return nil, err
		}
		so.Address = ""
		o.Session = so
		if f.conn.TLSOnConnect {
			o.TLS = target.TLSImplicit
		}
		if f.conn.LMTP {
			return nil, exitcode.Usagef("give --server for LMTP", "--lmtp needs --server: LMTP is not routed by MX")
		}
	}
	if o.TLS, err = send.TLSMode(o.TLS, f.tls, f.noTLS); err != nil {
		return nil, err
	}
	verifiable, err := f.conn.PipeTLS(o.TLS == target.TLSRequired)
	if err != nil {
		return nil, err
	}
	if !verifiable && o.TLS == target.TLSOpportunistic {
		// Over --pipe, STARTTLS when offered would fail for want of a
		// name to verify: the dialogue goes on in clear, as with swaks.
		o.TLS = target.TLSNone
	}
	if o.PRDR && o.Session.LMTP {
		return nil, exitcode.Usagef("drop --prdr: LMTP answers each recipient after the data anyway", "--prdr does not apply to LMTP")
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
		CertAuth: f.conn.TLS.CertFile != "", Routed: routed, Getenv: env.IO.Getenv, CommandTimeout: env.G.Timeout,
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
