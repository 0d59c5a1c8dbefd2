package transport

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/session"
	"github.com/smtpx/smtpx/internal/smtptest"
)

// The test binary doubles as the child of --pipe: with TRANSPORT_HELPER
// set it plays the part named there instead of running tests.
func TestMain(m *testing.M) {
	if mode := os.Getenv("TRANSPORT_HELPER"); mode != "" {
		helper(mode)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func helper(mode string) {
	switch mode {
	case "smtp":
		// A minimal server: banner, EHLO, QUIT; each command noted on stderr.
		fmt.Fprint(os.Stdout, "220 helper ESMTP\r\n")
		br := bufio.NewReader(os.Stdin)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				os.Exit(4)
			}
			cmd := strings.TrimRight(line, "\r\n")
			fmt.Fprintf(os.Stderr, "got %s\n", cmd)
			switch {
			case strings.HasPrefix(cmd, "EHLO"):
				fmt.Fprint(os.Stdout, "250-helper\r\n250 PIPELINING\r\n")
			case cmd == "QUIT":
				fmt.Fprint(os.Stdout, "221 bye\r\n")
				return
			default:
				fmt.Fprint(os.Stdout, "500 what\r\n")
			}
		}
	case "stubborn":
		// Starts a grandchild in its own process group, says its pid, and
		// ignores the end of its stdin.
		gc := exec.Command(os.Args[0])
		gc.Env = append(os.Environ(), "TRANSPORT_HELPER=sleep")
		if err := gc.Start(); err != nil {
			os.Exit(5)
		}
		fmt.Fprintf(os.Stdout, "%d\r\n", gc.Process.Pid)
		io.Copy(io.Discard, os.Stdin)
		time.Sleep(time.Hour)
	case "sleep":
		time.Sleep(time.Hour)
	case "fail":
		fmt.Fprint(os.Stderr, "cannot open config\n")
		os.Exit(3)
	case "flood":
		// An endless stderr line, then many lines: both must stay bounded.
		fmt.Fprint(os.Stderr, strings.Repeat("x", 100000)+"\n")
		for range 3000 {
			fmt.Fprint(os.Stderr, "noise\n")
		}
		fmt.Fprint(os.Stdout, "220 ok\r\n")
		io.Copy(io.Discard, os.Stdin)
	}
}

// pipeLine is a --pipe command line that runs this binary as helper mode.
func pipeLine(t *testing.T, mode string) string {
	t.Helper()
	t.Setenv("TRANSPORT_HELPER", mode)
	// A race-enabled child otherwise waits a second before it exits.
	t.Setenv("GORACE", "atexit_sleep_ms=0")
	return strconv.Quote(os.Args[0])
}

func usageErr(t *testing.T, err error, want int) *exitcode.Error {
	t.Helper()
	var xe *exitcode.Error
	if !errors.As(err, &xe) {
		t.Fatalf("error %v (%T), want *exitcode.Error", err, err)
	}
	if xe.Code != want || xe.Hint == "" || strings.Contains(xe.Msg, "\n") {
		t.Errorf("%q: code %d hint %q, want code %d, a hint and one line", xe.Msg, xe.Code, xe.Hint, want)
	}
	return xe
}

func TestSplitCommand(t *testing.T) {
	env := func(k string) string { return map[string]string{"IP": "192.0.2.1"}[k] }
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{`true -bh 192.0.2.1`, []string{"true", "-bh", "192.0.2.1"}},
		{`true -bh $IP`, []string{"true", "-bh", "192.0.2.1"}},
		{`true 'a b' "c $IP" d\ e`, []string{"true", "a b", "c 192.0.2.1", "d e"}},
		{`  true  `, []string{"true"}},
	} {
		got, err := SplitCommand(tc.in, env)
		if err != nil || strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("%q: %q %v, want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{
		"", "   ", `true | cat`, `true; rm -rf x`, `true > out`, `true && true`, `true $(id)`, `true 'unclosed`,
		"/nonexistent/program -bs", "no-such-program-smtpx-test",
	} {
		_, err := SplitCommand(bad, env)
		usageErr(t, err, exitcode.Usage)
	}
}

