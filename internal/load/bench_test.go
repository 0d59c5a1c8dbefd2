package load

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smtpx/smtpx/internal/message"
	"github.com/smtpx/smtpx/internal/send"
	"github.com/smtpx/smtpx/internal/session"
	"github.com/smtpx/smtpx/internal/smtptest"
	"github.com/smtpx/smtpx/internal/target"
)

// kibMessage is a --data file of 1 KiB, as in the smtp-source comparison.
func kibMessage(tb testing.TB) *message.Data {
	tb.Helper()
	var b strings.Builder
	b.WriteString("From: a@example.org\r\nTo: b@example.com\r\nSubject: load\r\n\r\n")
	for b.Len() < 1024-78 {
		b.WriteString(strings.Repeat("x", 76) + "\r\n")
	}
	b.WriteString(strings.Repeat("y", 1024-b.Len()-2) + "\r\n")
	p := filepath.Join(tb.TempDir(), "1k.eml")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	d, err := message.NewDataFile(p)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { d.Close() })
	return d
}

func benchOptions(tb testing.TB, addr string) *send.Options {
	return &send.Options{
		Session:  session.Options{Address: addr, Timeout: 10 * time.Second},
		Helo:     "client.test",
		From:     "a@example.org",
		Source:   kibMessage(tb),
		Pipeline: true, Chunking: true,
		TLS: target.TLSNone,
	}
}

// benchTransactions sends b.N messages back to back over one connection:
// the per-message cost of load mode, client and in-process server together.
func benchTransactions(b *testing.B, chunking bool) {
	sink := startMiniSink(b, chunking)
	o := benchOptions(b, sink.addr())
	o.Source = cache(o.Source) // as Run does
	tx := &send.Transaction{}
	s := o.Open(context.Background(), tx)
	if s == nil {
		b.Fatal(tx.Err)
	}
	f := o.NewFlow(s, rcpts)
	f.ReuseReplies, f.SkipQueueID = true, true // as Runner.newFlow
	left := b.N
	f.Next = func() send.After {
		if left > 1 {
			return send.AfterNext
		}
		return send.AfterQuit
	}
	b.SetBytes(o.Source.Size())
	b.ReportAllocs()
	b.ResetTimer()
	for ; left > 0; left-- {
		// One record for the run, as a worker keeps.
		*tx = send.Transaction{Rcpts: tx.Rcpts[:0], Failures: tx.Failures[:0]}
		f.Transact(tx)
		if tx.Err != nil {
			b.Fatal(tx.Err)
		}
	}
	b.StopTimer()
	s.Finish(nil)
}

// BenchmarkTransactionDATA: PIPELINING, the next MAIL/RCPT/DATA with the dot.
func BenchmarkTransactionDATA(b *testing.B) { benchTransactions(b, false) }

// BenchmarkTransactionBDAT: PIPELINING and CHUNKING, one flight per message.
func BenchmarkTransactionBDAT(b *testing.B) { benchTransactions(b, true) }

// BenchmarkRunMiniSink runs load mode (8 connections) against the
// in-process sink.
func BenchmarkRunMiniSink(b *testing.B) {
	sink := startMiniSink(b, false)
	benchRun(b, sink.addr())
}

// BenchmarkRunSMTPSink runs load mode (8 connections) against Postfix's
// smtp-sink, so a CPU profile shows the client alone.
func BenchmarkRunSMTPSink(b *testing.B) {
	addr, _ := smtptest.SMTPSink(b, false)
	benchRun(b, addr)
}

func benchRun(b *testing.B, addr string) {
	o := benchOptions(b, addr)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	res := run(Options{Send: o, Count: b.N, Concurrency: 8})
	cpu := cpuTime() - cpu0
	b.StopTimer()
	if res.Accepted != int64(b.N) {
		b.Fatalf("accepted %d of %d: %v", res.Accepted, b.N, res.Errors)
	}
	b.ReportMetric(res.MsgsPerSec(), "msgs/s")
	// The process's CPU per message: the client's alone against an
	// out-of-process server (smtp-sink), both sides against the mini sink.
	b.ReportMetric(float64(cpu.Nanoseconds())/1e3/float64(b.N), "cpu-µs/msg")
}
