package session

import (
	"bufio"
	"bytes"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// replyInputs are replies good and bad, for comparing the two ways of
// reading them.
var replyInputs = []string{
	"220 mx.example.com ESMTP\r\n",
	"250-mx\r\n250-PIPELINING\r\n250 SIZE 100\r\n",
	"250-mx\r\n250-DSN\r\n250 \r\n",
	"250\r\n",
	"250-a\n250 b\n",
	"550 5.1.1 <bob@example.com>: unknown\r\n",
	"550-5.7.26 one\r\n550 5.7.26 two\r\n",
	"535 5.7.8 echo of s3cr3t-pw and czNjcjN0LXB3\r\n",
	"535-5.7.8 s3cr3t-pw\r\n535 5.7.8 again s3cr3t-pw\r\n",
	"250 " + strings.Repeat("y", 150) + "\r\n", // longer than the reader's buffer
	"25\r\n", "099 low\r\n", "250-a\r\n251 b\r\n", "abc def\r\n",
	"250 " + strings.Repeat("x", 300) + "\r\n",
	strings.Repeat("250-x\r\n", 10),
	"", "250-a\r\n", "250 no line end",
	"250 ends in a secret s3cr3t",
}

func newTestReader(in string) *ReplyReader {
	red := &redactor{}
	red.addSecret("s3cr3t-pw")
	return &ReplyReader{R: bufio.NewReaderSize(strings.NewReader(in), 16), MaxLineLen: 200, MaxLines: 5, red: red}
}

// dirty returns a Reply that ReadReplyInto has filled with something else:
// more lines, other text, a hidden secret.
func dirty(t *testing.T) *Reply {
	t.Helper()
	r := &Reply{}
	rr := newTestReader("535-5.7.8 a\r\n535-5.7.8 s3cr3t-pw b\r\n535-5.7.8 c\r\n535 5.7.8 d\r\n")
	if _, err := rr.read(r, true); err != nil {
		t.Fatal(err)
	}
	return r
}

// Reading into a reused Reply gives what reading into a new one gives:
// the reply, the lines shown, the error; the second time too, when each
// line is the string kept from the first.
func TestReadReplyIntoSameAsReadReply(t *testing.T) {
	for _, in := range replyInputs {
		want, wantRaw, wantErr := newTestReader(in).ReadReply()
		r := dirty(t)
		for round := range 2 {
			raw, err := newTestReader(in).read(r, true)
			if (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() {
				t.Errorf("%q round %d: error %v, want %v", in, round, err, wantErr)
			}
			var pe *ProtocolError
			if errors.As(err, &pe) != errors.As(wantErr, &pe) {
				t.Errorf("%q round %d: error %T, want %T", in, round, err, wantErr)
			}
			if !slices.Equal(raw, wantRaw) {
				t.Errorf("%q round %d: lines shown %q, want %q", in, round, raw, wantRaw)
			}
			if err != nil {
				break // r holds nothing usable: start again from a dirty one
			}
			if r.Code != want.Code || r.Enhanced != want.Enhanced || !reflect.DeepEqual(r.Lines, want.Lines) ||
				!reflect.DeepEqual(r.wire, want.wire) || r.Text() != want.Text() {
				t.Errorf("%q round %d: got %d %q %q wire %q, want %d %q %q wire %q", in, round,
					r.Code, r.Enhanced, r.Lines, r.wire, want.Code, want.Enhanced, want.Lines, want.wire)
			}
		}
	}
}

// What a caller keeps of a reply read into a reused Reply (a Clone, a
// CopyTo target, strings taken from it, the lines shown) is not changed
// by the next read into it, nor is a reply ReadReply returned changed by
// later reads on the same reader, whose line buffers are reused.
func TestReadReplyIntoKeepsRetained(t *testing.T) {
	long1, long2 := strings.Repeat("a", 150), strings.Repeat("b", 150)
	rr := newTestReader("250-2.0.0 first " + long1 + "\r\n250 2.0.0 second\r\n" +
		"550-5.1.1 other " + long2 + "\r\n550 5.1.1 lines\r\n" +
		"250 2.0.0 first " + long1 + "\r\n" +
		"251 2.1.5 " + long2 + "\r\n")
	r := &Reply{}
	raw, err := rr.read(r, true)
	if err != nil {
		t.Fatal(err)
	}
	clone := r.Clone()
	var copied Reply
	r.CopyTo(&copied)
	line0, enh, shown := r.Lines[0], r.Enhanced, append([]string(nil), raw...)
	shown0 := raw[0]
	wantLines := []string{"2.0.0 first " + long1, "2.0.0 second"}

	if _, err := rr.read(r, true); err != nil {
		t.Fatal(err)
	}
	if r.Code != 550 || r.Lines[0] != "5.1.1 other "+long2 {
		t.Fatalf("the second read gave %d %q", r.Code, r.Lines)
	}
	for _, k := range []*Reply{clone, &copied} {
		if k.Code != 250 || k.Enhanced != "2.0.0" || !reflect.DeepEqual(k.Lines, wantLines) {
			t.Errorf("a kept copy changed: %d %q %q", k.Code, k.Enhanced, k.Lines)
		}
	}
	if line0 != wantLines[0] || enh != "2.0.0" || shown0 != "250-2.0.0 first "+long1 || shown[1] != "250 2.0.0 second" {
		t.Errorf("strings taken from the reply changed: %q %q %q", line0, enh, shown0)
	}

	// A reply from ReadReply is its own, whatever is read after it.
	own, _, err := rr.ReadReply()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rr.read(r, true); err != nil {
		t.Fatal(err)
	}
	if own.Code != 250 || !reflect.DeepEqual(own.Lines, wantLines[:1]) {
		t.Errorf("a reply from ReadReply changed: %d %q", own.Code, own.Lines)
	}
	if r.Code != 251 || len(r.Lines) != 1 || r.Lines[0] != "2.1.5 "+long2 {
		t.Errorf("a shorter reply read into a longer one: %d %q", r.Code, r.Lines)
	}
}

// A server that says the same again costs nothing once the Reply has
// grown, secrets registered or not: load mode's send loop reads four
// replies a message.
func TestReadReplyIntoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	in := []byte("250-2.0.0 first line\r\n250-2.0.0 second\r\n250 2.0.0 Ok\r\n")
	src := bytes.NewReader(in)
	rr := newTestReader("")
	rr.R = bufio.NewReaderSize(src, 4096)
	r := &Reply{}
	allocs := testing.AllocsPerRun(100, func() {
		src.Reset(in)
		rr.R.Reset(src)
		if _, err := rr.read(r, true); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 || len(r.Lines) != 3 || r.Lines[2] != "2.0.0 Ok" {
		t.Errorf("%.1f allocations a reply (lines %q), want 0", allocs, r.Lines)
	}
}