func TestNewUsageErrors(t *testing.T) {
	for _, o := range []Options{
		{Pipe: "/nonexistent/sendmail -bs"},
		{Pipe: "true", LocalAddress: "127.0.0.1"},
		{Pipe: "true", Proxy: "socks5://127.0.0.1:1080"},
		{Socket: true, Proxy: "socks5://127.0.0.1:1080"},
		{LocalAddress: "mx.example.com"},
		{LocalAddress: "127.0.0.1:http"},
		{LocalAddress: "127.0.0.1:70000"},
		{Proxy: "http://127.0.0.1:3128"},
		{Proxy: "socks4://127.0.0.1"},
		{Proxy: "socks5://"},
		{Proxy: "socks5://127.0.0.1:1080/path"},
		{Proxy: "socks5://127.0.0.1:0"},
		{Proxy: "socks5://127.0.0.1:x"},
		{Proxy: "socks5://user@127.0.0.1"},
		{Proxy: "socks5://" + strings.Repeat("u", 256) + ":p@127.0.0.1"},
		{Proxy: "::not a url"},
		{ProxyProtocol: "v3"},
		{ProxySource: "192.0.2.1:1"},
		{ProxyProtocol: "v1", ProxySource: "192.0.2.1"},
		{ProxyProtocol: "v1", ProxyDest: "mx:25"},
		{ProxyProtocol: "v2", ProxySource: "192.0.2.1:1", ProxyDest: "[2001:db8::1]:25"},
		{ProxyProtocol: "v2", Pipe: "true", ProxySource: "192.0.2.1:1"},
		{ProxyProtocol: "v1", Socket: true},
		{ProxyProtocol: "v1", Proxy: "socks5://127.0.0.1:1080"},
	} {
		_, err := New(o)
		if err == nil {
			t.Errorf("%+v: no error", o)
			continue
		}
		usageErr(t, err, exitcode.Usage)
	}
	// A password never appears in a message about the proxy URL.
	_, err := New(Options{Proxy: "socks5://u:hunter2@127.0.0.1:1080/x"})
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error %v", err)
	}
	// $ALL_PROXY is read only when asked for.
	env := func(k string) string { return map[string]string{"ALL_PROXY": "http://proxy:3128"}[k] }
	if d, err := New(Options{Getenv: env}); d != nil || err != nil {
		t.Errorf("without --proxy-from-env: %v %v", d, err)
	}
	_, err = New(Options{Getenv: env, ProxyFromEnv: true})
	if xe := usageErr(t, err, exitcode.Usage); !strings.Contains(xe.Msg, "$ALL_PROXY") {
		t.Errorf("message %q does not name $ALL_PROXY", xe.Msg)
	}
}

// dialSession runs a session over d and returns its transcript.
func dialSession(t *testing.T, d *Dialer, network, addr string) (*session.Session, *[]session.Event, error) {
	t.Helper()
	var evs []session.Event
	so := session.Options{Network: network, Address: addr, Dial: d.Dial, Timeout: 5 * time.Second,
		Observer: func(e session.Event) { evs = append(evs, e) }}
	s, err := session.Dial(context.Background(), so)
	return s, &evs, err
}

func lines(evs []session.Event) string {
	var b strings.Builder
	for _, e := range evs {
		fmt.Fprintf(&b, "%d %s\n", e.Dir, e.Line)
	}
	return b.String()
}

// A session over a child process: the dialogue on its stdin and stdout,
// its stderr as info lines.
func TestPipeSession(t *testing.T) {
	d, err := New(Options{Pipe: pipeLine(t, "smtp")})
	if err != nil || !d.Pipe() {
		t.Fatal(err)
	}
	s, evs, err := dialSession(t, d, Network, d.PipeLine())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReadBanner(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Hello("client.test"); err != nil || !s.Ext.Has("PIPELINING") {
		t.Fatalf("EHLO: %v %v", err, s.Ext)
	}
	if !s.IsLoopback() {
		t.Error("a child process is not counted as local")
	}
	s.Quit()
	got := lines(*evs)
	for _, want := range []string{
		"2 Trying pipe to " + d.PipeLine() + "...\n",
		"1 220 helper ESMTP\n",
		"2 stderr: got EHLO client.test\n",
		"1 250 PIPELINING\n",
		"1 221 bye\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("transcript lacks %q:\n%s", want, got)
		}
	}
	if !strings.Contains(got, "2 stderr: got QUIT\n") {
		t.Errorf("the last stderr line was not shown at the end:\n%s", got)
	}
	if strings.Contains(got, "exited") || strings.Contains(got, "killed") {
		t.Errorf("a clean exit was reported:\n%s", got)
	}
}

