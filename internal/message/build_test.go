package message

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// fixedDate is the date of every golden message.
var fixedDate = time.Date(2026, 3, 14, 15, 9, 26, 0, time.FixedZone("", 3600))

// readAll opens s and returns every byte, failing the test on error.
func readAll(t testing.TB, s Source) []byte {
	t.Helper()
	r, err := s.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// build builds o and closes the message when the test ends.
func build(t testing.TB, o Options) *Message {
	t.Helper()
	m, err := Build(o)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n--- got ---\n%s\n--- want ---\n%s", name, got, want)
	}
}

// checkWire checks properties every message must have on the wire: only
// CRLF line ends, no line over 998 octets, Size equal to the bytes.
func checkWire(t *testing.T, s Source, b []byte) {
	t.Helper()
	if int64(len(b)) != s.Size() {
		t.Errorf("Size() = %d, Open yielded %d bytes", s.Size(), len(b))
	}
	if len(b) > 0 && !bytes.HasSuffix(b, []byte("\r\n")) {
		t.Errorf("message does not end with CRLF: %q", tail(b))
	}
	for i, line := range strings.Split(string(b), "\r\n") {
		if strings.ContainsAny(line, "\r\n") {
			t.Errorf("line %d has a bare CR or LF: %q", i+1, line)
		}
		if len(line) > hardLimit {
			t.Errorf("line %d is %d octets long", i+1, len(line))
		}
	}
}

func tail(b []byte) []byte { return b[max(0, len(b)-40):] }

func defaultOptions() Options {
	return Options{
		From:      "alice@example.com",
		To:        []string{"bob@example.org"},
		Date:      fixedDate,
		MessageID: "20260314150926.abc@client.example.com",
		UserAgent: "smtpx/test",
	}
}

func TestGoldenDefault(t *testing.T) {
	m := build(t, defaultOptions())
	b := readAll(t, m)
	golden(t, "default.eml", b)
	checkWire(t, m, b)
	if m.EightBit() || m.UTF8Headers() {
		t.Errorf("EightBit=%v UTF8Headers=%v for an ASCII message", m.EightBit(), m.UTF8Headers())
	}
	if m.MessageID() != "20260314150926.abc@client.example.com" {
		t.Errorf("MessageID() = %q", m.MessageID())
	}
}
