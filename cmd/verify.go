package cmd

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/smtpx/smtpx/internal/address"
	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/help"
	"github.com/smtpx/smtpx/internal/route"
	"github.com/smtpx/smtpx/internal/session"
	"github.com/smtpx/smtpx/internal/term"
	"github.com/smtpx/smtpx/internal/transcript"
	"github.com/smtpx/smtpx/internal/verify"
)

type verifyFlags struct {
	conn         connFlags
	file         string
	helo         string
	from         string
	mx           string
	port         int
	dnsServer    string
	method       string
	catchAll     bool
	noStartTLS   bool
	strict       bool
	expect       string
	waitGreylist time.Duration
	perSession   int
	concurrency  int
	perMX        int
	delay        time.Duration
	failOn       []string
	csv          bool
}

// maxInputLine bounds one line of --file input; anything longer is no
// address (RFC 5321 allows 254 octets) and is reported as bad syntax.
const maxInputLine = 4096

func newVerifyCmd(env *Env) *cobra.Command {
	f := &verifyFlags{}
	c := &cobra.Command{
		Use:   "verify [flags] ADDRESS... | --file FILE",
		Short: "Ask an address's mail servers whether they would accept it",
		Long: longHelp(help.Body("verify"), help.Examples("verify"),
			exitcode.Case{Code: exitcode.OK, When: "deliverable or unprovable; in bulk, every address got a verdict, whatever it is"},
			exitcode.Case{Code: exitcode.Check, When: "--expect got the other answer, --strict and unprovable, or (bulk) a verdict named by --fail-on"},
			exitcode.Case{Code: exitcode.Usage, When: "not an address, or a bad flag or input file; nothing was sent"},
			exitcode.Case{Code: exitcode.Network, When: "unknown: DNS failure, no connection, the session broke twice, or Ctrl-C or SIGTERM ended the run"},
			exitcode.Case{Code: exitcode.Transient, When: "tempfail, or full with a 4xx"},
			exitcode.Case{Code: exitcode.Permanent, When: "undeliverable, blocked, or full with a 5xx"},
			exitcode.Case{Code: exitcode.Protocol, When: "unknown after a malformed or out-of-sequence reply"}),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVerify(cmd.Context(), env, f, args)
		},
	}
	fs := c.Flags()
	fs.StringVarP(&f.file, "file", "f", "", "read addresses from `FILE`, one per line (- for standard input)")
	fs.StringVar(&f.helo, "helo", "", "`NAME` to say in EHLO (default: this host's FQDN, else its address literal)")
	fs.StringVar(&f.from, "from", "", "`ADDRESS` for MAIL FROM, in a domain you control (default: the null sender <>)")
	fs.StringVar(&f.mx, "mx", "", "ask `HOST[:PORT]` instead of the domain's MX (no DNS for routing)")
	fs.IntVar(&f.port, "port", verify.DefaultPort, "`PORT` of the MX hosts found in DNS")
	fs.StringVar(&f.dnsServer, "dns-server", "", "ask the DNS server at `ADDR` (host or host:port) instead of the system's")
	fs.StringVar(&f.method, "method", verify.MethodRcpt, "how to ask: rcpt, vrfy or expn")
	fs.BoolVar(&f.catchAll, "catch-all", true, "after an acceptance, ask about a random address to detect a catch-all")
	fs.BoolVar(&f.noStartTLS, "no-starttls", false, "do not use STARTTLS even when offered")
	fs.BoolVar(&f.strict, "strict", false, "treat unprovable (catch-all, VRFY 252) as a failure: exit 1")
	fs.StringVar(&f.expect, "expect", "", "assert the answer: accept or reject; exit 1 when it differs")
	fs.DurationVar(&f.waitGreylist, "wait-greylist", 0, "when greylisted, wait up to `DURATION` and ask once more from the same sender")
	fs.IntVar(&f.perSession, "per-session", verify.DefaultPerSession, "addresses asked per session (`N`)")
	fs.IntVar(&f.concurrency, "concurrency", verify.DefaultConcurrency, "sessions at once, in all (`N`)")
	fs.IntVar(&f.perMX, "per-mx", verify.DefaultPerMX, "sessions at once to one MX server, by IP address (`N`)")
	fs.DurationVar(&f.delay, "delay", verify.DefaultDelay, "pause between sessions to one MX server, by IP address (`DURATION`; 0 for your own servers)")
	fs.StringSliceVar(&f.failOn, "fail-on", nil, "exit 1 when any address gets one of these `VERDICTS` (comma-separated)")
	fs.BoolVar(&f.csv, "csv", false, "print CSV rows (bulk output) instead of a transcript or table")
	f.conn.registerTLS(c, false)
	_ = c.MarkFlagFilename("file")
	_ = c.RegisterFlagCompletionFunc("method", cobra.FixedCompletions(verify.Methods, cobra.ShellCompDirectiveNoFileComp))
	_ = c.RegisterFlagCompletionFunc("expect", cobra.FixedCompletions([]string{"accept", "reject"}, cobra.ShellCompDirectiveNoFileComp))
	verdicts := make([]string, len(verify.Verdicts))
	for i, v := range verify.Verdicts {
		verdicts[i] = string(v)
	}
	_ = c.RegisterFlagCompletionFunc("fail-on", cobra.FixedCompletions(verdicts, cobra.ShellCompDirectiveNoFileComp))
	return c
}

