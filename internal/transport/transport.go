// Package transport makes the connection a session speaks over when it is
// more than a plain TCP or unix-socket dial: a child process's stdin and
// stdout (--pipe), a bound local address (--local-address), a SOCKS5 proxy
// (--proxy, RFC 1928 and RFC 1929), and a HAProxy PROXY protocol header
// (v1 or v2) written before the banner is read (--proxy-protocol). Each is
// a net.Conn handed to the session through session.Options.Dial, so the
// SMTP dialogue, its deadlines and its transcript are the same over all of
// them.
//
// New checks the options and returns usage errors (exit 2) before anything
// is started or sent; Dial's own failures are network errors (exit 3) whose
// hint says which part of the path failed.
package transport

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/net/proxy"

	"github.com/smtpx/smtpx/internal/exitcode"
)

// Network is the session network name for a --pipe connection.
const Network = "pipe"

// Options are the transport flags as the user gave them.
type Options struct {
	// Pipe is a command line to speak SMTP with over its stdin and stdout.
	// It is split into words as a POSIX shell would ('quotes', "quotes",
	// backslashes, $VAR) but run without a shell.
	Pipe string
	// LocalAddress binds the client side: ADDR, ADDR:PORT, [IPv6]:PORT or
	// :PORT.
	LocalAddress string
	// Proxy is a SOCKS5 proxy URL: socks5://[user:pass@]host[:port]
	// resolves the server's name here, socks5h:// through the proxy.
	Proxy string
	// ProxyFromEnv takes the proxy from $ALL_PROXY (or $all_proxy) when
	// Proxy is empty, and honours $NO_PROXY, as curl does.
	ProxyFromEnv bool
	// ProxyProtocol is "", "v1" or "v2": the HAProxy PROXY header to send
	// first.
	ProxyProtocol string
	// ProxySource and ProxyDest are the addresses the header announces,
	// ADDR:PORT; empty means the connection's own local and remote
	// addresses.
	ProxySource, ProxyDest string
	// Getenv reads the environment ($VAR in Pipe, $ALL_PROXY, $NO_PROXY);
	// nil reads nothing.
	Getenv func(string) string
	// KillGrace is how long a --pipe child may take to exit once its
	// stdin is closed before its process group is killed; 0 means
	// DefaultKillGrace.
	KillGrace time.Duration
	// Socket is set when the session dials a unix socket: nothing here but
	// the PROXY header applies to it.
	Socket bool
}

// DefaultKillGrace is how long a --pipe child has to exit after the
// dialogue ends.
const DefaultKillGrace = 2 * time.Second

// Dialer makes connections as Options ask. The zero Dialer (from options
// that ask for nothing) dials plain TCP.
type Dialer struct {
	argv      []string // --pipe, split
	pipeLine  string
	local     *net.TCPAddr
	proxyAddr string // host:port of the SOCKS5 proxy
	proxyAuth *proxy.Auth
	remoteDNS bool   // socks5h
	noProxy   string // $NO_PROXY: the hosts that bypass the proxy
	ppVersion byte
	ppSrc     netip.AddrPort
	ppDst     netip.AddrPort
	killGrace time.Duration
	socket    bool
}

// New checks o. It returns nil (and no error) when o asks for nothing, so
// the session dials as usual. Every error is a usage error with a hint.
func New(o Options) (*Dialer, error) {
	getenv := o.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	d := &Dialer{killGrace: o.KillGrace, socket: o.Socket}
	if d.killGrace <= 0 {
		d.killGrace = DefaultKillGrace
	}
	if o.Pipe != "" {
		argv, err := SplitCommand(o.Pipe, getenv)
		if err != nil {
			return nil, err
		}
		d.argv, d.pipeLine = argv, o.Pipe
		if o.LocalAddress != "" || o.Proxy != "" {
			return nil, exitcode.Usagef("drop --local-address and --proxy: a --pipe child is not reached over the network",
				"--pipe cannot be combined with --local-address or --proxy")
		}
	}
	if o.Socket && (o.LocalAddress != "" || o.Proxy != "") {
		return nil, exitcode.Usagef("drop --local-address and --proxy: a unix socket is not reached over the network",
			"--socket cannot be combined with --local-address or --proxy")
	}
	if o.LocalAddress != "" {
		a, err := parseLocal(o.LocalAddress)
		if err != nil {
			return nil, err
		}
		d.local = a
	}
	proxyURL, from := o.Proxy, "--proxy"
	if proxyURL == "" && o.ProxyFromEnv && o.Pipe == "" && !o.Socket {
		for _, v := range []string{"ALL_PROXY", "all_proxy"} {
			if proxyURL = getenv(v); proxyURL != "" {
				from = "$" + v
				break
			}
		}
		if proxyURL != "" {
			d.noProxy = firstEnv(getenv, "NO_PROXY", "no_proxy")
		}
	}
	if proxyURL != "" {
		if err := d.parseProxy(proxyURL, from); err != nil {
			return nil, err
		}
	}
	if err := d.parseProxyProtocol(o); err != nil {
		return nil, err
	}
	if d.argv == nil && d.local == nil && d.proxyAddr == "" && d.ppVersion == 0 {
		return nil, nil
	}
	return d, nil
}

