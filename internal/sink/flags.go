package sink

import (
	"errors"
	"regexp"
	"time"

	"github.com/smtpx/smtpx/internal/exitcode"
)

// Flags are `smtpx sink`'s flags as given, before Options checks them
// and turns them into Options.
type Flags struct {
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
	// ListenGiven is set when --listen was on the command line.
	ListenGiven bool
	// Timeout is the global --timeout when it was given explicitly: for
	// the sink, the older spelling of --run-for.
	Timeout time.Duration
	// RunFlag is the flag that set the run time, for messages; Options
	// sets it.
	RunFlag string
}

// Options checks the flags and turns them into Options; every error is a
// usage error (exit 2) with a hint. getenv reads $SMTPX_SINK_AUTH; warnings are about
// how the accounts are kept.
func (o *Flags) Options(getenv func(string) string) (so Options, warnings []string, err error) {
	so = Options{
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
	if o.Stdio && (o.ListenGiven || o.ReadyFile != "") {
		return so, nil, exitcode.Usagef("drop --listen and --ready-file: with --stdio the client is on stdin and stdout",
			"--stdio cannot be combined with --listen or --ready-file")
	}
	for _, l := range o.Listen {
		a, err := ParseListen(l)
		if err != nil {
			return so, nil, exitcode.Usagef("use HOST:PORT such as 127.0.0.1:2525, or unix:/path/to/socket", "%v", err)
		}
		so.Listen = append(so.Listen, a)
	}
	users := map[string]string{}
	for _, a := range o.Auth {
		u, p, err := ParseAuth(a)
		if err != nil {
			return so, nil, exitcode.Usagef("give an account as --auth alice:secret", "%v", err)
		}
		users[u] = p
	}
	if o.AuthFile != "" {
		w, err := LoadAccounts(o.AuthFile, users)
		if err != nil {
			return so, nil, Usage(err)
		}
		if w != "" {
			warnings = append(warnings, w)
		}
	}
	if v := getenv(EnvAuth); v != "" {
		if err := ParseAccounts(v, "$"+EnvAuth, users); err != nil {
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
	n, err := ParseSize(o.MaxSize)
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
		name, dur, err := ParseDelay(d)
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
	o.RunFlag = "--run-for"
	switch {
	case o.RunFor < 0:
		return so, nil, exitcode.Usagef("give a duration such as --run-for 60s (0: run until stopped)", "--run-for must not be negative")
	case o.Timeout > 0 && o.RunFor > 0:
		return so, nil, exitcode.Usagef("give the run time once, with --run-for", "--run-for and --timeout cannot be combined (for sink, --timeout is the older spelling of --run-for)")
	case o.Timeout > 0:
		so.Deadline, o.RunFlag = o.Timeout, "--timeout"
	default:
		so.Deadline = o.RunFor
	}
	if o.Grace <= 0 {
		return so, nil, exitcode.Usagef("give a positive duration such as --grace 10s", "--grace must be positive")
	}
	so.MessageGrace = o.Grace
	so.Grace = min(DefaultGrace, o.Grace)
	if o.IdleTimeout <= 0 {
		return so, nil, exitcode.Usagef("give a positive duration such as --idle-timeout 5m", "--idle-timeout must be positive")
	}
	so.IdleTimeout = o.IdleTimeout
	return so, warnings, nil
}

// Usage turns an error from the sink's options (an *OptionError) into a
// usage error (exit 2) with the hint the error carries.
func Usage(err error) error {
	hint := "run 'smtpx sink --help' for the flags"
	var oe *OptionError
	if errors.As(err, &oe) && oe.Hint != "" {
		hint = oe.Hint
	}
	return &exitcode.Error{Code: exitcode.Usage, Msg: err.Error(), Hint: hint, Err: err}
}
