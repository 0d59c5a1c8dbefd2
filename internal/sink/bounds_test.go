package sink

import (
	"bufio"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"

	smtpsession "github.com/smtpx/smtpx/internal/session"
)

func saslPlain(user, pass string) sasl.Client { return sasl.NewPlainClient("", user, pass) }

// waitDone waits for the sink to stop by itself, failing the test after a
// bound far beyond anything the sink is configured for.
func (r *running) waitDone(t *testing.T, bound time.Duration, why string) (Result, time.Duration) {
	t.Helper()
	start := time.Now()
	select {
	case <-r.done:
		return r.res, time.Since(start)
	case <-time.After(bound):
		t.Fatalf("the sink still runs %s after %s", bound, why)
	}
	return Result{}, 0
}

// TestDeadlineIsHardBound: a client trickling one byte at a time into a
// message used to keep the sink alive past --timeout for as long as it
// went on. Now a message in flight gets MessageGrace, then 421.
func TestDeadlineIsHardBound(t *testing.T) {
	dir := t.TempDir()
	began := time.Now()
	r := start(t, Options{Dir: dir, Deadline: 300 * time.Millisecond, MessageGrace: 300 * time.Millisecond})
	rc := dialRaw(t, r.addr)
	rc.write("EHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n")
	rc.expect(250)
	rc.expect(250)
	rc.expect(250)
	rc.expect(354)
	rc.write("Subject: slow\r\n\r\n")
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			if _, err := rc.c.Write([]byte("x")); err != nil {
				return
			}
		}
	}()
	res, _ := r.waitDone(t, time.Minute, "its 0.3 s deadline and 0.3 s grace, with a trickling client")
	t.Logf("a trickling client: the sink ended %s after it started (deadline 0.3 s, grace 0.3 s)", time.Since(began).Round(time.Millisecond))
	if res.Reason != StopDeadline || res.Messages != 0 {
		t.Errorf("result %+v", res)
	}
	if msg := rc.expect(421); !strings.HasPrefix(msg, "4.3.2 ") {
		t.Errorf("421 %q", msg)
	}
	if _, err := rc.r.ReadLine(); err == nil {
		t.Error("more after the 421")
	}
	if e, _ := os.ReadDir(dir); len(e) != 0 {
		t.Errorf("the cut-off message left %d files", len(e))
	}
	r.rec.mu.Lock()
	defer r.rec.mu.Unlock()
	if len(r.rec.problems) != 1 || !strings.Contains(r.rec.problems[0], "cut off") {
		t.Errorf("problems %q", r.rec.problems)
	}
}

// TestDeadlineBDATChunkCutOff: a BDAT chunk cut off by the shutdown is not
// stored as if it were complete.
func TestDeadlineBDATChunkCutOff(t *testing.T) {
	dir := t.TempDir()
	r := start(t, Options{Dir: dir, Deadline: 200 * time.Millisecond, MessageGrace: 200 * time.Millisecond})
	rc := dialRaw(t, r.addr)
	rc.write("EHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nBDAT 1000 LAST\r\nSubject: part\r\n")
	rc.expect(250)
	rc.expect(250)
	rc.expect(250)
	r.waitDone(t, time.Minute, "its deadline, in a BDAT chunk")
	rc.expect(421)
	if e, _ := os.ReadDir(dir); len(e) != 0 {
		t.Errorf("the cut-off chunk left %d files: %v", len(e), e)
	}
	if len(r.rec.records) != 0 {
		t.Errorf("records %+v", r.rec.records)
	}
}

// TestStopWithClientThatReadsNothing: a client that pipelines commands
// and never reads the replies blocks the sink's writes; the shutdown
// still ends it (it used to wait out go-smtp's one-minute write timeout).
func TestStopWithClientThatReadsNothing(t *testing.T) {
	// A unix socket's small buffers fill at once, so the sink is surely
	// stuck in a write when the deadline comes.
	sock := filepath.Join(t.TempDir(), "s")
	r := start(t, Options{Listen: []Addr{{Network: "unix", Address: sock}}, Deadline: 300 * time.Millisecond, MessageGrace: 100 * time.Millisecond})
	nc, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	go func() {
		b := []byte(strings.Repeat("NOOP\r\n", 10000))
		for {
			if _, err := nc.Write(b); err != nil {
				return
			}
		}
	}()
	_, took := r.waitDone(t, 30*time.Second, "its deadline, with a client that reads nothing")
	t.Logf("a client that reads nothing: the sink ended %s after it started", took.Round(time.Millisecond))
}

