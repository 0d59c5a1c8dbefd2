package session

import (
	"bufio"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

func read(in string) (*Reply, error) { return readMax(in, 5) }

func readMax(in string, lines int) (*Reply, error) {
	rr := &ReplyReader{R: bufio.NewReaderSize(strings.NewReader(in), 16), MaxLineLen: 200, MaxLines: lines}
	r, _, err := rr.ReadReply()
	return r, err
}

func TestReadReply(t *testing.T) {
	tests := []struct {
		in       string
		code     int
		enhanced string
		lines    []string
		text     string
	}{
		{"220 mx.example.com ESMTP\r\n", 220, "", []string{"mx.example.com ESMTP"}, "mx.example.com ESMTP"},
		{"250-mx\r\n250-PIPELINING\r\n250 SIZE 100\r\n", 250, "", []string{"mx", "PIPELINING", "SIZE 100"}, "mx\nPIPELINING\nSIZE 100"},
		// Postfix smtp-sink ends EHLO with an empty "250 " line.
		{"250-mx\r\n250-DSN\r\n250 \r\n", 250, "", []string{"mx", "DSN", ""}, "mx\nDSN\n"},
		// A bare code with nothing after it is a complete final line.
		{"250\r\n", 250, "", []string{""}, ""},
		// Bare LF line ends are tolerated.
		{"250-a\n250 b\n", 250, "", []string{"a", "b"}, "a\nb"},
		{"550 5.1.1 <bob@example.com>: unknown\r\n", 550, "5.1.1", []string{"5.1.1 <bob@example.com>: unknown"}, "<bob@example.com>: unknown"},
		{"550-5.7.26 one\r\n550 5.7.26 two\r\n", 550, "5.7.26", []string{"5.7.26 one", "5.7.26 two"}, "one\ntwo"},
		// A class mismatch is kept for callers to explain.
		{"250 5.1.1 odd\r\n", 250, "5.1.1", []string{"5.1.1 odd"}, "odd"},
		// Not an enhanced code: class 3 does not exist, too many digits.
		{"354 3.0.0 go\r\n", 354, "", []string{"3.0.0 go"}, "3.0.0 go"},
		{"250 2.1234.0 x\r\n", 250, "", []string{"2.1234.0 x"}, "2.1234.0 x"},
		// Text with an escape sequence is returned untouched; renderers escape it.
		{"220 \x1b[2J hi\r\n", 220, "", []string{"\x1b[2J hi"}, "\x1b[2J hi"},
	}
	for _, tt := range tests {
		r, err := read(tt.in)
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		if r.Code != tt.code || r.Enhanced != tt.enhanced || !reflect.DeepEqual(r.Lines, tt.lines) || r.Text() != tt.text {
			t.Errorf("%q: got %d %q %q text %q", tt.in, r.Code, r.Enhanced, r.Lines, r.Text())
		}
	}
}

func TestReadReplyErrors(t *testing.T) {
	tests := []struct {
		in       string
		protocol bool // a ProtocolError; otherwise an I/O error
	}{
		{"25\r\n", true},
		{"099 low\r\n", true},
		{"600 high\r\n", true},
		{"2500000\r\n", true},
		{"abc def\r\n", true},
		{"250-a\r\n251 b\r\n", true},
		{"250 " + strings.Repeat("x", 300) + "\r\n", true},
		{strings.Repeat("250-x\r\n", 10), true},
		{"", false},
		{"250-a\r\n", false},
		{"250 no line end", false},
	}
	for _, tt := range tests {
		_, err := read(tt.in)
		if err == nil {
			t.Errorf("%q: no error", tt.in)
			continue
		}
		var pe *ProtocolError
		if errors.As(err, &pe) != tt.protocol {
			t.Errorf("%q: error %v, protocol error expected: %v", tt.in, err, tt.protocol)
		}
		if !tt.protocol && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("%q: error %v, want EOF", tt.in, err)
		}
	}
}

// A line with no end must not be buffered without bound.
func TestReadReplyLongLineBounded(t *testing.T) {
	rr := &ReplyReader{R: bufio.NewReaderSize(io.MultiReader(strings.NewReader("250 "), infinite{}), 4096)}
	_, raw, err := rr.ReadReply()
	var pe *ProtocolError
	if !errors.As(err, &pe) {
		t.Fatalf("got %v", err)
	}
	if len(raw) != 1 || len(raw[0]) > 100 {
		t.Errorf("kept %d bytes of the offending line", len(raw[0]))
	}
}

type infinite struct{}

func (infinite) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	return len(p), nil
}

func TestIsEnhanced(t *testing.T) {
	for s, want := range map[string]bool{
		"2.0.0": true, "5.7.26": true, "4.7.0": true, "5.1.10": true, "5.999.999": true,
		"3.0.0": false, "5.1": false, "5.1.1.1": false, "5..1": false, "5.1.a": false, "": false, "5.1000.1": false,
	} {
		if IsEnhanced(s) != want {
			t.Errorf("IsEnhanced(%q) = %v", s, !want)
		}
	}
}

func TestParseEHLO(t *testing.T) {
	r, err := readMax("250-mx.example\r\n250-pipelining\r\n250-SIZE 52428800\r\n250-AUTH PLAIN login\r\n250-AUTH=LOGIN\r\n250 X-CUSTOM a b\r\n", 10)
	if err != nil {
		t.Fatal(err)
	}
	ext := ParseEHLO(r)
	if !ext.Has("PIPELINING") || !ext.Has("Pipelining") {
		t.Error("keywords must match case-insensitively")
	}
	if n, ok := ext.Size(); !ok || n != 52428800 {
		t.Errorf("Size = %d %v", n, ok)
	}
	if got := ext.AuthMechanisms(); !reflect.DeepEqual(got, []string{"PLAIN", "LOGIN"}) {
		t.Errorf("AuthMechanisms = %q", got)
	}
	if x, _ := ext.Get("x-custom"); !reflect.DeepEqual(x.Params, []string{"a", "b"}) {
		t.Errorf("unknown keyword params = %q", x.Params)
	}
}

func FuzzReadReply(f *testing.F) {
	for _, s := range []string{
		"220 mx ESMTP\r\n", "250-a\r\n250-b\r\n250 \r\n", "250\n", "550 5.1.1 x\r\n",
		"250-a\r\n251 b\r\n", "099 x\r\n", "2", "250-\x1b[2J\r\n250 \x00\xff\r\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		rr := &ReplyReader{R: bufio.NewReaderSize(strings.NewReader(in), 16), MaxLineLen: 128, MaxLines: 8}
		r, raw, err := rr.ReadReply()
		if len(raw) > 9 {
			t.Fatalf("%d raw lines beyond the limit", len(raw))
		}
		for _, l := range raw {
			if len(l) > 128+2+67 {
				t.Fatalf("raw line of %d bytes beyond the limit", len(l))
			}
		}
		if err != nil {
			return
		}
		if r.Code < 200 || r.Code > 599 || len(r.Lines) == 0 || len(r.Lines) > 8 {
			t.Fatalf("bad reply %+v", r)
		}
		// Writing the reply back and reading it again gives the same reply.
		again, err := readMax(strings.Join(r.Raw(), "\r\n")+"\r\n", 8)
		if err == nil && !reflect.DeepEqual(again, r) {
			t.Fatalf("round trip: %+v != %+v", again, r)
		}
	})
}
