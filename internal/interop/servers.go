package interop

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/smtpx/smtpx/internal/smtptest"
)

// Server is a real server run from a script: it listens on a loopback
// port it picks itself and stores each message it accepts as a file.
type Server struct {
	Addr string   // 127.0.0.1:PORT
	dir  string   // where messages go
	logs []string // the server's standard error and own log, for failure messages
}

// testdata is this package's testdata directory, wherever the test runs.
func testdata() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "testdata")
}

// startScript runs argv (a server that prints its port on the first line
// of standard output and stores messages in dir) with env added, stops it
// by its process id when the test ends, and returns its address.
func startScript(t testing.TB, name, dir string, env []string, argv ...string) *Server {
	t.Helper()
	s := &Server{dir: dir, logs: []string{filepath.Join(t.TempDir(), name+".stderr")}}
	logf, err := os.Create(s.logs[0])
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logf.Close() })
	run(t, cmd)
	port := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		port <- strings.TrimSpace(line)
		io.Copy(io.Discard, out)
	}()
	select {
	case p := <-port:
		if p == "" {
			t.Fatalf("%s did not start:\n%s", name, s.Log())
		}
		s.Addr = "127.0.0.1:" + p
	case <-time.After(30 * time.Second):
		t.Fatalf("%s printed no port in 30s:\n%s", name, s.Log())
	}
	smtptest.WaitListening(t, s.Addr)
	return s
}

// run starts cmd and stops it by its process id when the test ends:
// SIGTERM, and SIGKILL if it is still there 10 seconds later.
func run(t testing.TB, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
}

// Log is what the server logged.
func (s *Server) Log() string {
	var b strings.Builder
	for _, f := range s.logs {
		text, _ := os.ReadFile(f)
		b.Write(text)
	}
	return b.String()
}

// Messages returns the messages the server stored, oldest first.
func (s *Server) Messages(t testing.TB) [][]byte {
	t.Helper()
	return readAll(t, filepath.Join(s.dir, "*.eml"))
}

// readAll reads the files that match pattern, in the order of their names.
func readAll(t testing.TB, pattern string) [][]byte {
	t.Helper()
	files, _ := filepath.Glob(pattern)
	sort.Strings(files)
	var out [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// Python is the Debian python3 that has python3-aiosmtpd, which a python3
// earlier on PATH (pyenv, a virtualenv) may not see.
func python(t testing.TB) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		path, err := exec.LookPath(p)
		if err != nil {
			continue
		}
		if exec.Command(path, "-c", "import aiosmtpd").Run() == nil {
			return path
		}
	}
	need(t, "aiosmtpd is not installed (Debian: apt-get install python3-aiosmtpd)")
	return ""
}

// StartAiosmtpd runs aiosmtpd with AUTH LOGIN only, required, for the one
// account user/password (testdata/aiosmtpd_server.py).
func StartAiosmtpd(t testing.TB, user, password string) *Server {
	t.Helper()
	py := python(t)
	dir := t.TempDir()
	return startScript(t, "aiosmtpd", dir, []string{"AIOSMTPD_USER=" + user, "AIOSMTPD_PASSWORD=" + password},
		py, filepath.Join(testdata(), "aiosmtpd_server.py"), dir)
}

// SMTPServerOptions configure Nodemailer's smtp-server.
type SMTPServerOptions struct {
	CertFile, KeyFile string
	User, Password    string
	// Rcpt maps a recipient to the code and text RCPT TO gets.
	Rcpt map[string]SMTPReply
	// Options go to SMTPServer as they are: "size", "hide8BITMIME", ...
	Options map[string]any
}

// SMTPReply is a reply a script gives.
type SMTPReply struct {
	Code int
	Text string
}

// MarshalJSON writes the reply as [code, text].
func (r SMTPReply) MarshalJSON() ([]byte, error) { return json.Marshal([]any{r.Code, r.Text}) }

// StartSMTPServer runs Nodemailer's smtp-server (testdata/smtp-server,
// installed there with npm ci) with STARTTLS and AUTH PLAIN and LOGIN,
// logging the whole dialogue.
func StartSMTPServer(t testing.TB, o SMTPServerOptions) *Server {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		need(t, "node is not installed")
	}
	app := filepath.Join(testdata(), "smtp-server")
	if _, err := os.Stat(filepath.Join(app, "node_modules", "smtp-server")); err != nil {
		need(t, fmt.Sprintf("smtp-server is not installed: run npm ci --prefix %s", app))
	}
	dir := t.TempDir()
	logFile := filepath.Join(t.TempDir(), "dialogue.log")
	cfg, err := json.Marshal(map[string]any{"dir": dir, "log": logFile, "cert": o.CertFile, "key": o.KeyFile,
		"user": o.User, "password": o.Password, "rcpt": o.Rcpt, "options": o.Options})
	if err != nil {
		t.Fatal(err)
	}
	s := startScript(t, "smtp-server", dir, []string{"SMTP_SERVER_CONFIG=" + string(cfg)}, node, filepath.Join(app, "server.js"))
	s.logs = append(s.logs, logFile)
	return s
}
