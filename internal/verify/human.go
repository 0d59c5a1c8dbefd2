package verify

import (
	"bufio"
	"crypto/tls"
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/fatih/color"

	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/term"
	"github.com/smtpx/smtpx/internal/transcript"
)

// verdictColor is the colour of a verdict: the reply class it stands for,
// cyan for unprovable (neither yes nor no).
func verdictColor(p *term.Palette, r *Result) *color.Color {
	switch {
	case r.Verdict == Unprovable:
		return p.Inter
	case r.Exit == exitcode.OK:
		return p.OK
	case r.Exit == exitcode.Transient, r.Verdict == Unknown:
		return p.Temp
	}
	return p.Perm
}

// WriteHuman writes the result of a single-address run for a person: the
// verdict, the evidence behind it, and what it does not prove.
func (r *Result) WriteHuman(w io.Writer, p *term.Palette) error {
	b := &strings.Builder{}
	fmt.Fprintln(b)
	fmt.Fprintf(b, "Address   %s\n", transcript.Escape(r.Address.String()))
	fmt.Fprintf(b, "Verdict   %s\n", verdictColor(p, r).Sprint(r.Verdict))
	fmt.Fprintf(b, "Reason    %s\n", transcript.Escape(r.Reason))
	if l := r.ReplyLine(); l != "" {
		fmt.Fprintf(b, "Reply     %s\n", p.Class(r.Reply.Code).Sprint(l))
	}
	if r.MX != "" {
		fmt.Fprintf(b, "MX        %s (%s)\n", transcript.Escape(r.MX), r.MXAddress)
	}
	if r.TLS != nil {
		v := "certificate verified"
		switch {
		case r.TLSUnchecked:
			v = "certificate " + transcript.Escape(r.TLSError)
		case !r.TLSVerified:
			v = "certificate not verified: " + transcript.Escape(r.TLSError)
		}
		fmt.Fprintf(b, "TLS       %s, %s\n", strings.TrimPrefix(tls.VersionName(r.TLS.Version), "TLS "), v)
	}
	if strings.HasPrefix(r.Reason, "accepted at RCPT") {
		fmt.Fprintln(b, "Note      accepted at RCPT does not prove a message would be delivered")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// TLSWarning is the warning a single-address run prints when STARTTLS
// failed and the address was checked in plaintext, "" otherwise. It is no
// error (opportunistic TLS goes on), but never silent: a failed STARTTLS
// can be an attack on the connection.
func (r *Result) TLSWarning() string {
	if !r.TLSFallback {
		return ""
	}
	return transcript.Escape(r.TLSError) + "; the address was checked in plaintext"
}

// Format is how bulk rows are written.
type Format int

// The bulk formats.
const (
	FormatTable Format = iota // one aligned line per row, for a person
	FormatJSON                // JSON Lines
	FormatCSV                 // CSV with a header
	FormatNone                // nothing (the table under -q)
)

// RowWriter writes the rows of a bulk run in one format, and counts them
// against the policy. Rows are buffered, so a million rows are not a
// million writes, and the buffer is flushed at least every FlushEvery, so
// a row is never held back for long; Close flushes the rest.
type RowWriter struct {
	mu      sync.Mutex
	bw      *bufio.Writer
	format  Format
	policy  Policy
	palette *term.Palette
	csv     *csv.Writer
	tally   *Tally
	err     error
	ticker  *time.Ticker
	stop    chan struct{}
	wg      sync.WaitGroup
}

// FlushEvery bounds how long a written row may wait in the buffer.
const FlushEvery = 100 * time.Millisecond

// NewRowWriter starts the output of a bulk run; for CSV it writes the
// header.
func NewRowWriter(w io.Writer, f Format, pol Policy, p *term.Palette) *RowWriter {
	if p == nil {
		p = term.NewPalette(false)
	}
	rw := &RowWriter{bw: bufio.NewWriterSize(w, 64<<10), format: f, policy: pol, palette: p, tally: pol.NewTally()}
	if f == FormatCSV {
		rw.csv, rw.err = NewCSV(rw.bw)
	}
	return rw
}

// Write counts one row and writes it, with the exit the policy gives it.
// After a failed write nothing more is written: see Close.
func (rw *RowWriter) Write(r *Result) {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	if rw.err != nil {
		return
	}
	rw.tally.Add(r)
	switch rw.format {
	case FormatCSV:
		if rw.err = rw.csv.Write(r.CSVRecord(rw.policy.Exit(r))); rw.err == nil {
			rw.csv.Flush()
			rw.err = rw.csv.Error()
		}
	case FormatJSON:
		rw.err = transcript.WriteJSON(rw.bw, rw.policy.JSON(r, nil))
	case FormatTable:
		_, rw.err = rw.bw.WriteString(r.tableLine(rw.palette) + "\n")
	}
	if rw.ticker == nil && rw.err == nil {
		rw.ticker, rw.stop = time.NewTicker(FlushEvery), make(chan struct{})
		rw.wg.Go(rw.flusher)
	}
}

func (rw *RowWriter) flusher() {
	for {
		select {
		case <-rw.stop:
			return
		case <-rw.ticker.C:
			rw.mu.Lock()
			if rw.err == nil {
				rw.err = rw.bw.Flush()
			}
			rw.mu.Unlock()
		}
	}
}

// Close flushes the rows and reports a failed write (exit 3): the rows
// after it are lost.
func (rw *RowWriter) Close() error {
	if rw.ticker != nil {
		rw.ticker.Stop()
		close(rw.stop)
		rw.wg.Wait()
		rw.ticker = nil
	}
	rw.mu.Lock()
	defer rw.mu.Unlock()
	if rw.err == nil {
		rw.err = rw.bw.Flush()
	}
	if rw.err == nil {
		return nil
	}
	return &exitcode.Error{Code: exitcode.Network, Msg: "cannot write the results: " + rw.err.Error(), Hint: "check where standard output goes"}
}

// Check is the policy's verdict over the rows written: exit 1 naming what
// failed, nil when nothing did.
func (rw *RowWriter) Check() error { return rw.tally.Err() }

// ErrInterrupted ends a bulk run stopped by an interrupt.
var ErrInterrupted = &exitcode.Error{Code: exitcode.Network, Msg: "interrupted: the addresses in progress are reported unknown, the rest of the list was not read",
	Hint: "run again for the rest (the rows name the lines they answer)"}