func firstEnv(getenv func(string) string, names ...string) string {
	for _, n := range names {
		if v := getenv(n); v != "" {
			return v
		}
	}
	return ""
}

// Pipe reports whether the dialer speaks to a child process.
func (d *Dialer) Pipe() bool { return d != nil && d.argv != nil }

// PipeLine is the --pipe command line as given.
func (d *Dialer) PipeLine() string { return d.pipeLine }

// Proxied reports whether connections go through a SOCKS5 proxy.
func (d *Dialer) Proxied() bool { return d != nil && d.proxyAddr != "" }

// SplitCommand splits a --pipe command line into words the way a POSIX
// shell does, expanding $VAR from getenv, and checks that the program can
// be found. Operators (|, ;, &, >, <) and command substitution are refused:
// there is no shell to run them.
func SplitCommand(line string, getenv func(string) string) ([]string, error) {
	const hint = "give one command with its arguments, e.g. --pipe '/usr/sbin/sendmail -bs'; it runs without a shell"
	argv, err := splitWords(line, getenv)
	if err != nil {
		return nil, exitcode.Usagef(hint, "--pipe %q: %v", line, err)
	}
	if len(argv) == 0 {
		return nil, exitcode.Usagef(hint, "--pipe: no command given")
	}
	if _, err := exec.LookPath(argv[0]); err != nil {
		return nil, &exitcode.Error{Code: exitcode.Usage, Err: err, Msg: fmt.Sprintf("--pipe: cannot run %q: %v", argv[0], lookPathReason(err)),
			Hint: "give the program's full path, or check that it is installed and executable"}
	}
	return argv, nil
}

// lookPathReason is why LookPath failed, without the program's name,
// which the message already gives.
func lookPathReason(err error) string {
	var pe *fs.PathError
	var ee *exec.Error
	switch {
	case errors.As(err, &pe):
		return pe.Err.Error()
	case errors.As(err, &ee):
		return ee.Err.Error()
	}
	return err.Error()
}

func parseLocal(s string) (*net.TCPAddr, error) {
	const hint = "give an address of this machine: 192.0.2.10, 192.0.2.10:2526, [2001:db8::10]:2526 or :2526"
	if ip, err := netip.ParseAddr(s); err == nil {
		return &net.TCPAddr{IP: ip.AsSlice(), Zone: ip.Zone()}, nil
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return nil, exitcode.Usagef(hint, "--local-address %q is not an address or ADDR:PORT", s)
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return nil, exitcode.Usagef(hint, "--local-address %q: %q is not a port", s, port)
	}
	a := &net.TCPAddr{Port: int(p)}
	if host != "" {
		ip, err := netip.ParseAddr(host)
		if err != nil {
			return nil, exitcode.Usagef(hint, "--local-address %q: %q is not an IP address", s, host)
		}
		a.IP, a.Zone = ip.AsSlice(), ip.Zone()
	}
	return a, nil
}

