package cmd

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smtpx/smtpx/internal/certs"
	"github.com/smtpx/smtpx/internal/smtptest"
)

// Interop with servers nobody here wrote: Postfix's smtp-sink and mailpit.
// Skipped when they are not installed, unless SMTPX_INTEROP=1.

func TestSendSMTPSinkExitCodes(t *testing.T) {
	for _, tt := range []struct {
		flags []string
		exit  int
		rcpt  int // the code in the JSON recipient reply, 0 to skip
	}{
		{nil, 0, 250},
		{[]string{"-f", "RCPT"}, 5, 500},
		{[]string{"-r", "RCPT"}, 4, 450},
		{[]string{"-f", "DATA"}, 5, 250},
		{[]string{"-f", "."}, 5, 250},
		{[]string{"-q", "."}, 3, 250},
		{[]string{"-f", "MAIL"}, 5, 0},
	} {
		addr, _ := smtptest.SMTPSink(t, false, tt.flags...)
		out, stderr, code := run(t, "", nil, "send", "--json", "--timeout", "5s", "--server", addr, "--from", "a@example.org", "--to", "b@example.com")
		if code != tt.exit {
			t.Errorf("smtp-sink %v: exit %d, want %d; %s", tt.flags, code, tt.exit, stderr)
			continue
		}
		var res struct {
			Exit       int `json:"exit"`
			Recipients []struct {
				Address string `json:"address"`
				Reply   *struct {
					Code int `json:"code"`
				} `json:"reply"`
			} `json:"recipients"`
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("%v: %v\n%s", tt.flags, err, out)
		}
		if res.Exit != tt.exit || len(res.Recipients) != 1 || res.Recipients[0].Address != "b@example.com" {
			t.Errorf("%v: %+v", tt.flags, res)
		}
		if tt.rcpt != 0 && (res.Recipients[0].Reply == nil || res.Recipients[0].Reply.Code != tt.rcpt) {
			t.Errorf("%v: recipient reply %+v, want %d", tt.flags, res.Recipients[0].Reply, tt.rcpt)
		}
	}
}

// fixed makes the built message deterministic so two runs give the same bytes.
var fixed = []string{"--subject", "smtpx interop", "--header", "Date: Sat, 28 Nov 2026 01:00:00 +0000", "--header", "Message-ID: <interop@smtpx.test>"}

func dump(t *testing.T, args ...string) []byte {
	t.Helper()
	out, stderr, code := run(t, "", nil, append([]string{"send", "--dump-mail"}, args...)...)
	if code != 0 {
		t.Fatalf("dump-mail: %d %s", code, stderr)
	}
	return []byte(out)
}

func TestSendSMTPSinkStoresWhatWasDumped(t *testing.T) {
	addr, dir := smtptest.SMTPSink(t, true)
	args := append([]string{"--from", "a@example.org", "--to", "b@example.com"}, fixed...)
	if _, stderr, code := run(t, "", nil, append([]string{"send", "--server", addr}, args...)...); code != 0 {
		t.Fatalf("send: %d %s", code, stderr)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) != 1 {
		t.Fatalf("smtp-sink stored %d files", len(files))
	}
	stored, _ := os.ReadFile(files[0])
	// smtp-sink writes LF line ends; compare in that form.
	want := bytes.ReplaceAll(dump(t, args...), []byte("\r\n"), []byte("\n"))
	// smtp-sink ends each dump file with one extra empty line.
	got := bytes.TrimSuffix(smtptest.StripTrace(stored), []byte("\n"))
	if !bytes.Equal(got, want) {
		t.Errorf("stored %d bytes differ from the %d dumped:\n%s", len(got), len(want), firstDiff(got, want))
	}
}

func TestSendMailpitByteIdentical(t *testing.T) {
	dir := t.TempDir()
	c, err := certs.SelfSigned(certs.Options{Hosts: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile, err := c.WriteFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	mp := smtptest.StartMailpit(t, certFile, keyFile)

	dataFile := filepath.Join(dir, "data.eml")
	os.WriteFile(dataFile, []byte("Message-ID: <data@smtpx.test>\nFrom: a@example.org\nTo: b@example.com\nSubject: =?utf-8?q?gr=C3=BC=C3=9Fe?=\n\n.leading dot\n..two dots\n.\nGrüße, naïve café\r\nlast line\n"), 0o644)
	att1 := filepath.Join(dir, "report.pdf")
	os.WriteFile(att1, bytes.Repeat([]byte("%PDF-1.4 binary \x00\x01\xff\n"), 500), 0o644)
	att2 := filepath.Join(dir, "notes.txt")
	os.WriteFile(att2, []byte("plain notes\n"), 0o644)

	base := []string{"--from", "a@example.org", "--to", "b@example.com"}
	cases := map[string][]string{
		"default":     append(append([]string{}, base...), fixed...),
		"data":        append(append([]string{}, base...), "--data", "@"+dataFile),
		"utf8 body":   append(append(append([]string{}, base...), fixed...), "--body", "Grüße aus Köln\n.dot line\n"),
		"attachments": append(append(append([]string{}, base...), fixed...), "--html", "<p>hi <b>there</b></p>", "--attach", "@"+att1, "--attach", "@"+att2),
	}
	for name, args := range cases {
		mp.Clear(t)
		send := append([]string{"send", "--server", mp.SMTP, "--tls", "--ca-file", certFile, "--auth", "--user", "u", "--password-env", "PW"}, args...)
		out, stderr, code := run(t, "", map[string]string{"PW": "secret-pw"}, send...)
		if code != 0 {
			t.Errorf("%s: exit %d\n%s%s", name, code, out, stderr)
			continue
		}
		if strings.Contains(out+stderr, "secret-pw") {
			t.Errorf("%s: the password appears in the output", name)
		}
		if !strings.Contains(out, "AUTH PLAIN ********") {
			t.Errorf("%s: AUTH not redacted in\n%s", name, out)
		}
		got := smtptest.StripTrace(mp.Raw(t))
		want := dump(t, args...)
		if !bytes.Equal(got, want) {
			t.Errorf("%s: mailpit stored %d bytes, dump-mail %d:\n%s", name, len(got), len(want), firstDiff(got, want))
		}
	}
}

// firstDiff shows where two byte strings part, briefly.
func firstDiff(a, b []byte) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	lo := i - 60
	if lo < 0 {
		lo = 0
	}
	clip := func(x []byte) []byte {
		hi := i + 60
		if hi > len(x) {
			hi = len(x)
		}
		if lo > len(x) {
			return nil
		}
		return x[lo:hi]
	}
	return fmt.Sprintf("at byte %d:\n got %q\nwant %q", i, clip(a), clip(b))
}
