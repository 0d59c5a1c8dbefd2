package load

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/smtpx/smtpx/internal/smtptest"
)

// miniSink is a minimal in-process SMTP sink for benchmarks: it stores
// nothing, so memory stays flat however many messages go through, and like
// Postfix it writes its replies only when it has read everything the
// client sent, so pipelined replies go back in one flight.
type miniSink struct {
	ln       net.Listener
	chunking bool
	stored   atomic.Int64
}

func startMiniSink(tb testing.TB, chunking bool) *miniSink {
	tb.Helper()
	s := &miniSink{chunking: chunking}
	s.ln = smtptest.ServeConns(tb, s.serve)
	return s
}

func (s *miniSink) addr() string { return s.ln.Addr().String() }

func (s *miniSink) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReaderSize(c, 64<<10)
	w := bufio.NewWriterSize(c, 4<<10)
	reply := func(line string) bool {
		w.WriteString(line)
		w.WriteString("\r\n")
		if r.Buffered() == 0 {
			return w.Flush() == nil
		}
		return true
	}
	reply("220 mini ESMTP")
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(string(bytes.TrimRight(line, "\r\n")))
		verb, arg, _ := strings.Cut(cmd, " ")
		ok := true
		switch verb {
		case "EHLO":
			ext := "250-mini\r\n250-PIPELINING\r\n250-8BITMIME\r\n"
			if s.chunking {
				ext += "250-CHUNKING\r\n"
			}
			ok = reply(ext + "250 SIZE 100000000")
		case "DATA":
			reply("354 go")
			if !skipContent(r) {
				return
			}
			s.stored.Add(1)
			ok = reply("250 2.0.0 ok")
		case "BDAT":
			f := strings.Fields(arg)
			n, _ := strconv.ParseInt(f[0], 10, 64)
			if _, err := io.CopyN(io.Discard, r, n); err != nil {
				return
			}
			if len(f) > 1 && f[1] == "LAST" {
				s.stored.Add(1)
			}
			ok = reply("250 2.0.0 ok")
		case "QUIT":
			reply("221 bye")
			return
		default:
			ok = reply("250 ok")
		}
		if !ok {
			return
		}
	}
}

// skipContent reads DATA content up to and including its end (".\r\n");
// false when the connection ended first.
func skipContent(r *bufio.Reader) bool {
	for {
		l, err := r.ReadSlice('\n')
		if err != nil && err != bufio.ErrBufferFull {
			return false
		}
		if len(l) == 3 && l[0] == '.' && l[1] == '\r' {
			return true
		}
	}
}