// TestMaxConns: connections over the limit are told 421 and closed; a
// freed slot takes a new one.
func TestMaxConns(t *testing.T) {
	r := start(t, Options{MaxConns: 2, Grace: time.Millisecond})
	a := dialRaw(t, r.addr)
	dialRaw(t, r.addr)
	nc, err := net.Dial("tcp", r.addr)
	if err != nil {
		t.Fatal(err)
	}
	tr := textproto.NewReader(bufio.NewReader(nc))
	code, msg, _ := tr.ReadResponse(0)
	if code != 421 || !strings.HasPrefix(msg, "4.4.5 ") {
		t.Errorf("third connection: %d %q, want 421 4.4.5", code, msg)
	}
	if _, err := tr.ReadLine(); err == nil {
		t.Error("third connection still open")
	}
	nc.Close()
	a.write("QUIT\r\n")
	a.expect(221)
	for {
		r.s.mu.Lock()
		n := len(r.s.conns)
		r.s.mu.Unlock()
		if n < 2 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	dialRaw(t, r.addr) // expects the 220
	r.result(t)
	r.rec.mu.Lock()
	defer r.rec.mu.Unlock()
	if p := strings.Join(r.rec.problems, "\n"); !strings.Contains(p, "--max-conns") || !strings.Contains(p, "1 connection(s) were told 421") {
		t.Errorf("problems %q", p)
	}
}

func TestMaxRcpts(t *testing.T) {
	r := start(t, Options{MaxRcpts: 2})
	c := dial(t, r.addr)
	if err := c.Mail("a@example.org", nil); err != nil {
		t.Fatal(err)
	}
	for _, to := range []string{"b@example.com", "c@example.com"} {
		if err := c.Rcpt(to, nil); err != nil {
			t.Fatal(err)
		}
	}
	wantReply(t, c.Rcpt("d@example.com", nil), 452, "4.5.3")
}

func TestPathLimit(t *testing.T) {
	r := start(t, Options{})
	c := dial(t, r.addr)
	at := "@example.com"
	longest := strings.Repeat("a", MaxPathLen-len(at)) + at
	wantReply(t, c.Mail("x"+longest, nil), 501, "5.1.7")
	if err := c.Mail(longest, nil); err != nil {
		t.Fatalf("MAIL with a %d-byte path: %v", len(longest), err)
	}
	wantReply(t, c.Rcpt("x"+longest, nil), 501, "5.1.3")
	if err := c.Rcpt(longest, nil); err != nil {
		t.Fatalf("RCPT with a %d-byte path: %v", len(longest), err)
	}
	_, refusals, _ := r.rec.snapshot()
	if len(refusals) != 2 || len(refusals[1].Arg) > 100 || !strings.HasSuffix(refusals[1].Arg, "(513 bytes)") {
		t.Errorf("refusals %+v", refusals)
	}
}

// authSink runs a sink with one account and records the AUTH failure
// delays instead of waiting them.
func authSink(t *testing.T, o Options) (*running, func() []time.Duration) {
	var mu sync.Mutex
	var delays []time.Duration
	o.Users = map[string]string{"alice": "secret"}
	r := startHook(t, o, func(s *Sink) {
		s.sleepHook = func(point string, d time.Duration) bool {
			if point == "auth-failure" {
				mu.Lock()
				delays = append(delays, d)
				mu.Unlock()
			}
			return true
		}
	})
	return r, func() []time.Duration {
		mu.Lock()
		defer mu.Unlock()
		return append([]time.Duration(nil), delays...)
	}
}

func plain(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + pass))
}

