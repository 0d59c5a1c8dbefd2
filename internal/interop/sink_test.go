package interop_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smtpx/smtpx/cmd"
	"github.com/smtpx/smtpx/internal/smtptest"
	"github.com/smtpx/smtpx/internal/term"
)

// sink runs `smtpx sink` in process until it has accepted one message (or
// two minutes passed) and returns its address and a function that waits
// for it to end and returns what it printed.
func sink(t *testing.T, args ...string) (addr string, wait func() string) {
	t.Helper()
	ready := filepath.Join(t.TempDir(), "ready")
	var out syncBuffer
	done := make(chan int, 1)
	go func() {
		io := &term.IO{In: strings.NewReader(""), Out: &out, Err: &out, Getenv: func(string) string { return "" }}
		done <- cmd.Main(append([]string{"sink", "--color=never", "--listen", "127.0.0.1:0", "--ready-file", ready,
			"--exit-after", "1", "--run-for", "2m"}, args...), io, cmd.BuildInfo{Version: "interop"})
	}()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if b, err := os.ReadFile(ready); err == nil && bytes.HasSuffix(b, []byte("\n")) {
			addr = strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0])
			break
		}
		select {
		case code := <-done:
			t.Fatalf("the sink ended with exit %d before it was ready:\n%s", code, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sink is not ready:\n%s", out.String())
		}
	}
	return addr, func() string {
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("sink exit %d:\n%s", code, out.String())
			}
		case <-time.After(3 * time.Minute):
			t.Fatalf("the sink did not stop:\n%s", out.String())
		}
		return out.String()
	}
}

// A real client (Python's smtplib) into the sink (issue 17, item 7): a
// message over --max-size refused at MAIL (smtplib declares SIZE=) is
// logged naming the flag; commands out of sequence get 503.
func TestSinkWithSmtplib(t *testing.T) {
	py := smtptest.NeedTool(t, "python3", "/usr/bin")
	addr, wait := sink(t, "--max-size", "300")
	host, port, _ := strings.Cut(addr, ":")
	count("smtpx sink")
	script := `
import smtplib, sys
s = smtplib.SMTP(sys.argv[1], int(sys.argv[2]), local_hostname="client.test")
big = "Subject: big\r\n\r\n" + "x" * 400 + "\r\n"
try:
    s.sendmail("a@example.org", ["b@example.com"], big)
    print("MAIL accepted")
except smtplib.SMTPSenderRefused as e:
    print("MAIL", e.smtp_code, e.smtp_error.decode())
print("RCPT", s.docmd("RCPT TO:<b@example.com>")[0])
print("DATA", s.docmd("DATA")[0])
s.sendmail("a@example.org", ["b@example.com"], "Subject: small\r\n\r\nhello\r\n")
s.quit()
`
	out, err := exec.Command(py, "-c", script, host, port).CombinedOutput()
	log := wait()
	if err != nil {
		t.Fatalf("smtplib: %v\n%s\nsink:\n%s", err, out, log)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 3 || !regexp.MustCompile(`^MAIL 552 5\.3\.4 .*smtpx sink --max-size`).MatchString(lines[0]) ||
		lines[1] != "RCPT 503" || lines[2] != "DATA 503" {
		t.Errorf("smtplib saw:\n%s", out)
	}
	if !regexp.MustCompile(`(?m)^\[1\] MAIL FROM:<a@example\.org> refused: 552 5\.3\.4 \(--max-size\)$`).MatchString(log) {
		t.Errorf("the sink did not log the refusal naming --max-size:\n%s", log)
	}
}

// swaks into `smtpx sink --received`: the stored message is the trace
// field a mail server adds, then exactly what swaks sent.
func TestSinkReceivedWithSwaks(t *testing.T) {
	swaks := smtptest.NeedTool(t, "swaks")
	dir := t.TempDir()
	addr, wait := sink(t, "--dir", dir, "--received", "--hostname", "sink.test")
	count("smtpx sink")
	msg := "From: a@example.org\r\nTo: b@example.com\r\nSubject: trace\r\nMessage-ID: <trace@smtpx.test>\r\n\r\n.leading dot\r\nbody\r\n"
	data := filepath.Join(t.TempDir(), "m.eml")
	os.WriteFile(data, []byte(msg), 0o644)
	out, err := exec.Command(swaks, "--server", addr, "--helo", "client.test", "--from", "a@example.org", "--to", "b@example.com",
		"--data", "@"+data).CombinedOutput()
	log := wait()
	if err != nil {
		t.Fatalf("swaks: %v\n%s\nsink:\n%s", err, out, log)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	if len(files) != 1 {
		t.Fatalf("%d files stored\n%s", len(files), log)
	}
	stored, _ := os.ReadFile(files[0])
	re := regexp.MustCompile(`^Received: from client\.test \(\[127\.0\.0\.1\]\)\r\n\tby sink\.test \(smtpx sink\) with ESMTP\r\n\tfor <b@example\.com>; [A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d \+0000\r\n`)
	loc := re.FindIndex(stored)
	if loc == nil {
		t.Fatalf("no Received field on top:\n%s", stored)
	}
	// swaks ends --data content with a line end of its own before the dot.
	sameBytes(t, stored[loc[1]:], []byte(msg+"\r\n"), false)
}

// syncBuffer is a bytes.Buffer the sink's goroutines can share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