// verifyPlan is the checked form of the flags.
type verifyPlan struct {
	opts   verify.Options
	failOn map[verify.Verdict]bool
	bulk   bool
	inputs []verify.Input
}

func checkVerifyFlags(env *Env, f *verifyFlags, args []string) (*verifyPlan, error) {
	p := &verifyPlan{failOn: map[verify.Verdict]bool{}}
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
	case !slices.Contains(verify.Methods, f.method):
		return usage("use --method rcpt, vrfy or expn", "--method %q is not a method", f.method)
	case f.expect != "" && f.expect != "accept" && f.expect != "reject":
		return usage("use --expect accept or --expect reject", "--expect %q is not accept or reject", f.expect)
	case f.perSession < 1 || f.concurrency < 1 || f.perMX < 1:
		return usage("give a positive number", "--per-session, --concurrency and --per-mx must be at least 1")
	case f.delay < 0 || f.waitGreylist < 0:
		return usage("give a duration such as 2s, or 0", "--delay and --wait-greylist cannot be negative")
	case f.port < 1 || f.port > 65535:
		return usage("give a port between 1 and 65535", "--port %d is out of range", f.port)
	}
	if err := checkHelo(f.helo); err != nil {
		return nil, err
	}
	for _, s := range f.failOn {
		v, ok := verify.ParseVerdict(s)
		if !ok {
			return usage("name verdicts: deliverable, unprovable, undeliverable, full, blocked, tempfail, unknown, bad_syntax", "--fail-on %q is not a verdict", s)
		}
		p.failOn[v] = true
	}
	if f.strict {
		p.failOn[verify.Unprovable] = true
	}
	o := verify.Options{
		Helo:         f.helo,
		Method:       f.method,
		CatchAll:     f.catchAll && f.method == verify.MethodRcpt,
		NoStartTLS:   f.noStartTLS,
		MX:           f.mx,
		Port:         f.port,
		PerSession:   f.perSession,
		Concurrency:  f.concurrency,
		PerMX:        f.perMX,
		Delay:        f.delay,
		WaitGreylist: f.waitGreylist,
	}
	if f.from != "" && f.from != "<>" {
		a, err := address.Parse(f.from)
		if err != nil {
			return usage("give --from as local@domain in a domain you control, or <> for the null sender", "--from: %v", err)
		}
		o.From = &a
	}
	cfg, err := f.conn.tls.Build()
	if err != nil {
		return usage("check the TLS flags", "%v", err)
	}
	o.Session = session.Options{TLSConfig: cfg, ConnectTimeout: env.G.ConnectTimeout, Timeout: env.G.Timeout}
	r, err := route.New(route.Options{Server: f.dnsServer, Timeout: env.G.ConnectTimeout})
	if err != nil {
		return usage("give --dns-server as an address such as 127.0.0.1 or [::1]:53", "%v", err)
	}
	o.Resolver = r
	p.opts = o

	// The input: one address, several, a file or standard input.
	p.bulk = f.file != "" || len(args) > 1 || f.csv || (len(args) == 1 && args[0] == "-")
	switch {
	case f.file != "" || (len(args) == 1 && args[0] == "-"):
		name := f.file
		if name == "" {
			name = "-"
		}
		in, err := readInputs(env, name)
		if err != nil {
			return nil, err
		}
		p.inputs = in
	default:
		for i, a := range args {
			p.inputs = append(p.inputs, verify.Input{Line: i + 1, Text: a})
		}
		if !p.bulk {
			p.inputs[0].Line = 0
			if _, err := address.Parse(args[0]); err != nil {
				return usage("write the address as local@domain, e.g. bob@example.com", "%v", err)
			}
		}
	}
	return p, nil
}

