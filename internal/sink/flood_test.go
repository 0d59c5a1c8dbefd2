package sink

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The flood tests run the sink in a child process (this test binary,
// re-executed) and read that process's peak resident set size from
// /proc/PID/status when the flood is over. A child of its own keeps the
// figure free of other tests' allocations; reading it from outside needs
// nothing from the sink's own goroutines.

const floodChildEnv = "SMTPX_SINK_FLOOD_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(floodChildEnv) == "1" {
		os.Exit(floodChild())
	}
	os.Exit(m.Run())
}

// floodChild runs a sink on 127.0.0.1:0 with the sink's defaults (and
// SMTPX_SINK_FLOOD_MAXSIZE, when set, as Options.MaxSize), prints the
// address on stdout and serves until stdin is closed.
func floodChild() int {
	o := Options{Listen: []Addr{{Network: "tcp", Address: "127.0.0.1:0"}}}
	if v := os.Getenv("SMTPX_SINK_FLOOD_MAXSIZE"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		o.MaxSize = n
	}
	s, err := New(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if err := s.Listen(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	fmt.Println(s.Addrs()[0])
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	s.Serve(ctx)
	return 0
}

type floodSink struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	addr  string
}

func startFloodSink(t *testing.T, maxSize string) *floodSink {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), floodChildEnv+"=1", "TMPDIR="+t.TempDir())
	if maxSize != "" {
		cmd.Env = append(cmd.Env, "SMTPX_SINK_FLOOD_MAXSIZE="+maxSize)
	}
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	fs := &floodSink{cmd: cmd, stdin: stdin}
	t.Cleanup(func() {
		fs.stdin.Close()
		fs.cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("child sink: %v", err)
	}
	fs.addr = strings.TrimSpace(line)
	return fs
}

// peakRSS is the child's VmHWM in bytes.
func (fs *floodSink) peakRSS(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", fs.cmd.Process.Pid))
	if err != nil {
		t.Skipf("no /proc status to read the peak RSS from: %v", err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("VmHWM %q", v)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc status")
	return 0
}

// floodConn is a client that writes in one goroutine and collects the
// reply codes in another, so a flood never waits on replies.
type floodConn struct {
	c     net.Conn
	mu    sync.Mutex
	codes []int
	done  chan struct{} // closed when the sink closed the connection
}

func dialFlood(t *testing.T, addr string) *floodConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fc := &floodConn{c: c, done: make(chan struct{})}
	go func() {
		defer close(fc.done)
		r := textproto.NewReader(bufio.NewReader(c))
		for {
			code, _, err := r.ReadResponse(0)
			if code == 0 && err != nil {
				return
			}
			fc.mu.Lock()
			fc.codes = append(fc.codes, code)
			fc.mu.Unlock()
		}
	}()
	return fc
}

// codes5 returns the fifth reply code, the one after banner, EHLO, MAIL
// and RCPT.
func (fc *floodConn) codes5() int {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if len(fc.codes) < 5 {
		return 0
	}
	return fc.codes[4]
}

// count returns how many replies of each code arrived.
func (fc *floodConn) count() map[int]int {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	m := map[int]int{}
	for _, c := range fc.codes {
		m[c]++
	}
	return m
}

// waitReplies waits (boundedly) until n replies arrived or the sink hung up.
func (fc *floodConn) waitReplies(t *testing.T, n int) {
	t.Helper()
	for end := time.Now().Add(2 * time.Minute); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		fc.mu.Lock()
		got := len(fc.codes)
		fc.mu.Unlock()
		select {
		case <-fc.done:
			return
		default:
		}
		if got >= n {
			return
		}
	}
	t.Fatalf("only %v replies after two minutes, want %d", fc.count(), n)
}

// writeRepeated writes n bytes of b's pattern.
func (fc *floodConn) writeRepeated(b byte, n int) error {
	buf := []byte(strings.Repeat(string(b), 1<<20))
	for n > 0 {
		k := min(n, len(buf))
		if _, err := fc.c.Write(buf[:k]); err != nil {
			return err
		}
		n -= k
	}
	return nil
}

const floodRSSLimit = 128 << 20

