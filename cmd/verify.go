package cmd

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/smtpx/smtpx/internal/address"
	"github.com/smtpx/smtpx/internal/connect"
	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/help"
	"github.com/smtpx/smtpx/internal/route"
	"github.com/smtpx/smtpx/internal/session"
	"github.com/smtpx/smtpx/internal/term"
	"github.com/smtpx/smtpx/internal/transcript"
	"github.com/smtpx/smtpx/internal/verify"
)

// verifyFlags are the verify verb's flags: most land in Options and
// Policy as they are parsed.
type verifyFlags struct {
	conn      connFlags
	o         verify.Options
	pol       verify.Policy
	file      string
	from      string
	dnsServer string
	failOn    []string
	csv       bool
	shard     string
	runF      func(*verifyPlan) error
}

// newVerifyCmd builds the verify verb; runF, when set, gets the plan
// instead of running it.
func newVerifyCmd(env *Env, runF func(*verifyPlan) error) *cobra.Command {
	f := &verifyFlags{runF: runF}
	c := &cobra.Command{
		Use:   "verify [flags] ADDRESS... | --file FILE",
		Short: "Ask an address's mail servers whether they would accept it",
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVerify(cmd.Context(), env, f, args)
		},
	}
	env.lazyLong(c, func() string {
		return longHelp(help.Body("verify"), help.Examples("verify"),
			exitcode.Case{Code: exitcode.OK, When: "deliverable or unprovable; in bulk, every address got a verdict, whatever it is"},
			exitcode.Case{Code: exitcode.Check, When: "--expect got the other answer, --strict and unprovable, or (bulk) a verdict named by --fail-on"},
			exitcode.Case{Code: exitcode.Usage, When: "not an address, or a bad flag or input file; nothing was sent"},
			exitcode.Case{Code: exitcode.Network, When: "unknown: DNS failure, no connection, the session broke twice, or Ctrl-C or SIGTERM ended the run"},
			exitcode.Case{Code: exitcode.Transient, When: "tempfail, or full with a 4xx"},
			exitcode.Case{Code: exitcode.Permanent, When: "undeliverable, blocked, or full with a 5xx"},
			exitcode.Case{Code: exitcode.Protocol, When: "unknown after a malformed or out-of-sequence reply"})
	})
	fs := c.Flags()
	fs.StringVarP(&f.file, "file", "f", "", "read addresses from `FILE`, one per line (- for standard input)")
	fs.StringVar(&f.o.Helo, "helo", "", "`NAME` to say in EHLO (default: this host's FQDN, else its address literal)")
	fs.StringVar(&f.from, "from", "", "`ADDRESS` for MAIL FROM, in a domain you control (default: the null sender <>)")
	fs.StringVar(&f.o.MX, "mx", "", "ask `HOST[:PORT]` instead of the domain's MX (no DNS for routing)")
	fs.IntVar(&f.o.Port, "port", verify.DefaultPort, "`PORT` of the MX hosts found in DNS")
	fs.StringVar(&f.dnsServer, "dns-server", "", "ask the DNS server at `ADDR` (host or host:port) instead of the system's")
	fs.StringVar(&f.o.Method, "method", verify.MethodRcpt, "how to ask: rcpt, vrfy or expn")
	fs.BoolVar(&f.o.CatchAll, "catch-all", true, "after an acceptance, ask about a random address to detect a catch-all")
	fs.BoolVar(&f.o.NoStartTLS, "no-starttls", false, "do not use STARTTLS even when offered")
	fs.BoolVar(&f.pol.Strict, "strict", false, "treat unprovable (catch-all, VRFY 252) as a failure: exit 1")
	fs.StringVar(&f.pol.Expect, "expect", "", "assert the answer: accept or reject; exit 1 when it differs")
	fs.DurationVar(&f.o.WaitGreylist, "wait-greylist", 0, "when greylisted, wait up to `DURATION` and ask once more from the same sender")
	fs.IntVar(&f.o.PerSession, "per-session", verify.DefaultPerSession, "addresses asked per session (`N`)")
	fs.IntVar(&f.o.Concurrency, "concurrency", verify.DefaultConcurrency, "sessions at once, in all (`N`)")
	fs.IntVar(&f.o.PerMX, "per-mx", verify.DefaultPerMX, "sessions at once to one MX server, by IP address (`N`)")
	fs.DurationVar(&f.o.Delay, "delay", verify.DefaultDelay, "pause between sessions to one MX server, by IP address (`DURATION`; 0 for your own servers)")
	fs.StringSliceVar(&f.failOn, "fail-on", nil, "exit 1 when any address gets one of these `VERDICTS` (comma-separated)")
	fs.BoolVar(&f.csv, "csv", false, "print CSV rows (bulk output) instead of a transcript or table")
	fs.IntVar(&f.o.Window, "window", verify.DefaultWindow, "read at most `N` addresses ahead of their results (bulk memory)")
	fs.BoolVar(&f.o.Ordered, "ordered", false, "print bulk rows in input order instead of as they are decided")
	fs.StringVar(&f.shard, "shard", "", "verify only shard `I/N` of the list, by a hash of each domain")
	f.conn.registerTLS(c, false)
	_ = c.MarkFlagFilename("file")
	_ = c.RegisterFlagCompletionFunc("method", cobra.FixedCompletions(verify.Methods, cobra.ShellCompDirectiveNoFileComp))
	_ = c.RegisterFlagCompletionFunc("expect", cobra.FixedCompletions([]string{"accept", "reject"}, cobra.ShellCompDirectiveNoFileComp))
	_ = c.RegisterFlagCompletionFunc("fail-on", cobra.FixedCompletions(verify.VerdictNames(), cobra.ShellCompDirectiveNoFileComp))
	return c
}

