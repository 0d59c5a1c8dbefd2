package interop_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/smtpx/smtpx/cmd"
	"github.com/smtpx/smtpx/internal/certs"
	"github.com/smtpx/smtpx/internal/term"
)

// What the suite did, for the line TestMain prints: the servers that ran,
// the cases checked against them and the stored bytes compared with what
// smtpx meant to send.
var tally struct {
	sync.Mutex
	servers map[string]bool
	cases   int
	bytes   int64
}

func TestMain(m *testing.M) {
	tally.servers = map[string]bool{}
	code := m.Run()
	if tally.cases > 0 {
		names := slices.Sorted(maps.Keys(tally.servers))
		fmt.Printf("interop: %d servers (%s) x %d cases, %d stored bytes compared with what was sent\n",
			len(names), strings.Join(names, ", "), tally.cases, tally.bytes)
	}
	os.Exit(code)
}

// count records one case run against server.
func count(server string) {
	tally.Lock()
	tally.servers[server] = true
	tally.cases++
	tally.Unlock()
}

// result is one run of smtpx.
type result struct {
	exit           int
	stdout, stderr string
	json           sendJSON
}

// sendJSON is the part of send's --json output the tests read.
type sendJSON struct {
	Exit       int    `json:"exit"`
	Code       int    `json:"code"`
	Enhanced   string `json:"enhanced"`
	Error      string `json:"error"`
	Hint       string `json:"hint"`
	LongLines  int    `json:"long_lines"`
	Recipients []struct {
		Address string `json:"address"`
		Status  string `json:"status"`
		Reply   *struct {
			Code int `json:"code"`
		} `json:"reply"`
	} `json:"recipients"`
	Events []struct {
		Dir  string `json:"dir"`
		Line string `json:"line"`
	} `json:"events"`
}

// smtpx runs the command line in process, with env as its environment.
func smtpx(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	io := &term.IO{In: strings.NewReader(""), Out: &out, Err: &errb, Getenv: func(k string) string { return env[k] }}
	r := result{exit: cmd.Main(args, io, cmd.BuildInfo{Version: "interop"}), stdout: out.String(), stderr: errb.String()}
	for _, a := range args {
		if a == "--json" {
			if err := json.Unmarshal(out.Bytes(), &r.json); err != nil {
				t.Fatalf("smtpx %q: %v\n%s%s", args, err, out.String(), errb.String())
			}
		}
	}
	return r
}

// sent lists the commands smtpx wrote, from --json events.
func (r result) sent() []string {
	var s []string
	for _, e := range r.json.Events {
		if e.Dir == "sent" {
			s = append(s, e.Line)
		}
	}
	return s
}

// command returns the first command sent that starts with verb, "" if none.
func (r result) command(verb string) string {
	for _, l := range r.sent() {
		if strings.HasPrefix(l, verb) {
			return l
		}
	}
	return ""
}

// hasParam reports whether a MAIL or RCPT command carries param.
func hasParam(command, param string) bool {
	f := strings.Fields(command)
	return len(f) > 1 && slices.Contains(f[1:], param)
}

// said reports whether an info line of the transcript contains s.
func (r result) said(s string) bool {
	for _, e := range r.json.Events {
		if e.Dir == "info" && strings.Contains(e.Line, s) {
			return true
		}
	}
	return false
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.exit, r.stdout, r.stderr)
}

// fixed makes a built message the same bytes in --dump-mail and in a
// send; id is its Message-ID, by which the test finds it once stored.
func fixed(id string) []string {
	return []string{"--subject", "smtpx interop", "--header", "Date: Sat, 28 Nov 2026 01:00:00 +0000",
		"--header", "Message-ID: <" + id + ">", "--helo", "client.smtpx.test"}
}

// dump is what smtpx would send for the message flags in args.
func dump(t *testing.T, args []string) []byte {
	t.Helper()
	r := smtpx(t, nil, append([]string{"send", "--dump-mail"}, args...)...)
	if r.exit != 0 {
		t.Fatalf("--dump-mail %q: %s", args, r)
	}
	return []byte(r.stdout)
}

// traceFields are the header fields a receiving server puts on top.
var traceFields = map[string]bool{"received": true, "return-path": true, "delivered-to": true, "x-original-to": true}

// stripTrace removes the trace fields at the top of a stored message.
func stripTrace(b []byte) []byte {
	in := false
	for len(b) > 0 {
		end := bytes.IndexByte(b, '\n') + 1
		if end == 0 {
			end = len(b)
		}
		line := b[:end]
		switch {
		case in && (line[0] == ' ' || line[0] == '\t'):
		default:
			name, _, ok := bytes.Cut(line, []byte(":"))
			if in = ok && traceFields[strings.ToLower(string(name))]; !in {
				return b
			}
		}
		b = b[end:]
	}
	return b
}

// sameBytes compares what a server stored (its trace fields removed, and
// LF line ends made CRLF when lf: a Maildir keeps LF) with what the client
// meant to send (for smtpx, --dump-mail), and counts the bytes.
func sameBytes(t *testing.T, stored, want []byte, lf bool) {
	t.Helper()
	got := stripTrace(stored)
	if lf {
		got = bytes.ReplaceAll(got, []byte("\n"), []byte("\r\n"))
	}
	if !bytes.Equal(got, want) {
		t.Errorf("stored %d bytes differ from the %d sent: %s", len(got), len(want), firstDiff(got, want))
		return
	}
	tally.Lock()
	tally.bytes += int64(len(want))
	tally.Unlock()
}

func firstDiff(a, b []byte) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	lo := max(0, i-40)
	return fmt.Sprintf("at byte %d: stored %q, want %q", i, a[lo:min(len(a), i+40)], b[lo:min(len(b), i+40)])
}

// writeFile writes a --data file and returns "@path".
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return "@" + p
}

// eightBitData is a raw message with 8-bit bytes in its body and a dot to
// stuff, with the Message-ID id.
func eightBitData(id string) string {
	return "From: a@example.org\nTo: bob@example.net\nSubject: 8-bit\nDate: Sat, 28 Nov 2026 01:00:00 +0000\n" +
		"Message-ID: <" + id + ">\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n" +
		"Grüße aus Köln, naïve café\n.a line with a leading dot\nend\n"
}

// longLineData is a raw message with one line of 1500 octets.
func longLineData(id string) string {
	return "From: a@example.org\nTo: b@example.net\nSubject: long line\nDate: Sat, 28 Nov 2026 01:00:00 +0000\n" +
		"Message-ID: <" + id + ">\n\n" + strings.Repeat("0123456789", 150) + "\nshort line\n"
}

// selfSigned writes a certificate for 127.0.0.1 and localhost.
func selfSigned(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	c, err := certs.SelfSigned(certs.Options{Hosts: []string{"127.0.0.1", "localhost"}})
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile, err = c.WriteFiles(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}