// A child that exits at once: its stderr and status are shown and the
// session sees a closed connection (exit 3).
func TestPipeChildFails(t *testing.T) {
	d, err := New(Options{Pipe: pipeLine(t, "fail")})
	if err != nil {
		t.Fatal(err)
	}
	s, evs, err := dialSession(t, d, Network, d.PipeLine())
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.ReadBanner()
	if !errors.Is(err, session.ErrClosed) || exitcode.For(err) != exitcode.Network {
		t.Errorf("banner: %v", err)
	}
	s.Finish(err)
	got := lines(*evs)
	if !strings.Contains(got, "stderr: cannot open config\n") || !strings.Contains(got, "exited with status 3\n") {
		t.Errorf("transcript:\n%s", got)
	}
}

// A child that ignores the end of its stdin is killed after the grace,
// with everything in its process group.
func TestPipeKillsProcessGroup(t *testing.T) {
	if _, err := os.Stat("/proc/self"); err != nil {
		t.Skip("needs /proc to see whether a process lives")
	}
	d, err := New(Options{Pipe: pipeLine(t, "stubborn"), KillGrace: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	c, err := d.Dial(context.Background(), Network, "")
	if err != nil {
		t.Fatal(err)
	}
	var notes []string
	c.(session.Narrator).Narrate(func(l string) { notes = append(notes, l) })
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatal(err)
	}
	if !alive(pid) {
		t.Fatalf("grandchild %d is not running", pid)
	}
	done := make(chan struct{})
	go func() { c.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Close did not return")
	}
	// The grandchild was killed; its parent (the init process) reaps it.
	for i := 0; alive(pid) && i < 200; i++ {
		time.Sleep(50 * time.Millisecond)
	}
	if alive(pid) {
		syscall.Kill(pid, syscall.SIGKILL)
		t.Errorf("grandchild %d outlived the connection", pid)
	}
	if all := strings.Join(notes, "\n"); !strings.Contains(all, "killed") {
		t.Errorf("notes %q do not say the child was killed", all)
	}
}

// alive reports whether pid runs (a zombie counts as gone).
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	return len(f) > 0 && f[0] != "Z"
}