// verifyPlan is the checked form of the flags: what runF gets.
type verifyPlan struct {
	opts   verify.Options
	policy verify.Policy
	bulk   bool
	format verify.Format // of bulk rows
	list   string        // --file, "-" for standard input; "" for arguments
	args   []string
}

func checkVerifyFlags(env *Env, f *verifyFlags, args []string) (*verifyPlan, error) {
	usage := func(hint, format string, a ...any) (*verifyPlan, error) {
		return nil, exitcode.Usagef(hint, format, a...)
	}
	switch {
	case f.file != "" && len(args) > 0:
		return usage("give addresses as arguments or --file, not both", "both addresses and --file were given")
	case f.file == "" && len(args) == 0:
		return usage("smtpx verify ADDRESS, or --file FILE", "verify needs an ADDRESS or --file")
	case f.csv && env.G.JSON:
		return usage("use one of --json and --csv", "--json and --csv cannot be combined")
	}
	o := f.o
	pol, err := verify.NewPolicy(f.pol.Expect, f.pol.Strict, f.failOn)
	if err == nil {
		err = o.Check()
	}
	if err == nil && f.shard != "" {
		o.Shard, err = verify.ParseShard(f.shard)
	}
	if err == nil {
		err = checkHelo(o.Helo)
	}
	if err != nil {
		return nil, err
	}
	pol.ErrHint = Hint
	o.CatchAll = o.CatchAll && o.Method == verify.MethodRcpt
	if f.from != "" && f.from != "<>" {
		a, err := address.Parse(f.from)
		if err != nil {
			return usage("give --from as local@domain in a domain you control, or <> for the null sender", "--from: %v", err)
		}
		o.From = &a
	}
	cfg, err := f.conn.TLSConfig()
	if err != nil {
		return nil, err
	}
	o.Session = session.Options{TLSConfig: cfg, ConnectTimeout: env.G.ConnectTimeout, Timeout: env.G.Timeout}
	if f.conn.TLS.Insecure {
		o.Session.TLSVerdict = func(*tls.ConnectionState) string { return connect.InsecureVerdict }
	}
	if o.Resolver, err = route.New(route.Options{Server: f.dnsServer, Timeout: env.G.ConnectTimeout}); err != nil {
		return usage("give --dns-server as an address such as 127.0.0.1 or [::1]:53", "%v", err)
	}
	p := &verifyPlan{opts: o, policy: pol, list: f.file, args: args}
	if len(args) == 1 && args[0] == "-" {
		p.list, p.args = "-", nil
	}
	p.bulk = p.list != "" || len(args) > 1 || f.csv
	switch {
	case f.csv:
		p.format = verify.FormatCSV
	case env.G.JSON:
		p.format = verify.FormatJSON
	case env.G.Quiet:
		p.format = verify.FormatNone
	}
	if !p.bulk {
		if _, err := address.Parse(args[0]); err != nil {
			return usage("write the address as local@domain, e.g. bob@example.com", "%v", err)
		}
	}
	return p, nil
}

func runVerify(ctx context.Context, env *Env, f *verifyFlags, args []string) error {
	p, err := checkVerifyFlags(env, f, args)
	if err != nil || f.runF != nil {
		if err == nil {
			err = f.runF(p)
		}
		return err
	}
	if !p.bulk {
		return runVerifyOne(ctx, env, p)
	}
	src, total := verify.Inputs(verify.ArgInputs(p.args)), len(p.args)
	if p.list != "" {
		rc, err := verify.OpenList(p.list, env.IO.In)
		if err != nil {
			return err
		}
		defer rc.Close()
		src, total = verify.NewReader(rc), 0
	}
	return runVerifyBulk(ctx, env, p, src, total)
}

func runVerifyOne(ctx context.Context, env *Env, p *verifyPlan) error {
	rec := &transcript.Recorder{}
	obs := env.observer(rec, false)
	p.opts.Observer = func(int) session.Observer { return obs }
	var res *verify.Result
	if _, err := verify.Run(ctx, p.opts, verify.Inputs([]verify.Input{{Text: p.args[0]}}), func(r *verify.Result) { res = r }); err != nil {
		return err
	}
	if w := res.TLSWarning(); w != "" && !env.G.Quiet {
		fmt.Fprintf(env.IO.Err, "smtpx: warning: %s\n", w)
	}
	if err := env.show(func() any { return p.policy.JSON(res, rec.Events) },
		func(w io.Writer) error { return res.WriteHuman(w, env.palette()) }); err != nil {
		return err
	}
	return p.policy.Err(res)
}

// runVerifyBulk verifies a list; total is its length when known, for
// the progress line.
func runVerifyBulk(ctx context.Context, env *Env, p *verifyPlan, src verify.Source, total int) error {
	var status *term.Status
	if env.IO.ErrIsTTY && !env.IO.OutIsTTY && !env.G.Quiet && total != 1 {
		m := verify.NewMeter(total)
		p.opts.Progress = m.Count
		status = term.StartStatus(env.IO.Err, 100*time.Millisecond, m.Line)
	}
	rw := verify.NewRowWriter(env.IO.Out, p.format, p.policy, env.palette())
	sum, err := verify.Run(ctx, p.opts, src, rw.Write)
	status.Stop()
	if werr := rw.Close(); werr != nil {
		return werr
	}
	if err != nil {
		return err
	}
	if !env.G.Quiet {
		fmt.Fprintf(env.IO.Err, "smtpx: %s\n", sum)
	}
	if ctx.Err() != nil {
		return verify.ErrInterrupted
	}
	return rw.Check()
}
