package cmd

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smtpx/smtpx/internal/smtptest"
)

// SMTP smuggling (issue 9, DESIGN §6): no input whatever makes smtpx emit
// an end of data other than its own final <CR><LF>.<CR><LF>. Every nasty
// sequence goes in through every way content enters a message, over plain
// and pipelined dialogues, and the bytes the server received are checked:
// the data section has no bare CR or LF, no line that is a lone dot, every
// line starting with a dot is stuffed, and it ends with the client's own
// <CR><LF>.<CR><LF> followed only by QUIT. Inputs with a line break where
// none may be (a header value) are refused before connecting.

var smugglePayloads = []string{
	"\n.\r\n", "\r\n.\r\n", "\r.\r", ".\n", "\n.\n", "\r\n.\n", "\n.\r", "\r.\n",
	"\r", "\n", "\r\r\n", "\n\r", ".", "..", ".\r\n.\r\n",
	"x\r\n.\r\nMAIL FROM:<evil@attacker.test>\r\nRCPT TO:<victim@example.com>\r\nDATA\r\nFrom: ceo@example.com\r\n\r\nforged\r\n.\r\n",
	"x\n.\nMAIL FROM:<evil@attacker.test>\nRCPT TO:<victim@example.com>\nDATA\n",
	"x\r.\rMAIL FROM:<evil@attacker.test>\r",
	"\x00.\r\n", "tail without a line end.", "ends with a bare CR\r", ".\r\n", "\r\n.",
}

// smuggleScripts: a sequential and a pipelined server, both recording.
var smuggleScripts = map[string]string{
	"sequential": "S: 220 mx.test ESMTP\nC~ EHLO\nS: 250-mx.test\nS: 250 8BITMIME\nC~ MAIL\nS: 250 ok\nC~ RCPT\nS: 250 ok\nC: DATA\nS: 354 go\ndata\nS: 250 ok\nC: QUIT\nS: 221 bye\nclose\n",
	"pipelined":  "S: 220 mx.test ESMTP\nC~ EHLO\nS: 250-mx.test\nS: 250-8BITMIME\nS: 250 PIPELINING\nC~ MAIL\nC~ RCPT\nC: DATA\nS: 250 ok\nS: 250 ok\nS: 354 go\ndata\nS: 250 ok\nC: QUIT\nS: 221 bye\nclose\n",
}

// dataSectionErr checks the bytes a server received in the data phase.
func dataSectionErr(received string) error {
	i := strings.Index(received, "DATA\r\n")
	if i < 0 {
		return fmt.Errorf("no DATA in %q", received)
	}
	rest := received[i+len("DATA\r\n"):]
	const end = "\r\n.\r\nQUIT\r\n"
	if !strings.HasSuffix(rest, end) {
		return fmt.Errorf("the data does not end with <CR><LF>.<CR><LF> then QUIT: %q", tail(rest))
	}
	content := rest[:len(rest)-len(end)+2] // keep the content's own CRLF
	for j := 0; j < len(content); j++ {
		switch content[j] {
		case '\r':
			if j+1 >= len(content) || content[j+1] != '\n' {
				return fmt.Errorf("bare CR at %d: %q", j, around(content, j))
			}
		case '\n':
			if j == 0 || content[j-1] != '\r' {
				return fmt.Errorf("bare LF at %d: %q", j, around(content, j))
			}
		}
	}
	for n, line := range strings.Split(strings.TrimSuffix(content, "\r\n"), "\r\n") {
		if strings.HasPrefix(line, ".") && !strings.HasPrefix(line, "..") {
			return fmt.Errorf("line %d %q starts with an unstuffed dot", n+1, line)
		}
	}
	return nil
}

func tail(s string) string {
	if len(s) > 80 {
		return s[len(s)-80:]
	}
	return s
}

func around(s string, i int) string {
	lo, hi := max(0, i-30), min(len(s), i+30)
	return s[lo:hi]
}

