package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/load"
	"github.com/smtpx/smtpx/internal/term"
)

// loadFlags are send's load-mode flags (--count, --concurrency, ...).
type loadFlags struct {
	cmd           *cobra.Command
	count         int
	concurrency   int
	perConnection int
	rate          float64
	duration      time.Duration
	merge         bool
	noResume      bool
}

var loadFlagNames = []string{"count", "concurrency", "per-connection", "rate", "duration"}

func (l *loadFlags) register(c *cobra.Command) {
	l.cmd = c
	fs := c.Flags()
	fs.IntVar(&l.count, "count", 0, "load mode: send the message `N` times and print a summary instead of a transcript")
	fs.IntVar(&l.concurrency, "concurrency", 1, "load mode: `C` connections at once")
	fs.IntVar(&l.perConnection, "per-connection", 0, "load mode: at most `M` messages per connection, then a new one (0: no limit)")
	fs.Float64Var(&l.rate, "rate", 0, "load mode: at most `R` messages per second in all (0: as fast as the server takes them)")
	fs.DurationVar(&l.duration, "duration", 0, "load mode: keep sending for `D` (e.g. 30s), or until --count is reached")
	fs.BoolVar(&l.noResume, "tls-no-resume", false, "load mode: a full TLS handshake on every new connection, no session resumption (curl's --no-sessionid)")
	fs.BoolVar(&l.merge, "merge", false, "merge the --json results of load runs in the FILEs given as arguments (- for standard input) and print them as one run")
}

// runMerge prints the load results in files as one run: what several
// processes or machines measured side by side, their histograms added up.
func runMerge(env *Env, c *cobra.Command, files []string) error {
	var bad error
	c.Flags().Visit(func(fl *pflag.Flag) {
		if bad == nil && fl.Name != "merge" && c.LocalFlags().Lookup(fl.Name) != nil {
			bad = exitcode.Usagef("give --merge only the result files (and --json or -q)", "--merge cannot be combined with --%s", fl.Name)
		}
	})
	if bad != nil {
		return bad
	}
	var runs []*load.Result
	for _, name := range files {
		rs, err := readRuns(env, name)
		if err != nil {
			return err
		}
		runs = append(runs, rs...)
	}
	res := load.Merge(runs...)
	code, err := res.Exit()
	if jerr := env.show(func() any { return res.ToJSON(code, err, Hint(err)) },
		func(w io.Writer) error { res.WriteSummary(w); return nil }); jerr != nil {
		return jerr
	}
	return err
}

func readRuns(env *Env, name string) ([]*load.Result, error) {
	if name == "-" {
		return load.ReadResults(env.IO.In, "standard input")
	}
	fh, err := os.Open(name)
	if err != nil {
		return nil, exitcode.Usagef("give files that --json wrote in load mode", "cannot read %s: %v", name, errors.Unwrap(err))
	}
	defer fh.Close()
	return load.ReadResults(fh, name)
}

// active reports whether load mode was asked for: any of its flags given.
func (l *loadFlags) active() bool {
	if l.cmd == nil {
		return false
	}
	for _, n := range loadFlagNames {
		if l.cmd.Flags().Changed(n) {
			return true
		}
	}
	return false
}

func (l *loadFlags) check(f *sendFlags, plan *sendPlan) error {
	switch {
	case l.count < 0:
		return exitcode.Usagef("give --count a positive number", "--count must not be negative")
	case l.count == 0 && l.duration == 0:
		return exitcode.Usagef("add --count N or --duration D", "load mode needs --count or --duration")
	case l.concurrency < 1:
		return exitcode.Usagef("give --concurrency 1 or more", "--concurrency must be at least 1")
	case l.perConnection < 0:
		return exitcode.Usagef("give --per-connection a positive number, or 0 for no limit", "--per-connection must not be negative")
	case l.rate < 0:
		return exitcode.Usagef("give --rate in messages per second, or 0 for no limit", "--rate must not be negative")
	case l.duration < 0:
		return exitcode.Usagef("give --duration as a positive duration such as 30s", "--duration must not be negative")
	case plan.tgt == nil:
		// Routing by MX picks a server per recipient domain and retries
		// the next MX on failure: that measures DNS and failover, not a
		// server. A load test names its server.
		return exitcode.Usagef("give the server to test with --server HOST[:PORT]", "load mode needs --server")
	case f.quitAfter != "":
		return exitcode.Usagef("drop --quit-after, or drop the load flags", "--quit-after cannot be combined with load mode")
	}
	return nil
}

func runLoad(ctx context.Context, env *Env, f *sendFlags, plan *sendPlan) error {
	l := &f.load
	if err := l.check(f, plan); err != nil {
		return err
	}
	o := plan.opts
	// No transcript: 10,000 interleaved dialogues are unreadable, and
	// formatting them would cost more than sending.
	o.Session.Observer = nil
	o.Session.TraceBody = false
	r := load.New(load.Options{Send: &o, Rcpts: plan.env.Rcpts, Count: l.count, Duration: l.duration,
		Concurrency: l.concurrency, PerConnection: l.perConnection, Rate: l.rate, NoResume: l.noResume})

	// The first interrupt (the run's context, see Main) stops new messages
	// and lets those in flight finish; a second one kills the process.

	var status *term.Status
	if env.IO.ErrIsTTY && !env.G.Quiet {
		status = term.StartStatus(env.IO.Err, 200*time.Millisecond, func() string { return progressLine(r) })
	}
	res := r.Run(ctx)
	status.Stop()
	code, err := res.Exit()
	if jerr := env.show(func() any { return res.ToJSON(code, err, Hint(err)) },
		func(w io.Writer) error { res.WriteSummary(w); return nil }); jerr != nil {
		return jerr
	}
	return err
}

// progressLine is the load run's status line: sent, accepted, deferred,
// rejected, errors and the rate so far.
func progressLine(r *load.Runner) string {
	c := r.Snapshot()
	rate := 0.0
	if s := c.Elapsed.Seconds(); s > 0 {
		rate = float64(c.Sent) / s
	}
	return fmt.Sprintf("sent %d  accepted %d  deferred %d  rejected %d  errors %d  %.0f msg/s",
		c.Sent, c.Accepted, c.Deferred, c.Rejected, c.Failed, rate)
}
