// Package cmd holds the cobra command tree: one file per verb, each turning
// flags into an Options struct and handing it to a run function. Logic lives
// in internal/ packages; this package only wires them together.
package cmd

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/help"
	"github.com/smtpx/smtpx/internal/term"
)

// BuildInfo is set by the release build.
type BuildInfo struct {
	Version, Commit, Date string
}

// Globals are the flags every verb shares.
type Globals struct {
	Color          string
	JSON           bool
	Verbose        bool
	Quiet          bool
	Timeout        time.Duration
	ConnectTimeout time.Duration
}

// Env is what a verb receives: its streams, the global flags and build info.
type Env struct {
	IO    *term.IO
	G     *Globals
	Build BuildInfo
	// out counts what reached stdout; jsonWanted is --json as given on
	// the command line, known even when flag parsing failed.
	out        *countingWriter
	jsonWanted bool
	// longs build each verb's --help text; see lazyLong.
	longs map[*cobra.Command]func() string
}

// lazyLong gives c the --help text long returns. newRoot sets it at once
// for a whole tree (help, completion, man pages) and only when help is
// shown for a tree built for one verb's run: reading the verb's text and
// formatting its exit statuses is work, and pages touched, that no run
// needs.
func (e *Env) lazyLong(c *cobra.Command, long func() string) {
	if e.longs == nil {
		e.longs = map[*cobra.Command]func() string{}
	}
	e.longs[c] = long
}

// countingWriter notes whether anything was written through it.
type countingWriter struct {
	w     io.Writer
	wrote bool
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.wrote = c.wrote || len(p) > 0
	return c.w.Write(p)
}

// Unwrap is the stream behind, for terminal queries (its width).
func (c *countingWriter) Unwrap() io.Writer { return c.w }

// ColorOut reports whether stdout should be coloured.
func (e *Env) ColorOut() bool {
	c, _ := e.IO.Color(e.G.Color, e.IO.OutIsTTY)
	return c
}

// palette is the colours for stdout.
func (e *Env) palette() *term.Palette { return term.NewPalette(e.ColorOut()) }

// ColorErr reports whether stderr should be coloured.
func (e *Env) ColorErr() bool {
	c, _ := e.IO.Color(e.G.Color, e.IO.ErrIsTTY)
	return c
}

// verb is one subcommand: its name and the constructor that builds it.
type verb struct {
	name string
	new  func(*Env) *cobra.Command
}

// verbs are the subcommands. Each is built only when needed (see newRoot).
var verbs = []verb{
	{"codes", func(e *Env) *cobra.Command { return newCodesCmd(e, nil) }},
	{"config", newConfigCmd},
	{"ehlo", func(e *Env) *cobra.Command { return newEhloCmd(e, nil) }},
	{"probe", func(e *Env) *cobra.Command { return newProbeCmd(e, nil) }},
	{"send", func(e *Env) *cobra.Command { return newSendCmd(e, nil) }},
	{"sink", newSinkCmd},
	{"verify", func(e *Env) *cobra.Command { return newVerifyCmd(e, nil) }},
}

// StdIO returns the process's streams.
func StdIO() *term.IO { return term.System() }

// NewRoot builds the whole command tree.
func NewRoot(env *Env) *cobra.Command { return newRoot(env, "") }