// readInputs reads one address per line from a file or standard input.
func readInputs(env *Env, name string) ([]verify.Input, error) {
	var r io.Reader
	if name == "-" {
		r = env.IO.In
	} else {
		fh, err := os.Open(name)
		if err != nil {
			return nil, exitcode.Usagef("check the --file path", "cannot read the address list: %v", errors.Unwrap(err))
		}
		defer fh.Close()
		st, err := fh.Stat()
		if err == nil && st.IsDir() {
			return nil, exitcode.Usagef("give --file a file with one address per line", "cannot read the address list: %s is a directory", name)
		}
		r = fh
	}
	br := bufio.NewReaderSize(r, 64*1024)
	var out []verify.Input
	for n := 1; ; n++ {
		line, err := readLine(br)
		if err != nil && err != io.EOF {
			return nil, exitcode.Usagef("check the --file path", "cannot read the address list: %v", err)
		}
		if n == 1 {
			line = strings.TrimPrefix(line, "\uFEFF")
		}
		t := strings.TrimSpace(line)
		if t != "" && !strings.HasPrefix(t, "#") {
			out = append(out, verify.Input{Line: n, Text: t})
		}
		if err == io.EOF {
			break
		}
	}
	return out, nil
}

// maxSkippedLine bounds how far a line is read past maxInputLine: an
// address list has no megabyte lines, and a wrong path (/dev/zero) must
// fail instead of being read forever.
const maxSkippedLine = 1 << 20

// readLine reads a line of up to maxSkippedLine bytes, keeping at most
// maxInputLine of them.
func readLine(br *bufio.Reader) (string, error) {
	var b []byte
	total := 0
	for {
		chunk, isPrefix, err := br.ReadLine()
		total += len(chunk)
		if total > maxSkippedLine {
			return "", fmt.Errorf("a line is longer than %d MiB: not an address list", maxSkippedLine>>20)
		}
		if len(b) < maxInputLine {
			b = append(b, chunk...)
		}
		if err != nil {
			if len(b) > 0 && err == io.EOF {
				return string(b), nil
			}
			return string(b), err
		}
		if !isPrefix {
			return string(b), nil
		}
	}
}

