package sink

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// --received adds the trace header field a mail server adds (RFC 5321
// §4.4) and stores the message after it byte for byte; size and sha256
// describe the stored file. "for" names the recipient only when there is
// one.
func TestReceivedHeader(t *testing.T) {
	dir := t.TempDir()
	r := start(t, Options{Dir: dir, Hostname: "sink.test", Received: true})
	for _, to := range [][]string{{"b@example.com"}, {"b@example.com", "c@example.com"}} {
		c := dial(t, r.addr)
		if err := send(c, "a@example.org", to, simpleMsg); err != nil {
			t.Fatal(err)
		}
		rec := <-r.rec.msgCh
		got, err := os.ReadFile(rec.Path)
		if err != nil {
			t.Fatal(err)
		}
		head, body, ok := strings.Cut(string(got), "\r\nFrom: ")
		if !ok || "From: "+body != simpleMsg {
			t.Fatalf("stored %q", got)
		}
		forClause := ""
		if len(to) == 1 {
			forClause = `\r\n\tfor <b@example\.com>`
		}
		want := regexp.MustCompile(`^Received: from client\.test \(\[127\.0\.0\.1\]\)\r\n\tby sink\.test \(smtpx sink\) with ESMTP` +
			forClause + `; (.+)$`)
		m := want.FindStringSubmatch(head)
		if m == nil {
			t.Fatalf("trace field %q does not match %s", head, want)
		}
		if when, err := time.Parse(time.RFC1123Z, m[1]); err != nil || time.Since(when) > time.Hour {
			t.Errorf("date %q: %v", m[1], err)
		}
		sum := sha256.Sum256(got)
		if rec.Size != int64(len(got)) || rec.SHA256 != hex.EncodeToString(sum[:]) {
			t.Errorf("size %d sha256 %s for a %d-byte file", rec.Size, rec.SHA256, len(got))
		}
		if rec.Headers.Subject != "hello" {
			t.Errorf("headers %+v", rec.Headers)
		}
	}
}

// A name a client chose cannot end the trace field or its clause.
func TestTraceWord(t *testing.T) {
	for in, want := range map[string]string{
		"client.test":            "client.test",
		"[127.0.0.1]":            "[127.0.0.1]",
		"a b;c(d)\r\ne\x00":      "a?b?c?d???e?",
		"bücher.test":            "bücher.test",
		"bad\xffutf8\u0085c1":    "bad?utf8?c1",
		"":                       "unknown",
		strings.Repeat("x", 300): strings.Repeat("x", 255),
	} {
		if got := traceWord(in); got != want {
			t.Errorf("traceWord(%q) = %q, want %q", in, got, want)
		}
	}
}
