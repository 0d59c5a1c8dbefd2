package sink

import (
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/smtpx/smtpx/internal/secret"
)

// DefaultListen is where the sink listens when no address is given.
const DefaultListen = "127.0.0.1:2525"

// Options configure a Sink. The zero value (plus Listen) is a plain SMTP
// server that accepts every message within the default limits and stores
// nothing.
type Options struct {
	Listen   []Addr // where to listen; at least one
	Hostname string // name in the banner and the EHLO reply

	Dir     string // store each message as DIR/<time>-<seq>.eml
	Maildir string // or deliver into this Maildir (tmp/ then new/)

	TLS          bool   // offer STARTTLS
	TLSOnConnect bool   // TLS from the first byte (implicit TLS)
	CertFile     string // PEM certificate chain; empty: self-signed
	KeyFile      string // PEM private key for CertFile
	SaveCert     string // write the self-signed certificate here (PEM)

	Users             map[string]string // AUTH accounts: user -> password
	AuthAny           bool              // accept any user name and password
	AllowInsecureAuth bool              // allow AUTH without TLS

	LMTP bool // speak LMTP (RFC 2033) instead of SMTP

	RejectRcpt   []*regexp.Regexp // recipients answered 550 5.1.1
	TempfailRcpt []*regexp.Regexp // recipients answered 450 4.2.0
	RejectData   bool             // every message answered 554 5.7.1 after DATA
	TempfailData bool             // every message answered 451 4.3.0 after DATA
	Greylist     bool             // first try of each sender/recipient/IP: 450 4.7.1
	Delays       map[string]time.Duration

	// Limits on what one client can make the sink hold. Zero means the
	// default; each bounds memory whatever a client sends.
	MaxSize  int64 // largest message in bytes (SIZE); 0: DefaultMaxSize; negative: no limit
	MaxRcpts int   // recipients per transaction; 0: DefaultMaxRcpts
	MaxConns int   // connections open at once; 0: DefaultMaxConns

	ExitAfter int           // stop after this many accepted messages; 0: never
	Deadline  time.Duration // stop after this long; 0: never
	ReadyFile string        // write the listening addresses here once bound

	// IdleTimeout closes a connection that sends nothing for this long
	// (RFC 5321 §4.5.3.2.7 suggests five minutes); 0 means that default.
	IdleTimeout time.Duration
	// Grace is how long, once shutdown starts, a connection that is not in
	// the middle of a message may still talk (typically to send QUIT)
	// before it is told 421 and closed; 0 means DefaultGrace. It never
	// goes past MessageGrace.
	Grace time.Duration
	// MessageGrace is how long, once shutdown starts, a message in flight
	// may still take. Then every connection is told 421 and closed, so a
	// stop (and Deadline) is a hard bound on the run; 0 means
	// DefaultMessageGrace.
	MessageGrace time.Duration

	// MaxAuthFailures is how many failed AUTH attempts one connection may
	// make: the last one is answered 421 and the connection closed; 0
	// means DefaultMaxAuthFailures.
	MaxAuthFailures int
	// AuthFailDelay holds back the reply to the first failed AUTH; each
	// further failure waits twice as long as the one before. 0 means
	// DefaultAuthFailDelay.
	AuthFailDelay time.Duration

	// Observer receives connections, transcript lines and messages; nil
	// discards them.
	Observer Observer
	// Transcript asks for Observer.Line calls (the -v transcript). Off,
	// the sink does not track the dialogue at all.
	Transcript bool
}