// newRoot builds the root command with every verb, or with only the verb
// named only. Building a verb means allocating all its flags, which costs
// start-up time on every run; a command line that names its verb first
// needs no other (help, completion and typos get the whole tree).
func newRoot(env *Env, only string) *cobra.Command {
	g := env.G
	root := &cobra.Command{
		Use:           "smtpx",
		Short:         "An SMTP swiss-army tool: send, ehlo, probe, verify, codes, sink",
		Version:       fmt.Sprintf("%s (commit %s, built %s)", env.Build.Version, env.Build.Commit, env.Build.Date),
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if _, err := env.IO.Color(g.Color, false); err != nil {
				return exitcode.Usagef("use --color auto, --color always or --color never", "%v", err)
			}
			if g.Timeout <= 0 {
				return exitcode.Usagef("give a positive duration such as 30s", "--timeout must be positive")
			}
			if g.ConnectTimeout <= 0 {
				return exitcode.Usagef("give a positive duration such as 10s", "--connect-timeout must be positive")
			}
			if g.Verbose && g.Quiet {
				return exitcode.Usagef("use one of -v and -q", "-v and -q cannot be combined")
			}
			return nil
		},
	}
	if only == "" {
		// Only the root's own help shows this; a verb's run never does.
		root.Long = longHelp(help.Body("smtpx"), help.Examples("smtpx"))
	} else {
		// Nor does a verb's run need the completion command.
		root.CompletionOptions.DisableDefaultCmd = true
	}
	root.SetVersionTemplate("smtpx {{.Version}}\n")
	pf := root.PersistentFlags()
	pf.StringVar(&g.Color, "color", "auto", "colour output: auto, always or never")
	pf.BoolVar(&g.JSON, "json", false, "print JSON instead of the human transcript")
	pf.BoolVarP(&g.Verbose, "verbose", "v", false, "show more (full transcripts, message data)")
	pf.BoolVarP(&g.Quiet, "quiet", "q", false, "print only errors")
	pf.DurationVar(&g.Timeout, "timeout", 30*time.Second, "how long to wait for each reply")
	pf.DurationVar(&g.ConnectTimeout, "connect-timeout", 10*time.Second, "how long to wait for a connection, and for each DNS answer")
	_ = root.RegisterFlagCompletionFunc("color", cobra.FixedCompletions([]string{"auto", "always", "never"}, cobra.ShellCompDirectiveNoFileComp))
	root.SetOut(env.IO.Out)
	root.SetErr(env.IO.Err)
	root.SetIn(env.IO.In)
	root.SetFlagErrorFunc(flagError)
	for _, v := range verbs {
		if only == "" || v.name == only {
			root.AddCommand(v.new(env))
		}
	}
	if only == "" {
		for c, long := range env.longs {
			c.Long = long()
		}
		return root
	}
	// A parentless command's HelpFunc is cobra's default, which renders
	// the command it is given.
	show := (&cobra.Command{}).HelpFunc()
	root.SetHelpFunc(func(c *cobra.Command, args []string) {
		if long := env.longs[c]; long != nil && c.Long == "" {
			c.Long = long()
		}
		show(c, args)
	})
	return root
}

// jsonFlag reports whether args ask for --json, before the "--" that ends
// the flags.
func jsonFlag(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "--json", "--json=true":
			return true
		}
	}
	return false
}

// builtin are the commands cobra adds itself.
var builtin = map[string]bool{"help": true, "completion": true, cobra.ShellCompRequestCmd: true, cobra.ShellCompNoDescRequestCmd: true}

// invokedVerb returns args[0] when it names a registered verb, else "".
func invokedVerb(args []string) string {
	if len(args) == 0 {
		return ""
	}
	for _, v := range verbs {
		if v.name == args[0] {
			return v.name
		}
	}
	return ""
}

// waits reports whether a verb can wait on a peer, and so needs the
// run's own interrupt handling. The offline verbs (codes, config, help,
// completion) end on their own, and the default handling ends them just
// as well (status 130): os/signal's watcher costs each of their runs
// about a millisecond, a third of their start-up.
func waits(verb string) bool {
	switch verb {
	case "send", "ehlo", "probe", "verify", "sink":
		return true
	}
	return false
}

// Main runs smtpx with args and returns the exit status.
func Main(args []string, std *term.IO, build BuildInfo) int {
	cw := &countingWriter{w: std.Out}
	streams := *std
	streams.Out = cw
	env := &Env{IO: &streams, G: &Globals{}, Build: build, out: cw, jsonWanted: jsonFlag(args)}
	verb := invokedVerb(args)
	root := newRoot(env, verb)
	if verb == "" && len(args) > 0 && !strings.HasPrefix(args[0], "-") && !builtin[args[0]] {
		return reportError(env, unknownVerb(root, args[0]))
	}
	// One context for the whole run: the first Ctrl-C or SIGTERM ends it
	// (each verb stops as cleanly as it can), and restores the default
	// handling so that a second one ends the process at once.
	ctx := context.Background()
	if waits(verb) {
		var stop context.CancelFunc
		ctx, stop = signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
		defer stop()
		context.AfterFunc(ctx, stop)
	}
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	return reportError(env, err)
}
