package smtptest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Interop reports whether real peers are mandatory (SMTPX_INTEROP=1, as in
// CI): then a missing peer fails the test instead of skipping it.
func Interop() bool { return os.Getenv("SMTPX_INTEROP") == "1" }

// NeedTool returns the path of an installed program, or skips the test
// (fails it under SMTPX_INTEROP=1) when it is missing.
func NeedTool(t testing.TB, name string, extra ...string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range extra {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if Interop() {
		t.Fatalf("%s is not installed and SMTPX_INTEROP=1", name)
	}
	t.Skipf("%s is not installed (set SMTPX_INTEROP=1 to make this a failure)", name)
	return ""
}

// FreePort returns a loopback address nothing listens on right now.
func FreePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// WaitListening waits until addr accepts connections.
func WaitListening(t testing.TB, addr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("nothing listens on %s", addr)
}

// start runs a server process for the test's lifetime.
func start(t testing.TB, path string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd
}

// SMTPSink runs Postfix's smtp-sink on a loopback port with extra flags
// (e.g. "-f", "RCPT") and returns its address. With dump set, messages are
// written (-d) to the returned directory, which the unprivileged sink user
// can write.
func SMTPSink(t testing.TB, dump bool, flags ...string) (addr, dir string) {
	t.Helper()
	path := NeedTool(t, "smtp-sink", "/usr/sbin")
	addr = FreePort(t)
	args := append([]string{"-u", "nobody"}, flags...)
	if dump {
		var err error
		if dir, err = os.MkdirTemp("", "smtp-sink-"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		if err := os.Chmod(dir, 0o777); err != nil {
			t.Fatal(err)
		}
		args = append(args, "-d", filepath.Join(dir, "%M."))
	}
	args = append(args, addr, "100")
	start(t, path, args...)
	WaitListening(t, addr)
	return addr, dir
}

// Mailpit is a running mailpit (github.com/axllent/mailpit).
type Mailpit struct {
	SMTP string // host:port
	HTTP string // host:port of the API
}

// StartMailpit runs mailpit on loopback with a STARTTLS certificate, any
// AUTH accepted, no version check and no reverse DNS.
func StartMailpit(t testing.TB, certFile, keyFile string, extra ...string) *Mailpit {
	t.Helper()
	gobin := filepath.Join(os.Getenv("HOME"), "go", "bin")
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		gobin = filepath.Join(strings.TrimSpace(string(out)), "bin")
	}
	path := NeedTool(t, "mailpit", gobin)
	m := &Mailpit{SMTP: FreePort(t), HTTP: FreePort(t)}
	args := []string{"--smtp", m.SMTP, "--listen", m.HTTP, "--disable-version-check", "--smtp-disable-rdns",
		"--database", filepath.Join(t.TempDir(), "mailpit.db"), "--quiet"}
	if certFile != "" {
		args = append(args, "--smtp-tls-cert", certFile, "--smtp-tls-key", keyFile, "--smtp-auth-accept-any")
	}
	args = append(args, extra...)
	start(t, path, args...)
	WaitListening(t, m.SMTP)
	WaitListening(t, m.HTTP)
	return m
}

// Raw returns the raw source of the newest message mailpit stored.
func (m *Mailpit) Raw(t testing.TB) []byte {
	t.Helper()
	var list struct {
		Messages []struct{ ID string } `json:"messages"`
	}
	m.get(t, "/api/v1/messages?limit=1", &list)
	if len(list.Messages) == 0 {
		t.Fatal("mailpit holds no message")
	}
	resp, err := http.Get("http://" + m.HTTP + "/api/v1/message/" + list.Messages[0].ID + "/raw")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Count returns how many messages mailpit holds.
func (m *Mailpit) Count(t testing.TB) int {
	var list struct {
		Total int `json:"total"`
	}
	m.get(t, "/api/v1/messages?limit=1", &list)
	return list.Total
}

// Clear deletes every message.
func (m *Mailpit) Clear(t testing.TB) {
	req, _ := http.NewRequest(http.MethodDelete, "http://"+m.HTTP+"/api/v1/messages", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

func (m *Mailpit) get(t testing.TB, path string, v any) {
	t.Helper()
	resp, err := http.Get("http://" + m.HTTP + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("mailpit %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

// StripTrace removes the trace header fields a receiving server prepends
// (Received, Return-Path, X-Client-*, X-Helo-Args, X-Mail-Args,
// X-Rcpt-Args) from the top of a stored message, so it can be compared
// byte for byte with what the client sent.
func StripTrace(raw []byte) []byte {
	r := bufio.NewReader(strings.NewReader(string(raw)))
	var kept strings.Builder
	inTrace := false
	top := true
	for {
		line, err := r.ReadString('\n')
		if line == "" && err != nil {
			break
		}
		if top {
			if (line[0] == ' ' || line[0] == '\t') && inTrace {
				continue
			}
			name, _, _ := strings.Cut(line, ":")
			switch strings.ToLower(name) {
			case "received", "return-path", "x-client-addr", "x-client-proto", "x-helo-args", "x-mail-args", "x-rcpt-args":
				inTrace = true
				continue
			}
			top = false
		}
		kept.WriteString(line)
	}
	return []byte(kept.String())
}

// String describes the Mailpit.
func (m *Mailpit) String() string { return fmt.Sprintf("mailpit smtp=%s http=%s", m.SMTP, m.HTTP) }