// Defaults for the limits in Options, documented in `smtpx sink --help`.
const (
	// DefaultMaxSize is large for a test message and small enough that a
	// capture server's disk and summaries stay manageable.
	DefaultMaxSize = 64 << 20
	// DefaultMaxRcpts is Postfix's smtpd_recipient_limit; RFC 5321
	// §4.5.3.1.8 requires at least 100.
	DefaultMaxRcpts = 1000
	// DefaultMaxConns is Postfix's default_process_limit.
	DefaultMaxConns = 100
	// DefaultGrace is the default Options.Grace: long enough for any live
	// client to send QUIT after its last reply, short enough that an idle
	// pooled connection does not hold up a CI job.
	DefaultGrace = 5 * time.Second
	// DefaultMessageGrace is the default Options.MessageGrace.
	DefaultMessageGrace = 10 * time.Second
	// DefaultIdleTimeout is RFC 5321's suggested server timeout.
	DefaultIdleTimeout = 5 * time.Minute
	// DefaultMaxAuthFailures and DefaultAuthFailDelay make guessing
	// passwords slow: three tries per connection, 1 s, 2 s and 4 s apart.
	DefaultMaxAuthFailures = 3
	DefaultAuthFailDelay   = time.Second
	// MaxPathLen is the longest address the sink takes in MAIL FROM or
	// RCPT TO, twice RFC 5321's 256-octet path (§4.5.3.1.3): with
	// DefaultMaxRcpts it bounds a transaction's recipients to 512 KiB.
	MaxPathLen = 512
	// MaxLineLength is the longest command or message line. It is far
	// above RFC 5321's 1000 (§4.5.3.1.6) because the sink's job is to
	// capture what a client sends, not to police it.
	MaxLineLength = 64 << 10
)

// OptionError is a problem with the options, found before anything is
// bound: a usage error, with a hint that says how to fix it.
type OptionError struct {
	Msg  string
	Hint string
	Err  error
}

func (e *OptionError) Error() string { return e.Msg }

func (e *OptionError) Unwrap() error { return e.Err }

func optionErr(hint, format string, a ...any) *OptionError {
	return &OptionError{Msg: fmt.Sprintf(format, a...), Hint: hint}
}

// Addr is a parsed --listen value.
type Addr struct {
	Network string // "tcp" or "unix"
	Address string // host:port or socket path
}

func (a Addr) String() string {
	if a.Network == "unix" {
		return "unix:" + a.Address
	}
	return a.Address
}

// ParseListen parses a --listen value: HOST:PORT, [IPv6]:PORT, or a unix
// socket as unix:/path or a path starting with "/".
func ParseListen(s string) (Addr, error) {
	switch {
	case s == "":
		return Addr{}, fmt.Errorf("empty --listen address")
	case strings.HasPrefix(s, "unix:"):
		p := strings.TrimPrefix(s, "unix:")
		if p == "" {
			return Addr{}, fmt.Errorf("--listen %q: no socket path after unix:", s)
		}
		return Addr{Network: "unix", Address: p}, nil
	case strings.HasPrefix(s, "/"):
		return Addr{Network: "unix", Address: s}, nil
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return Addr{}, fmt.Errorf("--listen %q: want HOST:PORT or unix:/path", s)
	}
	if strings.ContainsAny(host, " \t\r\n") {
		return Addr{}, fmt.Errorf("--listen %q: bad host", s)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return Addr{}, fmt.Errorf("--listen %q: port must be a number from 0 to 65535", s)
	}
	return Addr{Network: "tcp", Address: net.JoinHostPort(host, port)}, nil
}