func (d *Dialer) parseProxy(s, from string) error {
	hint := "write --proxy socks5://HOST:PORT, socks5h://HOST:PORT (names resolved by the proxy) or socks5://USER:PASS@HOST:PORT"
	if from != "--proxy" {
		hint = from + " must be socks5://HOST:PORT or socks5h://HOST:PORT for --proxy-from-env; drop the flag to connect directly"
	}
	u, err := url.Parse(s)
	if err != nil {
		// url's message repeats the whole URL, password included.
		return exitcode.Usagef(hint, "%s is not a URL", from)
	}
	switch strings.ToLower(u.Scheme) {
	case "socks5":
	case "socks5h":
		d.remoteDNS = true
	default:
		return exitcode.Usagef(hint, "%s: only SOCKS5 proxies are supported, not %q", from, u.Scheme)
	}
	if u.Hostname() == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return exitcode.Usagef(hint, "%s: a proxy URL is a scheme, a host and a port, nothing else", from)
	}
	port := u.Port()
	if port == "" {
		port = "1080" // the SOCKS port (RFC 1928 §3)
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
		return exitcode.Usagef(hint, "%s: %q is not a port", from, port)
	}
	d.proxyAddr = net.JoinHostPort(u.Hostname(), port)
	if u.User != nil {
		pass, _ := u.User.Password()
		// RFC 1929 §2: each field is one to 255 bytes.
		if n, m := len(u.User.Username()), len(pass); n == 0 || n > 255 || m == 0 || m > 255 {
			return exitcode.Usagef(hint, "%s: the proxy user name and password must each be 1 to 255 bytes", from)
		}
		d.proxyAuth = &proxy.Auth{User: u.User.Username(), Password: pass}
	}
	return nil
}

