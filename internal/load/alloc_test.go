package load

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/smtptest"

	"github.com/smtpx/smtpx/internal/send"
)

// replayer is an SMTP responder for counting the client's allocations:
// every reply is a prebuilt byte slice and nothing is parsed into strings,
// so once a connection is open it allocates nothing per message, and any
// allocation testing.AllocsPerRun counts is the client's. Like Postfix, it
// writes its replies once it has read everything the client sent.
type replayer struct {
	chunking bool
	// rcpt and end, when set, choose the replies to RCPT and to the end
	// of data of message n (from 1), for tests that do not count.
	rcpt, end func(n int) []byte
}

var (
	replayBanner = []byte("220 replayer ESMTP\r\n")
	replayEHLO   = []byte("250-replayer\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250 SIZE 10240000\r\n")
	replayEHLOCh = []byte("250-replayer\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250-CHUNKING\r\n250 SIZE 10240000\r\n")
	replayMail   = []byte("250 2.1.0 Ok\r\n")
	replayRcpt   = []byte("250 2.1.5 Ok\r\n")
	replayData   = []byte("354 End data with <CR><LF>.<CR><LF>\r\n")
	replayEnd    = []byte("250 2.0.0 Ok\r\n")
	replayOK     = []byte("250 2.0.0 Ok\r\n")
	replayBye    = []byte("221 2.0.0 Bye\r\n")
	replayWhat   = []byte("502 5.5.2 Error: command not recognized\r\n")
)

func startReplayer(tb testing.TB, chunking bool) string {
	return (&replayer{chunking: chunking}).start(tb)
}

func (p *replayer) start(tb testing.TB) string {
	tb.Helper()
	return smtptest.ServeConns(tb, p.serve).Addr().String()
}

func (p *replayer) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReaderSize(c, 64<<10)
	w := bufio.NewWriterSize(c, 4<<10)
	say := func(b []byte) bool {
		w.Write(b)
		if r.Buffered() == 0 {
			return w.Flush() == nil
		}
		return true
	}
	pick := func(f func(int) []byte, n int, fixed []byte) []byte {
		if f == nil {
			return fixed
		}
		return f(n)
	}
	say(replayBanner)
	n := 0 // messages begun
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return
		}
		ok := true
		switch verb(line) {
		case "EHLO":
			if p.chunking {
				ok = say(replayEHLOCh)
			} else {
				ok = say(replayEHLO)
			}
		case "MAIL":
			n++
			ok = say(replayMail)
		case "RCPT":
			ok = say(pick(p.rcpt, n, replayRcpt))
		case "DATA":
			say(replayData)
			if !skipContent(r) {
				return
			}
			ok = say(pick(p.end, n, replayEnd))
		case "BDAT":
			size, last := bdatArgs(line)
			if _, err := r.Discard(size); err != nil {
				return
			}
			if last {
				ok = say(pick(p.end, n, replayEnd))
			} else {
				ok = say(replayOK)
			}
		case "RSET", "NOOP":
			ok = say(replayOK)
		case "QUIT":
			say(replayBye)
			return
		default:
			ok = say(replayWhat)
		}
		if !ok {
			return
		}
	}
}

// verb returns the command word of line in upper case, from a fixed set
// (no allocation).
func verb(line []byte) string {
	if len(line) < 4 {
		return ""
	}
	for _, v := range [...]string{"EHLO", "MAIL", "RCPT", "DATA", "BDAT", "RSET", "NOOP", "QUIT"} {
		if bytes.EqualFold(line[:4], []byte(v)) {
			return v
		}
	}
	return ""
}

// bdatArgs reads "BDAT n [LAST]".
func bdatArgs(line []byte) (n int, last bool) {
	i := 5
	for ; i < len(line) && line[i] >= '0' && line[i] <= '9'; i++ {
		n = n*10 + int(line[i]-'0')
	}
	return n, bytes.Contains(line[i:], []byte("LAST"))
}

// TestMessageAllocs: once a connection is open and its buffers have
// grown, load mode's send loop allocates nothing per message, with
// PIPELINING and DATA (the next group riding with the dot) and with
// CHUNKING. The peer is the replayer, which allocates nothing per
// message, so every allocation counted is the client's.
func TestMessageAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates, and drops sync.Pool items at random")
	}
	for _, chunking := range []bool{false, true} {
		name := "DATA"
		if chunking {
			name = "BDAT"
		}
		t.Run(name, func(t *testing.T) {
			r, tx, allocs := steadyAllocs(t, startReplayer(t, chunking))
			if tx.Err != nil || !tx.Pipelined || tx.Chunked != chunking {
				t.Fatalf("err %v, pipelined %v, chunked %v", tx.Err, tx.Pipelined, tx.Chunked)
			}
			if got, want := r.accepted.Load(), int64(warmUp+allocRuns+1); got != want {
				t.Fatalf("accepted %d messages, want %d", got, want)
			}
			if allocs != 0 {
				t.Errorf("%.1f allocations per message in the steady state, want 0", allocs)
			}
		})
	}
}