func checkPeak(t *testing.T, fs *floodSink, what string) {
	t.Helper()
	peak := fs.peakRSS(t)
	t.Logf("%s: peak RSS of the sink %.1f MiB", what, float64(peak)/(1<<20))
	if peak >= floodRSSLimit {
		t.Errorf("%s: peak RSS %.1f MiB, want under %d MiB", what, float64(peak)/(1<<20), floodRSSLimit>>20)
	}
}

func skipFlood(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("floods move hundreds of megabytes; skipped with -short")
	}
	if raceEnabled {
		t.Skip("the race detector multiplies memory use, so the peak RSS would not be the sink's")
	}
}

// TestFloodRcpt: 4,000 RCPTs of 60 KB each once took the sink to 492 MB.
// Addresses over MaxPathLen are refused before anything keeps them, and
// no more than DefaultMaxRcpts shorter ones are taken.
func TestFloodRcpt(t *testing.T) {
	skipFlood(t)
	for _, tt := range []struct {
		name     string
		size     int
		accepted int
		code     int // for the others
	}{
		{"4,000 RCPTs of 60 KB", 60 << 10, 0, 501},
		{"4,000 RCPTs of 500 bytes", 500, DefaultMaxRcpts, 452},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fs := startFloodSink(t, "")
			fc := dialFlood(t, fs.addr)
			w := bufio.NewWriterSize(fc.c, 1<<20)
			fmt.Fprintf(w, "EHLO flood.test\r\nMAIL FROM:<a@example.org>\r\n")
			const n = 4000
			for i := 0; i < n; i++ {
				local := fmt.Sprintf("%d-", i)
				local += strings.Repeat("r", tt.size-len(local)-len("@example.com"))
				fmt.Fprintf(w, "RCPT TO:<%s@example.com>\r\n", local)
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			fc.waitReplies(t, n+3)
			got := fc.count()
			if got[250] != 2+tt.accepted || got[tt.code] != n-tt.accepted {
				t.Errorf("replies %v, want %d recipients accepted and %d answered %d", got, tt.accepted, n-tt.accepted, tt.code)
			}
			checkPeak(t, fs, tt.name)
		})
	}
}

// TestFloodBDATHeader: a 200 MB header line over BDAT once took the sink
// to 804 MB. With the default --max-size it is refused; with no limit it
// is stored and its header section parsed in bounded memory.
func TestFloodBDATHeader(t *testing.T) {
	skipFlood(t)
	for _, tt := range []struct {
		name, maxSize string
		want          int
	}{
		{"default max-size", "", 552},
		{"no max-size", "-1", 250},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fs := startFloodSink(t, tt.maxSize)
			fc := dialFlood(t, fs.addr)
			const line = 200 << 20
			head := "X-Flood: "
			tail := "\r\nSubject: after the flood\r\n\r\nbody\r\n"
			fmt.Fprintf(fc.c, "EHLO flood.test\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nBDAT %d LAST\r\n%s",
				len(head)+line+len(tail), head)
			// Refused, the chunk is read and dropped until go-smtp's line
			// limit ends the connection: a write error is expected then.
			if err := fc.writeRepeated('h', line); err == nil {
				io.WriteString(fc.c, tail)
			}
			fc.waitReplies(t, 5)
			if got := fc.codes5(); got != tt.want {
				t.Errorf("replies %v, want %d for the message", fc.codes, tt.want)
			}
			checkPeak(t, fs, "a 200 MB header line over BDAT, "+tt.name)
		})
	}
}

// TestFloodDATALine: a 200 MB line over DATA is cut off at the line limit.
func TestFloodDATALine(t *testing.T) {
	skipFlood(t)
	fs := startFloodSink(t, "-1")
	fc := dialFlood(t, fs.addr)
	io.WriteString(fc.c, "EHLO flood.test\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n")
	fc.waitReplies(t, 5)
	// The sink hangs up long before the end: a write error is expected.
	fc.writeRepeated('d', 200<<20)
	select {
	case <-fc.done:
	case <-time.After(2 * time.Minute):
		t.Fatal("the sink did not close the connection")
	}
	if got := fc.count(); got[554] != 1 {
		t.Errorf("replies %v, want a 554 for the long line", got)
	}
	checkPeak(t, fs, "a 200 MB line over DATA")
}