// TestAuthFailuresCloseConnection: 3,000 guesses on one connection once
// took 0.16 s. Now the third failure is answered 421 and the connection
// closed, after growing delays.
func TestAuthFailuresCloseConnection(t *testing.T) {
	r, delays := authSink(t, Options{AllowInsecureAuth: true})
	rc := dialRaw(t, r.addr)
	// All guesses in one write, as a brute-forcer would pipeline them.
	var b strings.Builder
	b.WriteString("EHLO c\r\n")
	for i := 0; i < 100; i++ {
		fmt.Fprintf(&b, "AUTH PLAIN %s\r\n", plain("alice", fmt.Sprint("guess", i)))
	}
	rc.write(b.String())
	rc.expect(250)
	rc.expect(535)
	rc.expect(535)
	if msg := rc.expect(421); !strings.HasPrefix(msg, "4.7.0 ") {
		t.Errorf("421 %q", msg)
	}
	if l, err := rc.r.ReadLine(); err == nil {
		t.Errorf("after the 421: %q", l)
	}
	if got := fmt.Sprint(delays()); got != "[1s 2s 4s]" {
		t.Errorf("delays %s, want [1s 2s 4s]", got)
	}
	_, refusals, _ := r.rec.snapshot()
	if len(refusals) != 3 || refusals[2].Code != 421 {
		t.Errorf("refusals %+v", refusals)
	}
	// A new connection may try again, and the right password works.
	c := dial(t, r.addr)
	if err := c.Auth(saslPlain("alice", "secret")); err != nil {
		t.Fatal(err)
	}
}

// TestAuthFailuresInsideTLS: the 421 goes through TLS.
func TestAuthFailuresInsideTLS(t *testing.T) {
	r, _ := authSink(t, Options{TLS: true, MaxAuthFailures: 1, Transcript: true})
	c := dialStartTLS(t, r)
	wantReply(t, c.Auth(saslPlain("alice", "wrong")), 421, "4.7.0")
	r.result(t)
	_, _, lines := r.rec.snapshot()
	var saw bool
	for _, l := range lines {
		if l.Code == 421 {
			saw = l.TLS
		}
		if l.Dir == ToClient && l.Code == 454 {
			t.Errorf("go-smtp's own reply went out too: %+v", l)
		}
	}
	if !saw {
		t.Errorf("no 421 inside TLS in the transcript: %+v", lines)
	}
}

func TestReadHeaderSection(t *testing.T) {
	long := "X-Long: " + strings.Repeat("h", 300<<10) + "\r\n"
	for _, tt := range []struct {
		name, in, want, rest string
		limit                int
	}{
		{"simple", "A: 1\r\nB: 2\r\n\r\nbody", "A: 1\r\nB: 2\r\n", "body", 100},
		{"bare LF", "A: 1\nB: 2\n\nbody", "A: 1\nB: 2\n", "body", 100},
		{"no body", "A: 1\r\nB: 2", "A: 1\r\nB: 2", "", 100},
		{"line over the limit", "A: 1\r\n" + long + "B: 2\r\n\r\nbody", "A: 1\r\n", "body", 256 << 10},
		{"limit between lines", "A: 1\r\nB: 2\r\n\r\nbody", "A: 1\r\n", "body", 8},
	} {
		t.Run(tt.name, func(t *testing.T) {
			br := bufio.NewReader(strings.NewReader(tt.in))
			got := string(readHeaderSection(br, tt.limit))
			rest, _ := io.ReadAll(br)
			if got != tt.want || string(rest) != tt.rest {
				t.Errorf("got %.40q, rest %.40q; want %q, %q", got, rest, tt.want, tt.rest)
			}
		})
	}
}

// TestInspectLongHeader: a header section over the limit gives the fields
// that fit and still finds the attachments.
func TestInspectLongHeader(t *testing.T) {
	msg := "Subject: first\r\nContent-Type: multipart/mixed; boundary=b\r\n" +
		"X-Flood: " + strings.Repeat("f", 1<<20) + "\r\nTo: lost@example.com\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n" +
		"--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=a.pdf\r\n\r\n%PDF\r\n--b--\r\n"
	rec := &Record{}
	inspect(strings.NewReader(msg), rec)
	if rec.Headers.Subject != "first" || rec.Headers.To != "" {
		t.Errorf("headers %+v", rec.Headers)
	}
	if len(rec.Attachments) != 1 || rec.Attachments[0].Filename != "a.pdf" {
		t.Errorf("attachments %+v", rec.Attachments)
	}
}