func TestNoSmuggling(t *testing.T) {
	dir := t.TempDir()
	base := []string{"--from", "a@client.test", "--to", "b@example.com", "--timeout", "10s"}
	type vehicle struct {
		name string
		// args and stdin for payload p; refused means exit 2 and no connection
		build func(i int, p string) (args []string, stdin string)
		// refuses reports whether a payload must be refused as usage
		refuses func(p string) bool
	}
	file := func(i int, name, content string) string {
		f := filepath.Join(dir, name+"-"+string(rune('a'+i%26))+strings.Repeat("x", i/26))
		if err := os.WriteFile(f, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return f
	}
	never := func(string) bool { return false }
	hasBreak := func(p string) bool { return strings.ContainsAny(p, "\r\n\x00") }
	vehicles := []vehicle{
		{"--data @file", func(i int, p string) ([]string, string) {
			return []string{"--data", "@" + file(i, "data", "Subject: s\r\n\r\nbody"+p+"more\r\n"+p)}, ""
		}, never},
		{"--data - (stdin)", func(i int, p string) ([]string, string) {
			return []string{"--data", "-"}, "Subject: s\n\n" + p + "body" + p
		}, never},
		{"--body TEXT", func(i int, p string) ([]string, string) { return []string{"--body", "hello" + p + "world" + p}, "" }, never},
		{"--body @file", func(i int, p string) ([]string, string) {
			return []string{"--body", "@" + file(i, "body", p+"line"+p)}, ""
		}, never},
		{"--body -", func(i int, p string) ([]string, string) { return []string{"--body", "-"}, p + "x" + p }, never},
		{"--html", func(i int, p string) ([]string, string) { return []string{"--html", "<p>" + p + "</p>" + p}, "" }, never},
		{"--attach text", func(i int, p string) ([]string, string) {
			return []string{"--attach", "@" + file(i, "att", "text"+p+"more"+p), "--attach-type", "text/plain"}, ""
		}, never},
		{"--header value", func(i int, p string) ([]string, string) { return []string{"--header", "X-Test: v" + p}, "" }, hasBreak},
		{"--subject", func(i int, p string) ([]string, string) { return []string{"--subject", "s" + p}, "" }, hasBreak},
	}
	// Random inputs over the alphabet that matters, through stdin.
	rng := rand.New(rand.NewSource(9))
	random := make([]string, 120)
	for i := range random {
		b := make([]byte, 1+rng.Intn(24))
		for j := range b {
			const alphabet = "\r\n.\r\n.x "
			b[j] = alphabet[rng.Intn(len(alphabet))]
		}
		random[i] = string(b)
	}

	runs := 0
	for _, v := range vehicles {
		for mode, script := range smuggleScripts {
			payloads := smugglePayloads
			if strings.HasPrefix(v.name, "--data -") && mode == "pipelined" {
				payloads = append(append([]string{}, smugglePayloads...), random...)
			}
			t.Run(v.name+"/"+mode, func(t *testing.T) {
				for i, p := range payloads {
					srv, err := smtptest.Start(script)
					if err != nil {
						t.Fatal(err)
					}
					args, stdin := v.build(i, p)
					argv := append(append([]string{"send", "--server", srv.Addr()}, base...), args...)
					_, stderr, code := run(t, stdin, nil, argv...)
					srv.Close()
					runs++
					if v.refuses(p) {
						if code != 2 || srv.Conns() != 0 {
							t.Errorf("payload %q: exit %d with %d connections, want a usage error before connecting; %s", p, code, srv.Conns(), stderr)
						}
						continue
					}
					if code != 0 {
						t.Errorf("payload %q: exit %d: %s", p, code, stderr)
						continue
					}
					if err := dataSectionErr(srv.Received()); err != nil {
						t.Fatalf("payload %q: %v", p, err)
					}
				}
			})
		}
	}
	t.Logf("%d sends checked", runs)
}

// The checker itself finds each smuggling shape.
func TestCheckDataSectionFindsSmuggling(t *testing.T) {
	for _, bad := range []string{
		"DATA\r\nSubject: x\r\n\r\nhi\n.\r\nMAIL\r\n\r\n.\r\nQUIT\r\n",
		"DATA\r\nhi\r.\rMAIL\r\n.\r\nQUIT\r\n",
		"DATA\r\nhi\r\n.\r\nMAIL FROM:<x>\r\n.\r\nQUIT\r\n",
		"DATA\r\nhi\r\n.x\r\n.\r\nQUIT\r\n",
		"DATA\r\nhi\r\n.\r\n",
	} {
		if dataSectionErr(bad) == nil {
			t.Errorf("not caught: %q", bad)
		}
	}
	if err := dataSectionErr("MAIL FROM:<a>\r\nDATA\r\nSubject: x\r\n\r\n..dot\r\nhi\r\n.\r\nQUIT\r\n"); err != nil {
		t.Errorf("a clean data section was flagged: %v", err)
	}
}