func (d *Dialer) parseProxyProtocol(o Options) error {
	switch o.ProxyProtocol {
	case "":
		if o.ProxySource != "" || o.ProxyDest != "" {
			return exitcode.Usagef("add --proxy-protocol v1 or v2", "--proxy-source and --proxy-dest need --proxy-protocol")
		}
		return nil
	case "v1", "1":
		d.ppVersion = 1
	case "v2", "2":
		d.ppVersion = 2
	default:
		return exitcode.Usagef("use --proxy-protocol v1 (text) or v2 (binary)", "--proxy-protocol %q is not v1 or v2", o.ProxyProtocol)
	}
	hint := "write ADDR:PORT, e.g. 192.0.2.1:40000 or [2001:db8::1]:40000"
	for _, f := range []struct {
		flag, v string
		out     *netip.AddrPort
	}{{"--proxy-source", o.ProxySource, &d.ppSrc}, {"--proxy-dest", o.ProxyDest, &d.ppDst}} {
		if f.v == "" {
			continue
		}
		ap, err := netip.ParseAddrPort(f.v)
		if err != nil || ap.Addr().Zone() != "" {
			return exitcode.Usagef(hint, "%s %q is not ADDR:PORT", f.flag, f.v)
		}
		*f.out = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	if d.ppSrc.IsValid() && d.ppDst.IsValid() && d.ppSrc.Addr().Is4() != d.ppDst.Addr().Is4() {
		return exitcode.Usagef("give two IPv4 or two IPv6 addresses", "--proxy-source and --proxy-dest are of different families")
	}
	if (d.argv != nil || o.Socket || d.proxyAddr != "") && !(d.ppSrc.IsValid() && d.ppDst.IsValid()) {
		return exitcode.Usagef("give both --proxy-source ADDR:PORT and --proxy-dest ADDR:PORT",
			"--proxy-protocol over --pipe, --socket or a SOCKS5 proxy needs both --proxy-source and --proxy-dest: the connection's own addresses are not the client's")
	}
	return nil
}

// Dial connects to address (ignored for --pipe) and returns a connection
// ready for the SMTP banner: through the proxy when one is set, with the
// PROXY header already written. Failures are *exitcode.Error values with
// a hint naming the part of the path that failed.
func (d *Dialer) Dial(ctx context.Context, network, address string) (net.Conn, error) {
	c := &Conn{}
	var err error
	switch {
	case d.argv != nil:
		c.Conn, err = startPipe(d.argv, d.pipeLine, d.killGrace, &c.notes)
	case d.proxyAddr != "" && network == "tcp" && !d.bypass(address):
		c.Conn, err = d.dialSOCKS(ctx, address, &c.notes)
	default:
		c.Conn, err = d.dialDirect(ctx, network, address)
	}
	if err != nil {
		return nil, err
	}
	if d.ppVersion != 0 {
		if err := d.writeProxyHeader(ctx, c); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

// bypass reports whether $NO_PROXY names the host of address. x/net's
// PerHost holds the matching rules (IPs, CIDR ranges, zones, names); it is
// asked to dial with two stand-in dialers that only note which it chose.
func (d *Dialer) bypass(address string) bool {
	if d.noProxy == "" {
		return false
	}
	direct := false
	ph := proxy.NewPerHost(pick{&direct, false}, pick{&direct, true})
	ph.AddFromString(d.noProxy)
	_, _ = ph.Dial("tcp", address)
	return direct
}

// pick is a stand-in dialer for bypass.
type pick struct {
	chosen *bool
	direct bool
}

var errPicked = errors.New("picked")

func (p pick) Dial(string, string) (net.Conn, error) {
	*p.chosen = p.direct
	return nil, errPicked
}

func (d *Dialer) netDialer() *net.Dialer {
	nd := &net.Dialer{}
	if d.local != nil {
		nd.LocalAddr = d.local
	}
	return nd
}

func (d *Dialer) dialDirect(ctx context.Context, network, address string) (net.Conn, error) {
	conn, err := d.netDialer().DialContext(ctx, network, address)
	if err != nil && d.local != nil {
		if le := localErr(d.local, err); le != nil {
			return nil, le
		}
	}
	return conn, err
}

// localErr explains a failure to bind --local-address; nil when err is
// about something else.
func localErr(a *net.TCPAddr, err error) error {
	var ae *net.AddrError
	switch {
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return &exitcode.Error{Code: exitcode.Network, Err: err, Msg: fmt.Sprintf("cannot bind --local-address %s: %v", a, err),
			Hint: "give an address this machine has (ip addr shows them)"}
	case errors.Is(err, syscall.EADDRINUSE):
		return &exitcode.Error{Code: exitcode.Network, Err: err, Msg: fmt.Sprintf("cannot bind --local-address %s: %v", a, err),
			Hint: "the local port is in use: give another, or leave the port out"}
	case errors.As(err, &ae), errors.Is(err, syscall.EAFNOSUPPORT), errors.Is(err, syscall.EINVAL):
		return &exitcode.Error{Code: exitcode.Network, Err: err, Msg: fmt.Sprintf("cannot connect from --local-address %s: %v", a, err),
			Hint: "give a --local-address of the server address's family (IPv4 or IPv6)"}
	}
	return nil
}

// Conn is a connection made by a Dialer. It keeps notes for the transcript
// (the proxy used, the PROXY header, a child's stderr) until the session
// asks for them through Narrate, and then passes them on from within its
// own Read, Write and Close, which the session calls from its goroutine.
type Conn struct {
	net.Conn
	notes notes
}

// Narrate hands the connection the function that writes an info line to
// the transcript, and writes the notes kept so far.
func (c *Conn) Narrate(say func(string)) {
	c.notes.setSay(say)
	c.notes.flush()
}

func (c *Conn) Read(b []byte) (int, error) {
	c.notes.reading.Store(true)
	n, err := c.Conn.Read(b)
	c.notes.reading.Store(false)
	c.notes.flush()
	return n, err
}

func (c *Conn) Write(b []byte) (int, error) {
	c.notes.flush()
	return c.Conn.Write(b)
}

// Close closes the connection (for --pipe: ends the child) and writes the
// last notes, unless a Read is under way: then Close was called from
// another goroutine (crypto/tls does so to cut a handshake short), and
// the Read, returning, writes them on the session's goroutine.
func (c *Conn) Close() error {
	err := c.Conn.Close()
	if !c.notes.reading.Load() {
		c.notes.flush()
	}
	return err
}

// Unwrap returns the connection underneath.
func (c *Conn) Unwrap() net.Conn { return c.Conn }

// maxNotes bounds the notes held between two flushes; a child that floods
// its stderr loses the excess, counted.
const maxNotes = 1000

// notes is a bounded queue of transcript lines, filled from any goroutine.
type notes struct {
	mu      sync.Mutex
	lines   []string
	dropped int
	say     func(string)
	reading atomic.Bool
	sayMu   sync.Mutex // one flush at a time, so lines keep their order
}

func (n *notes) add(line string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.lines) >= maxNotes {
		n.dropped++
		return
	}
	n.lines = append(n.lines, line)
}

func (n *notes) setSay(say func(string)) {
	n.mu.Lock()
	n.say = say
	n.mu.Unlock()
}

func (n *notes) flush() {
	n.sayMu.Lock()
	defer n.sayMu.Unlock()
	n.mu.Lock()
	say, lines, dropped := n.say, n.lines, n.dropped
	if say == nil {
		n.mu.Unlock()
		return
	}
	n.lines, n.dropped = nil, 0
	n.mu.Unlock()
	for _, l := range lines {
		say(l)
	}
	if dropped > 0 {
		say(fmt.Sprintf("%d more lines not shown (over %d between two replies)", dropped, maxNotes))
	}
}