func TestParseAccounts(t *testing.T) {
	users := map[string]string{}
	err := ParseAccounts("# accounts\r\nalice:s3cret:with:colons\r\n\r\nbob:\n", "test", users)
	if err != nil || len(users) != 2 || users["alice"] != "s3cret:with:colons" || users["bob"] != "" {
		t.Errorf("users %q, error %v", users, err)
	}
	for _, bad := range []string{"alice", ":nouser", "ok:1\nhunter2"} {
		err := ParseAccounts(bad, "SRC", map[string]string{})
		if err == nil || !strings.HasPrefix(err.Error(), "SRC line ") {
			t.Errorf("%q: error %v", bad, err)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error shows the line: %v", err)
		}
	}
}

func TestLoadAccounts(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	users := map[string]string{}
	if w, err := LoadAccounts(write("ok", "alice:pw\n", 0o600), users); err != nil || w != "" || users["alice"] != "pw" {
		t.Errorf("0600: %q %v %q", w, err, users)
	}
	if w, err := LoadAccounts(write("readable", "bob:pw\n", 0o644), users); err != nil || !strings.Contains(w, "others can read it (mode 0644)") {
		t.Errorf("0644: warning %q, error %v", w, err)
	}
	big := write("big", strings.Repeat("u:p\n", (maxAccountsFile/4)+1), 0o600)
	for _, tt := range []struct{ path, want string }{
		{write("group-writable", "c:pw\n", 0o620), "others can write it (mode 0620)"},
		{write("world-writable", "c:pw\n", 0o606), "others can write it (mode 0606)"},
		{dir, "not a regular file"},
		{filepath.Join(dir, "missing"), "no such file"},
		{big, "larger than 1 MiB"},
		{write("bad", "hunter2\n", 0o600), "line 1: want USER:PASSWORD"},
	} {
		_, err := LoadAccounts(tt.path, map[string]string{})
		var oe *OptionError
		if !errors.As(err, &oe) || oe.Hint == "" || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q with a hint", filepath.Base(tt.path), err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error shows the file's content: %v", err)
		}
	}
	if _, err := os.Stat("/dev/zero"); err == nil {
		if _, err := LoadAccounts("/dev/zero", map[string]string{}); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("/dev/zero: %v", err)
		}
	}
}

// TestInspectManyAttachments: the attachment list and its names are
// bounded, whatever the message holds.
func TestInspectManyAttachments(t *testing.T) {
	var b strings.Builder
	b.WriteString("Content-Type: multipart/mixed; boundary=b\r\n\r\n")
	long := strings.Repeat("é", maxAttachmentField)
	for i := 0; i < maxAttachments+500; i++ {
		fmt.Fprintf(&b, "--b\r\nContent-Disposition: attachment; filename=\"%s%d\"\r\n\r\nx\r\n", long, i)
	}
	b.WriteString("--b--\r\n")
	rec := &Record{}
	inspect(strings.NewReader(b.String()), rec)
	if len(rec.Attachments) != maxAttachments {
		t.Fatalf("%d attachments listed, want %d", len(rec.Attachments), maxAttachments)
	}
	if n := rec.Attachments[0].Filename; len(n) != maxAttachmentField || n != long[:maxAttachmentField] {
		t.Errorf("name of %d bytes", len(n))
	}
}

// TestServeReturnsWithStuckConnection: even a connection stuck where no
// deadline reaches (here a --delay that ignores the shutdown) does not
// keep Serve from returning.
func TestServeReturnsWithStuckConnection(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	held := make(chan struct{}, 1)
	r := startHook(t, Options{Delays: map[string]time.Duration{"rcpt": time.Hour}, Deadline: 100 * time.Millisecond, MessageGrace: 100 * time.Millisecond},
		func(s *Sink) {
			s.sleepHook = func(string, time.Duration) bool {
				held <- struct{}{}
				<-release
				return true
			}
		})
	rc := dialRaw(t, r.addr)
	rc.write("EHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\n")
	<-held
	_, took := r.waitDone(t, 30*time.Second, "its deadline, with a connection stuck in a delay")
	t.Logf("a stuck connection: Serve returned %s after the RCPT was held", took.Round(time.Millisecond))
	// Its socket was closed under it: after the banner's, EHLO's and
	// MAIL's replies, the end.
	rc.c.SetReadDeadline(time.Now().Add(30 * time.Second))
	rc.expect(250)
	rc.expect(250)
	if l, err := rc.r.ReadLine(); err == nil || smtpsession.IsTimeout(err) {
		t.Errorf("the stuck connection is still open: %q %v", l, err)
	}
}