const warmUp, allocRuns = 5, 200

// steadyAllocs opens a connection to addr as a load run's worker does,
// sends warmUp messages (they grow the buffers and the counters' map),
// then counts the allocations per message over allocRuns more.
func steadyAllocs(t *testing.T, addr string) (*Runner, *send.Transaction, float64) {
	t.Helper()
	r := New(Options{Send: benchOptions(t, addr), Rcpts: rcpts, Concurrency: 1})
	s := r.open(context.Background())
	if s == nil {
		t.Fatal(r.stopErr)
	}
	t.Cleanup(func() { s.Close() })
	f := r.newFlow(s)
	f.Next = func() send.After { return send.AfterNext }
	tx := &send.Transaction{}
	for range warmUp {
		r.message(f, tx)
	}
	return r, tx, testing.AllocsPerRun(allocRuns, func() { r.message(f, tx) })
}

// A server that names a new queue ID in every reply to the end of data
// (as Postfix does) costs the client one allocation per message: the new
// line's text, which a string cannot share with the next one. Nothing
// else: the queue ID itself is not looked for.
func TestMessageAllocsQueueIDs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates, and drops sync.Pool items at random")
	}
	end := []byte("250 2.0.0 Ok: queued as 4XQ0000000\r\n")
	digits := end[len("250 2.0.0 Ok: queued as 4XQ") : len(end)-2]
	p := &replayer{end: func(n int) []byte {
		for i := len(digits) - 1; i >= 0; i, n = i-1, n/10 {
			digits[i] = byte('0' + n%10)
		}
		return end
	}}
	_, tx, allocs := steadyAllocs(t, p.start(t))
	if tx.Err != nil || tx.End == nil || !strings.Contains(tx.End.Text(), "queued as 4XQ") {
		t.Fatalf("err %v, end %v", tx.Err, tx.End)
	}
	if allocs > 1 {
		t.Errorf("%.1f allocations per message with a new queue ID each, want at most 1", allocs)
	}
}

// The replies load mode keeps past the message they answer (the first
// failure of each kind, the last acceptance) are its own copies: the
// next messages' replies, read into the same Reply values, leave them as
// they were.
func TestRetainedReplies(t *testing.T) {
	for _, chunking := range []bool{false, true} {
		p := &replayer{chunking: chunking,
			rcpt: func(n int) []byte {
				switch n {
				case 1:
					return []byte("550 5.1.1 <b@example.com>: first refusal\r\n")
				case 2:
					return []byte("450 4.2.0 <b@example.com>: first deferral\r\n")
				}
				return []byte("250 2.1.5 recipient " + strconv.Itoa(n) + " ok\r\n")
			},
			end: func(n int) []byte {
				if n == 6 {
					return []byte("452 4.3.1 out of room\r\n")
				}
				return []byte("250 2.0.0 Ok: queued as Q" + strconv.Itoa(n) + "\r\n")
			},
		}
		o := benchOptions(t, p.start(t))
		res := New(Options{Send: o, Rcpts: rcpts, Count: 6, Concurrency: 1}).Run(context.Background())
		if res.Accepted != 3 || res.Rejected != 1 || res.Deferred != 2 {
			t.Fatalf("chunking %v: accepted %d, rejected %d, deferred %d: %v", chunking, res.Accepted, res.Rejected, res.Deferred, res.Errors)
		}
		for code, want := range map[int]string{
			exitcode.Permanent: "550 5.1.1 <b@example.com>: first refusal",
			exitcode.Transient: "450 4.2.0 <b@example.com>: first deferral",
		} {
			s := res.first[code]
			if s.reply == nil || s.reply.Line() != want || !strings.Contains(s.err.Error(), want[:9]) {
				t.Errorf("chunking %v: first failure of exit %d: %v, reply %v; want %q", chunking, code, s.err, s.reply, want)
			}
		}
		if res.lastOK == nil || res.lastOK.Line() != "250 2.0.0 Ok: queued as Q5" {
			t.Errorf("chunking %v: last acceptance %v, want the fifth message's", chunking, res.lastOK)
		}
	}
}
