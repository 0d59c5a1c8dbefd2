package sink

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Interop tests run real clients nobody here wrote against the sink. A
// missing tool skips the test, unless SMTPX_INTEROP=1 (set by .ci/run,
// which installs them): then it fails.
func need(t *testing.T, tool string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		if os.Getenv("SMTPX_INTEROP") == "1" {
			t.Fatalf("%s not installed, and SMTPX_INTEROP=1 requires it", tool)
		}
		t.Skipf("%s not installed (Debian: swaks, postfix); SMTPX_INTEROP=1 makes this a failure", tool)
	}
	return p
}

// swaksSent rebuilds the message swaks sent from its own transcript: the
// lines it printed between the 354 and the final ".", un-dot-stuffed,
// each ended with CRLF.
func swaksSent(t *testing.T, out string) string {
	t.Helper()
	var b strings.Builder
	in := false
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSuffix(l, "\r")
		switch {
		case !in && (strings.HasPrefix(l, "<~  354") || strings.HasPrefix(l, "<-  354")):
			in = true
		case in && (l == " ~> ." || l == " -> ."):
			return b.String()
		case in && (strings.HasPrefix(l, " ~> ") || strings.HasPrefix(l, " -> ")):
			// Undo dot-stuffing; the lone "." that ends the data is above.
			b.WriteString(strings.TrimPrefix(l[4:], ".") + "\r\n")
		}
	}
	t.Fatalf("no complete DATA in swaks output:\n%s", out)
	return ""
}

const swaksMsg = "From: A <a@example.org>\r\nTo: b@example.com\r\nSubject: =?UTF-8?B?R3LDvMOfZQ==?=\r\n" +
	"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" +
	".a line with a leading dot\r\n..and two\r\nGrüße, 8-bit text\r\n\r\nend\r\n"

func TestInteropSwaks(t *testing.T) {
	swaks := need(t, "swaks")
	work := t.TempDir()
	msgFile := filepath.Join(work, "msg.eml")
	if err := os.WriteFile(msgFile, []byte(swaksMsg), 0o600); err != nil {
		t.Fatal(err)
	}
	cert := filepath.Join(work, "cert.pem")
	dir := filepath.Join(work, "out")
	r := start(t, Options{Dir: dir, TLS: true, SaveCert: cert, Users: map[string]string{"u": "p w"}})

	for _, mech := range []string{"PLAIN", "LOGIN"} {
		t.Run("starttls-auth-"+mech, func(t *testing.T) {
			cmd := exec.Command(swaks, "--server", r.addr, "--tls", "--tls-verify", "--tls-ca-path", cert,
				"--auth", mech, "--auth-user", "u", "--auth-password", "p w",
				"--from", "a@example.org", "--to", "b@example.com", "--data", "@"+msgFile, "--pipeline")
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("swaks: %v\n%s", err, out)
			}
			rec := <-r.rec.msgCh
			got, err := os.ReadFile(rec.Path)
			if err != nil {
				t.Fatal(err)
			}
			sent := swaksSent(t, string(out))
			if string(got) != sent {
				t.Fatalf("stored message differs from what swaks sent:\nstored %q\nsent   %q", got, sent)
			}
			if !strings.HasPrefix(string(got), swaksMsg) {
				t.Errorf("stored %q does not start with the data file", got)
			}
			if rec.AuthUser != "u" || rec.Protocol != "ESMTPSA" || rec.Headers.Subject != "Grüße" {
				t.Errorf("record %+v", rec)
			}
		})
	}

	t.Run("verification-fails-without-ca", func(t *testing.T) {
		out, err := exec.Command(swaks, "--server", r.addr, "--tls", "--tls-verify",
			"--auth", "PLAIN", "--auth-user", "u", "--auth-password", "p w", "--to", "b@example.com").CombinedOutput()
		if err == nil {
			t.Fatalf("swaks trusted a self-signed certificate it was not given:\n%s", out)
		}
	})

	t.Run("lmtp-unix-socket", func(t *testing.T) {
		sock := filepath.Join(work, "lmtp.sock")
		lr := start(t, Options{LMTP: true, Listen: []Addr{{Network: "unix", Address: sock}}, Dir: filepath.Join(work, "lmtp")})
		out, err := exec.Command(swaks, "--socket", sock, "--protocol", "LMTP",
			"--from", "a@example.org", "--to", "b@example.com,c@example.com", "--data", "@"+msgFile).CombinedOutput()
		if err != nil {
			t.Fatalf("swaks: %v\n%s", err, out)
		}
		rec := <-lr.rec.msgCh
		got, _ := os.ReadFile(rec.Path)
		if string(got) != swaksSent(t, string(out)) || rec.Protocol != "LMTP" || len(rec.RcptTo) != 2 {
			t.Errorf("record %+v, stored %q", rec, got)
		}
	})
}

// TestInteropSMTPSource: Postfix's load generator, 4 parallel sessions
// sending 2000 messages over reused connections; every one must be stored
// exactly once.
func TestInteropSMTPSource(t *testing.T) {
	src := need(t, "smtp-source")
	if testing.Short() {
		t.Skip("2000 messages; skipped with -short")
	}
	for _, tt := range []struct {
		name  string
		args  []string
		count int
		lmtp  bool
	}{
		{"reused-connections", []string{"-s", "4", "-m", "2000", "-d"}, 2000, false},
		{"connection-per-message", []string{"-s", "4", "-m", "300"}, 300, false},
		{"lmtp", []string{"-L", "-s", "2", "-m", "200", "-d"}, 200, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			o := Options{Dir: dir, ExitAfter: tt.count, LMTP: tt.lmtp}
			target := ""
			if tt.lmtp {
				sock := filepath.Join(t.TempDir(), "s")
				o.Listen = []Addr{{Network: "unix", Address: sock}}
				target = "unix:" + sock
			}
			r := start(t, o)
			if target == "" {
				target = r.addr
			}
			args := append(tt.args, "-N", "-M", "client.test", "-f", "from@example.com", "-t", "rcpt@example.com", target)
			out, err := exec.Command(src, args...).CombinedOutput()
			if err != nil {
				t.Fatalf("smtp-source %v: %v\n%s", args, err, out)
			}
			res := r.result(t)
			if res.Messages != tt.count {
				t.Fatalf("sink accepted %d messages, want %d", res.Messages, tt.count)
			}
			records, _, _ := r.rec.snapshot()
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != tt.count || len(records) != tt.count {
				t.Fatalf("%d files and %d records, want %d", len(entries), len(records), tt.count)
			}
			seqs, rcpts, ids := map[int]bool{}, map[string]bool{}, map[string]bool{}
			for _, rec := range records {
				seqs[rec.Seq] = true
				rcpts[strings.Join(rec.RcptTo, ",")] = true // -N numbers every recipient
				ids[rec.Headers.MessageID] = true
				b, err := os.ReadFile(rec.Path)
				if err != nil {
					t.Fatal(err)
				}
				sum := sha256.Sum256(b)
				if hex.EncodeToString(sum[:]) != rec.SHA256 || int64(len(b)) != rec.Size {
					t.Fatalf("%s does not match its record", rec.Path)
				}
			}
			if len(seqs) != tt.count || !seqs[1] || !seqs[tt.count] || len(rcpts) != tt.count || len(ids) != tt.count {
				t.Errorf("lost or duplicated: %d seqs, %d recipients, %d message ids", len(seqs), len(rcpts), len(ids))
			}
			t.Logf("smtp-source %s: %d messages stored, none lost or duplicated", tt.name, tt.count)
		})
	}
}