// A read deadline on a pipe ends the wait as a timeout, which the session
// reports as such.
func TestPipeDeadline(t *testing.T) {
	d, err := New(Options{Pipe: pipeLine(t, "sleep"), KillGrace: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	so := session.Options{Network: Network, Address: d.PipeLine(), Dial: d.Dial, Timeout: 100 * time.Millisecond}
	s, err := session.Dial(context.Background(), so)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.ReadBanner()
	if !errors.Is(err, session.ErrTimeout) {
		t.Errorf("banner: %v, want a timeout", err)
	}
	s.Finish(err)
}

// A flood on stderr is bounded: a long line is cut, and lines beyond the
// queue's bound between two flushes are counted, not kept.
func TestPipeStderrBounded(t *testing.T) {
	d, err := New(Options{Pipe: pipeLine(t, "flood"), KillGrace: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	c, err := d.Dial(context.Background(), Network, "")
	if err != nil {
		t.Fatal(err)
	}
	tc := c.(*Conn)
	// Wait until the child is done writing, so every line is queued
	// before the first flush.
	p := tc.Conn.(*fileConn)
	if _, err := bufio.NewReader(p).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	for range 400 {
		tc.notes.mu.Lock()
		n := len(tc.notes.lines) + tc.notes.dropped
		tc.notes.mu.Unlock()
		if n >= 3002 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	var notes []string
	tc.Narrate(func(l string) { notes = append(notes, l) })
	c.Close()
	if len(notes) > maxNotes+5 {
		t.Errorf("%d notes kept", len(notes))
	}
	if len(notes) < 2 || len(notes[1]) > maxStderrLine+20 || !strings.HasSuffix(notes[1], "...") {
		t.Errorf("long line shown as %.80q (%d bytes)", notes[1], len(notes[1]))
	}
	if !strings.Contains(strings.Join(notes, "\n"), "more lines not shown") {
		t.Error("dropped lines not counted")
	}
}

// SOCKS5: socks5:// resolves names here and hands the proxy an address;
// socks5h:// hands it the name; credentials go in RFC 1929.
func TestSOCKS5(t *testing.T) {
	srv, err := smtptest.Start("S: 220 behind.test ESMTP\nC: QUIT\nS: 221 bye\n")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Addr())
	px := smtptest.StartSOCKS5(t, func(p *smtptest.SOCKS5) {
		p.User, p.Pass = "alice", "s3cret"
		p.Names = map[string]string{"mx.test": "127.0.0.1"}
	})
	for _, tc := range []struct {
		scheme, target string
		domain         bool
		host           string
	}{
		{"socks5", "127.0.0.1:" + port, false, "127.0.0.1"},
		{"socks5", "localhost:" + port, false, ""},
		{"socks5h", "mx.test:" + port, true, "mx.test"},
	} {
		d, err := New(Options{Proxy: tc.scheme + "://alice:s3cret@" + px.Addr()})
		if err != nil {
			t.Fatal(err)
		}
		before := len(px.Requests())
		s, evs, err := dialSession(t, d, "tcp", tc.target)
		if err != nil {
			t.Fatalf("%s %s: %v", tc.scheme, tc.target, err)
		}
		if r, err := s.ReadBanner(); err != nil || r.Text() != "behind.test ESMTP" {
			t.Fatalf("banner %v %v", r, err)
		}
		s.Quit()
		reqs := px.Requests()
		if len(reqs) != before+1 {
			t.Fatalf("%d requests", len(reqs))
		}
		r := reqs[len(reqs)-1]
		if r.User != "alice" || r.Domain != tc.domain || (tc.host != "" && r.Host != tc.host) || strconv.Itoa(r.Port) != port {
			t.Errorf("%s %s: request %+v", tc.scheme, tc.target, r)
		}
		if tc.host == "" && !strings.HasPrefix(r.Host, "127.") && r.Host != "::1" {
			t.Errorf("socks5 sent %q for localhost, want an address", r.Host)
		}
		got := lines(*evs)
		if !strings.Contains(got, "connected through the SOCKS5 proxy at "+px.Addr()) || strings.Contains(got, "s3cret") {
			t.Errorf("transcript:\n%s", got)
		}
	}
}

// Each way a proxy can fail is a network error (exit 3) with its own hint.
func TestSOCKS5Failures(t *testing.T) {
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := closed.Addr().String()
	closed.Close()
	auth := smtptest.StartSOCKS5(t, func(p *smtptest.SOCKS5) { p.User, p.Pass = "alice", "s3cret" })
	refusing := smtptest.StartSOCKS5(t, func(p *smtptest.SOCKS5) { p.Refuse = 5 })
	hints := map[string]bool{}
	for _, tc := range []struct{ proxy, target string }{
		{"socks5://" + deadAddr, "127.0.0.1:25"},
		{"socks5://alice:wrong@" + auth.Addr(), "127.0.0.1:25"},
		{"socks5://" + auth.Addr(), "127.0.0.1:25"},
		{"socks5://" + refusing.Addr(), "127.0.0.1:25"},
	} {
		d, err := New(Options{Proxy: tc.proxy})
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = dialSession(t, d, "tcp", tc.target)
		if exitcode.For(err) != exitcode.Network {
			t.Errorf("%s: %v: exit %d", tc.proxy, err, exitcode.For(err))
		}
		xe := usageErr(t, err, exitcode.Network)
		hints[xe.Hint] = true
		if strings.Contains(err.Error(), "wrong") {
			t.Errorf("password in %v", err)
		}
	}
	if len(hints) != 2 {
		t.Errorf("hints %v: want one for an unreachable proxy, one for a refusal", hints)
	}
}

// With --proxy-from-env, $NO_PROXY hosts are reached directly.
func TestProxyFromEnvNoProxy(t *testing.T) {
	srv, err := smtptest.Start("S: 220 direct\nC: QUIT\nS: 221 bye\n")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	px := smtptest.StartSOCKS5(t, nil)
	env := map[string]string{"all_proxy": "socks5://" + px.Addr(), "NO_PROXY": "127.0.0.0/8"}
	d, err := New(Options{ProxyFromEnv: true, Getenv: func(k string) string { return env[k] }})
	if err != nil || !d.Proxied() {
		t.Fatal(d, err)
	}
	s, _, err := dialSession(t, d, "tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	s.ReadBanner()
	s.Quit()
	if n := len(px.Requests()); n != 0 {
		t.Errorf("%d requests went through the proxy", n)
	}
}

// headerServer accepts one connection, reads a PROXY header of n bytes and
// then speaks SMTP briefly; it returns the header bytes.
func headerServer(t *testing.T, n int) (addr string, got func() []byte) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var hdr []byte
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		ln.Close()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		b := make([]byte, n)
		k, _ := io.ReadFull(c, b)
		mu.Lock()
		hdr = b[:k]
		mu.Unlock()
		io.WriteString(c, "220 behind.proxy\r\n")
		io.Copy(io.Discard, c)
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return ln.Addr().String(), func() []byte {
		<-done
		mu.Lock()
		defer mu.Unlock()
		return hdr
	}
}

// The PROXY headers are byte-exact as the HAProxy specification lays them
// out, sent before the banner is read, and shown in the transcript.
func TestProxyProtocolHeaders(t *testing.T) {
	v2 := func(s string) []byte {
		b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	sig := "0d0a0d0a000d0a515549540a"
	for _, tc := range []struct {
		version, src, dst string
		want              []byte
		shown             string
	}{
		{"v1", "192.0.2.1:40000", "198.51.100.2:25", []byte("PROXY TCP4 192.0.2.1 198.51.100.2 40000 25\r\n"),
			"PROXY v1 header sent: PROXY TCP4 192.0.2.1 198.51.100.2 40000 25"},
		{"v1", "[2001:db8::1]:40000", "[2001:db8::2]:587", []byte("PROXY TCP6 2001:db8::1 2001:db8::2 40000 587\r\n"),
			"PROXY v1 header sent: PROXY TCP6 2001:db8::1 2001:db8::2 40000 587"},
		// v2: signature, version 2 + PROXY (0x21), TCP over IPv4 (0x11),
		// 12 address bytes, source and destination addresses and ports.
		{"v2", "192.0.2.1:40000", "198.51.100.2:25", v2(sig + "21 11 000c c0000201 c6336402 9c40 0019"),
			"PROXY v2 header sent (28 bytes): TCP4 192.0.2.1:40000 -> 198.51.100.2:25: " + sig + "2111000cc0000201c63364029c400019"},
		{"v2", "[2001:db8::1]:40000", "[2001:db8::2]:25", v2(sig + "21 21 0024 20010db8000000000000000000000001 20010db8000000000000000000000002 9c40 0019"), ""},
	} {
		addr, got := headerServer(t, len(tc.want))
		d, err := New(Options{ProxyProtocol: tc.version, ProxySource: tc.src, ProxyDest: tc.dst})
		if err != nil {
			t.Fatal(err)
		}
		s, evs, err := dialSession(t, d, "tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if r, err := s.ReadBanner(); err != nil || r.Code != 220 {
			t.Fatalf("banner %v %v", r, err)
		}
		s.Close()
		if h := got(); !bytes.Equal(h, tc.want) {
			t.Errorf("%s %s: header\n%x\nwant\n%x", tc.version, tc.src, h, tc.want)
		}
		if tr := lines(*evs); tc.shown != "" && !strings.Contains(tr, "2 "+tc.shown+"\n") {
			t.Errorf("transcript lacks %q:\n%s", tc.shown, tr)
		}
	}
}

// Without --proxy-source and --proxy-dest the header announces the
// connection's own addresses.
func TestProxyProtocolDefaultAddresses(t *testing.T) {
	want := len("PROXY TCP4 127.0.0.1 127.0.0.1 ")
	addr, got := headerServer(t, want+11)
	d, err := New(Options{ProxyProtocol: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	s, _, err := dialSession(t, d, "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	s.ReadBanner()
	local := s.Conn().LocalAddr().(*net.TCPAddr).Port
	s.Close()
	_, port, _ := net.SplitHostPort(addr)
	exp := fmt.Sprintf("PROXY TCP4 127.0.0.1 127.0.0.1 %d %s\r\n", local, port)
	if h := got(); !strings.HasPrefix(exp, string(h)) {
		t.Errorf("header %q, want %q", h, exp)
	}
}

// --local-address binds the client side; binding failures are exit 3 with
// a hint about the local address.
func TestLocalAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	seen := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		seen <- c.RemoteAddr().String()
		c.Close()
	}()
	d, err := New(Options{LocalAddress: "127.0.0.2"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := d.Dial(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		t.Skipf("127.0.0.2 is not usable here: %v", err)
	}
	c.Close()
	if r := <-seen; !strings.HasPrefix(r, "127.0.0.2:") {
		t.Errorf("server saw %s", r)
	}

	// The port is taken: the listener holds it.
	_, lport, _ := net.SplitHostPort(ln.Addr().String())
	for _, local := range []string{"127.0.0.1:" + lport, "::1"} {
		d, err := New(Options{LocalAddress: local})
		if err != nil {
			t.Fatal(err)
		}
		_, err = d.Dial(context.Background(), "tcp", ln.Addr().String())
		xe := usageErr(t, err, exitcode.Network)
		if !strings.Contains(xe.Msg, "--local-address") {
			t.Errorf("%s: %q does not name the flag", local, xe.Msg)
		}
	}
}