// ParseSize parses a byte count: a plain number or one with a K, M or G
// suffix (powers of 1024, an optional trailing B or iB accepted).
func ParseSize(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "B"), "I")
	mult := int64(1)
	if t != "" {
		switch t[len(t)-1] {
		case 'K':
			mult = 1 << 10
		case 'M':
			mult = 1 << 20
		case 'G':
			mult = 1 << 30
		}
		if mult > 1 {
			t = t[:len(t)-1]
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 || n > (1<<53)/mult {
		return 0, fmt.Errorf("bad size %q: want bytes such as 1000000, 512K or 10M", s)
	}
	return n * mult, nil
}

// DelayPoints are the replies --delay can hold back, with what each delays.
var DelayPoints = []struct{ Name, What string }{
	{"connect", "the banner (and, with implicit TLS, the handshake)"},
	{"ehlo", "the reply to the first EHLO/HELO/LHLO and to the one after STARTTLS"},
	{"auth", "the first reply to AUTH"},
	{"mail", "the reply to MAIL FROM"},
	{"rcpt", "the reply to each RCPT TO"},
	{"data", "the final reply, after the whole message arrived"},
}

var delayAlias = map[string]string{"helo": "ehlo", "lhlo": "ehlo", "banner": "connect"}

// ParseDelay parses CMD:DURATION, e.g. rcpt:2s.
func ParseDelay(s string) (string, time.Duration, error) {
	name, dur, ok := strings.Cut(s, ":")
	if !ok {
		return "", 0, fmt.Errorf("--delay %q: want CMD:DURATION such as rcpt:2s", s)
	}
	name = strings.ToLower(strings.TrimSpace(name))
	if a, ok := delayAlias[name]; ok {
		name = a
	}
	known := false
	var names []string
	for _, p := range DelayPoints {
		names = append(names, p.Name)
		known = known || p.Name == name
	}
	if !known {
		return "", 0, fmt.Errorf("--delay %q: unknown command %q (one of %s)", s, name, strings.Join(names, ", "))
	}
	d, err := time.ParseDuration(strings.TrimSpace(dur))
	if err != nil || d < 0 {
		return "", 0, fmt.Errorf("--delay %q: bad duration %q (e.g. 500ms, 2s, 1m)", s, dur)
	}
	return name, d, nil
}

// ParseAuth parses USER:PASSWORD; the password may itself contain colons.
func ParseAuth(s string) (user, pass string, err error) {
	user, pass, ok := strings.Cut(s, ":")
	if !ok || user == "" {
		return "", "", fmt.Errorf("--auth %q: want USER:PASSWORD", redactAuth(s))
	}
	return user, pass, nil
}

func redactAuth(s string) string {
	if u, _, ok := strings.Cut(s, ":"); ok {
		return u + ":********"
	}
	return s
}

// EnvAuth is the environment variable the sink takes accounts from, in
// the --auth-file format, so that passwords need not be in argv.
const EnvAuth = "SMTPX_SINK_AUTH"

// maxAccountsFile bounds what --auth-file reads: a wrong path (a log, a
// disk image) fails instead of filling memory.
const maxAccountsFile = 1 << 20

// ParseAccounts adds the accounts in text to users: one USER:PASSWORD per
// line, the password running to the line end (colons included); blank
// lines and lines starting with # are skipped. source names the text in
// errors, which give the line number but never its content.
func ParseAccounts(text, source string, users map[string]string) error {
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSuffix(line, "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		user, pass, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(user) == "" {
			return fmt.Errorf("%s line %d: want USER:PASSWORD", source, i+1)
		}
		users[user] = pass
	}
	return nil
}

// LoadAccounts adds the accounts in the file at path (see ParseAccounts)
// to users. Like every file that holds secrets, it is refused when anyone
// but its owner can write it (they could add an account); when others can
// read it, the returned warning says so.
func LoadAccounts(path string, users map[string]string) (warning string, err error) {
	const flag = "--auth-file"
	f, err := os.Open(path)
	if err != nil {
		return "", &OptionError{Msg: fmt.Sprintf("%s: %v", flag, err), Hint: "give a file with one USER:PASSWORD per line", Err: err}
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", &OptionError{Msg: fmt.Sprintf("%s: %v", flag, err), Hint: "give a file with one USER:PASSWORD per line", Err: err}
	}
	if !fi.Mode().IsRegular() {
		return "", optionErr("give a file with one USER:PASSWORD per line", "%s %s: not a regular file", flag, path)
	}
	if othersWrite, othersRead := secret.Exposure(fi); othersWrite {
		return "", optionErr("chmod 600 "+path+" (only its owner should write or read it)",
			"%s %s: others can write it (mode %04o)", flag, path, fi.Mode().Perm())
	} else if othersRead {
		warning = fmt.Sprintf("%s %s: others can read it (mode %04o); chmod 600 it", flag, path, fi.Mode().Perm())
	}
	b, err := io.ReadAll(io.LimitReader(f, maxAccountsFile+1))
	if err != nil {
		return "", &OptionError{Msg: fmt.Sprintf("%s: %v", flag, err), Hint: "give a file with one USER:PASSWORD per line", Err: err}
	}
	if len(b) > maxAccountsFile {
		return "", optionErr("give a file with one USER:PASSWORD per line", "%s %s: larger than %d MiB, not an accounts file", flag, path, maxAccountsFile>>20)
	}
	if err := ParseAccounts(string(b), flag+" "+path, users); err != nil {
		return "", &OptionError{Msg: err.Error(), Hint: "write one USER:PASSWORD per line (# starts a comment)", Err: err}
	}
	return warning, nil
}