func runVerify(ctx context.Context, env *Env, f *verifyFlags, args []string) error {
	p, err := checkVerifyFlags(env, f, args)
	if err != nil {
		return err
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if p.bulk {
		return runVerifyBulk(ctx, env, f, p)
	}
	return runVerifyOne(ctx, env, f, p)
}

// expectation reports whether a result meets --expect, and whether it can
// be judged at all (a network failure or a greylisting proves nothing
// either way).
func expectation(expect string, r *verify.Result) (met, judged bool) {
	switch r.Verdict {
	case verify.Unknown, verify.Tempfail, verify.BadSyntax:
		return false, false
	}
	accepted := r.Verdict == verify.Deliverable || r.Verdict == verify.Unprovable
	if expect == "accept" {
		return accepted, true
	}
	return r.Verdict == verify.Undeliverable, true
}

// verdictExit is the status for one result after --strict, --fail-on and
// --expect.
func verdictExit(f *verifyFlags, p *verifyPlan, r *verify.Result) int {
	if f.expect != "" {
		met, judged := expectation(f.expect, r)
		switch {
		case met:
			return exitcode.OK
		case judged && r.Verdict != verify.Blocked:
			return exitcode.Check
		}
		return r.Exit
	}
	if r.Verdict == verify.Unprovable && f.strict {
		return exitcode.Check
	}
	return r.Exit
}

func runVerifyOne(ctx context.Context, env *Env, f *verifyFlags, p *verifyPlan) error {
	rec := &transcript.Recorder{}
	obs := env.observer(rec, false)
	p.opts.Observer = func(int) session.Observer { return obs }
	var res *verify.Result
	_, err := verify.Run(ctx, p.opts, p.inputs, func(r *verify.Result) { res = r })
	if err != nil {
		return err
	}
	exit := verdictExit(f, p, res)
	if res.TLSFallback && !env.G.Quiet {
		// Not an error (opportunistic TLS goes on), but never silent:
		// a failed STARTTLS can be an attack on the connection.
		fmt.Fprintf(env.IO.Err, "smtpx: warning: %s; the address was checked in plaintext\n", transcript.Escape(res.TLSError))
	}
	if env.G.JSON {
		if err := env.printJSON(rowJSON(f, res, exit, rec.Events)); err != nil {
			return err
		}
	} else if !env.G.Quiet {
		printVerdict(env, res)
	}
	if exit == exitcode.OK {
		return nil
	}
	return &exitcode.Error{Code: exit, Msg: verdictMessage(f, res, exit), Hint: verdictHint(f, res, exit)}
}

// rowJSON is a result's JSON with error and hint in the words of the
// stderr lines.
func rowJSON(f *verifyFlags, r *verify.Result, exit int, events []session.Event) verify.JSON {
	j := r.ToJSON(exit, events)
	if exit != exitcode.OK {
		j.Error, j.Hint = verdictMessage(f, r, exit), verdictHint(f, r, exit)
	}
	return j
}

func printVerdict(env *Env, r *verify.Result) {
	w := env.IO.Out
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Address   %s\n", transcript.Escape(r.Address.String()))
	fmt.Fprintf(w, "Verdict   %s\n", r.Verdict)
	fmt.Fprintf(w, "Reason    %s\n", transcript.Escape(r.Reason))
	if l := r.ReplyLine(); l != "" {
		fmt.Fprintf(w, "Reply     %s\n", l)
	}
	if r.MX != "" {
		fmt.Fprintf(w, "MX        %s (%s)\n", transcript.Escape(r.MX), r.MXAddress)
	}
	if r.TLS != nil {
		v := "verified"
		if !r.TLSVerified {
			v = "not verified: " + r.TLSError
		}
		fmt.Fprintf(w, "TLS       %s, certificate %s\n", strings.TrimPrefix(tlsVersion(r), "TLS "), transcript.Escape(v))
	}
	if strings.HasPrefix(r.Reason, "accepted at RCPT") {
		fmt.Fprintln(w, "Note      accepted at RCPT does not prove a message would be delivered")
	}
}

func tlsVersion(r *verify.Result) string {
	j := r.ToJSON(0, nil)
	if j.TLS == nil {
		return ""
	}
	return j.TLS.Version
}

func verdictMessage(f *verifyFlags, r *verify.Result, exit int) string {
	who := r.Address.String()
	reply := ""
	if l := r.ReplyLine(); l != "" {
		reply = " (" + l + ")"
	}
	if f.expect != "" && exit == exitcode.Check {
		return fmt.Sprintf("expected %s, but %s is %s%s", f.expect, who, r.Verdict, reply)
	}
	switch r.Verdict {
	case verify.Unprovable:
		return fmt.Sprintf("cannot prove %s exists: %s", who, r.Reason)
	case verify.Undeliverable:
		return fmt.Sprintf("%s is undeliverable%s", who, reply)
	case verify.Blocked:
		return fmt.Sprintf("blocked: the server refused the prober, which says nothing about %s%s", who, reply)
	case verify.Full:
		return fmt.Sprintf("%s exists but its mailbox is full%s", who, reply)
	case verify.Tempfail:
		return fmt.Sprintf("temporary failure for %s: %s", who, r.Reason)
	}
	return fmt.Sprintf("could not verify %s: %s", who, r.Reason)
}

func verdictHint(f *verifyFlags, r *verify.Result, exit int) string {
	if f.expect != "" && exit == exitcode.Check {
		if f.expect == "reject" {
			return "the MX accepts unknown users at RCPT time, so it must bounce them later (backscatter); reject them at RCPT"
		}
		if strings.EqualFold(r.Address.Local, "postmaster") {
			return "RFC 5321 §4.5.1 requires every mail domain to accept postmaster"
		}
		return "check that the mailbox exists and the MX accepts it"
	}
	if h := r.Hint(); h != "" {
		return h
	}
	if route.KindOf(r.Err) == route.KindTemporary && r.Source == "dns" {
		return "the DNS server did not answer; try again, or name another with --dns-server"
	}
	if r.Err != nil {
		return Hint(r.Err)
	}
	return ""
}

func runVerifyBulk(ctx context.Context, env *Env, f *verifyFlags, p *verifyPlan) error {
	var status *term.Status
	if env.IO.ErrIsTTY && !env.IO.OutIsTTY && !env.G.Quiet && len(p.inputs) > 1 {
		var done atomic.Int64
		start := time.Now()
		total := len(p.inputs)
		p.opts.Progress = func(n int) { done.Store(int64(n)) }
		status = term.StartStatus(env.IO.Err, 100*time.Millisecond, func() string {
			n := done.Load()
			return fmt.Sprintf("verifying %d/%d  %.0f addr/s", n, total, float64(n)/max(time.Since(start).Seconds(), 1e-3))
		})
	}
	var cw *csv.Writer
	var werr error
	if f.csv {
		cw, werr = verify.NewCSV(env.IO.Out)
	}
	failed := map[verify.Verdict]int{}
	expectFailed := 0
	emit := func(r *verify.Result) {
		if werr != nil {
			return
		}
		exit := verdictExit(f, p, r)
		if p.failOn[r.Verdict] {
			failed[r.Verdict]++
		}
		if f.expect != "" && exit == exitcode.Check {
			expectFailed++
		}
		switch {
		case f.csv:
			werr = cw.Write(r.CSVRecord(exit))
			cw.Flush()
			if werr == nil {
				werr = cw.Error()
			}
		case env.G.JSON:
			werr = env.printJSON(rowJSON(f, r, exit, nil))
		case !env.G.Quiet:
			_, werr = fmt.Fprintln(env.IO.Out, r.TableLine())
		}
	}
	sum, err := verify.Run(ctx, p.opts, p.inputs, emit)
	status.Stop()
	if err != nil {
		return err
	}
	if werr != nil {
		return &exitcode.Error{Code: exitcode.Network, Msg: "cannot write the results: " + werr.Error(), Hint: "check where standard output goes"}
	}
	if !env.G.Quiet {
		fmt.Fprintf(env.IO.Err, "smtpx: %s\n", sum)
	}
	if ctx.Err() != nil {
		return &exitcode.Error{Code: exitcode.Network, Msg: "interrupted: the remaining addresses are reported unknown", Hint: "run again for the rest"}
	}
	n := expectFailed
	var parts []string
	for _, v := range verify.Verdicts {
		if failed[v] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", failed[v], v))
			n += failed[v]
		}
	}
	if expectFailed > 0 {
		parts = append(parts, fmt.Sprintf("%d not as expected (--expect %s)", expectFailed, f.expect))
	}
	if len(parts) > 0 {
		return &exitcode.Error{Code: exitcode.Check, Msg: "failed the check: " + strings.Join(parts, ", "),
			Hint: "see the rows for the addresses and reasons"}
	}
	return nil
}
