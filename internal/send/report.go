package send

import (
	"fmt"
	"io"
	"strings"

	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/term"
	"github.com/smtpx/smtpx/internal/transcript"
)

// What became of a recipient, for a retry that targets only the ones that
// can still get the message.
const (
	StatusAccepted = "accepted" // the server took the message for it
	StatusRetry    = "retry"    // a transient failure (4xx, or the connection): try again later
	StatusFailed   = "failed"   // a permanent failure: do not send again unchanged
)

// RcptStatus says what became of recipient i of the transaction.
func (tx *Transaction) RcptStatus(i int) string {
	r := tx.Rcpts[i]
	switch {
	case r.Accepted:
		return StatusAccepted
	case r.Data != nil && r.Data.Code/100 != 2:
		return classStatus(r.Data.Class())
	case r.Reply != nil && r.Reply.Code/100 != 2:
		return classStatus(r.Reply.Class())
	}
	// Accepted at RCPT (or never asked): the transaction's own failure
	// decides, a lost connection being worth another try.
	if len(tx.Failures) > 0 {
		switch exitcode.For(tx.Failures[0]) {
		case exitcode.Transient, exitcode.Network:
			return StatusRetry
		}
	}
	return StatusFailed
}

func classStatus(class int) string {
	if class == 4 {
		return StatusRetry
	}
	return StatusFailed
}

// WriteSummary writes what a person reads after the transcript: with
// several recipients one line each, then the queue id, and for a partial
// delivery one line saying who got the message and who is left.
func WriteSummary(w io.Writer, p *term.Palette, txs []*Transaction) {
	multi := len(txs) > 1 || (len(txs) == 1 && len(txs[0].Rcpts) > 1)
	by := map[string][]string{}
	total := 0
	for _, tx := range txs {
		for i, r := range tx.Rcpts {
			total++
			st := tx.RcptStatus(i)
			by[st] = append(by[st], r.Mailbox)
			if !multi {
				continue
			}
			words, code := "not sent", 0
			switch {
			case r.Accepted:
				words, code = "accepted", 250
			case r.Data != nil:
				words, code = clip(r.Data.Line()), r.Data.Code
			case r.Reply != nil && r.Reply.Code/100 != 2:
				words, code = clip(r.Reply.Line()), r.Reply.Code
			case r.Reply != nil:
				words = "recipient accepted, message not delivered"
			}
			line := fmt.Sprintf("=== %-32s %s", transcript.Escape(r.Mailbox), transcript.Escape(words))
			if code != 0 {
				line = p.Class(code).Sprint(line)
			}
			fmt.Fprintln(w, line)
		}
		if tx.QueueID != "" {
			fmt.Fprintf(w, "=== queued as %s\n", transcript.Escape(tx.QueueID))
		}
	}
	if n := len(by[StatusAccepted]); n > 0 && n < total {
		line := fmt.Sprintf("=== partial delivery: %d of %d recipients got the message (%s)", n, total, list(by[StatusAccepted]))
		if r := by[StatusRetry]; len(r) > 0 {
			line += "; retry: " + list(r)
		}
		if f := by[StatusFailed]; len(f) > 0 {
			line += "; failed: " + list(f)
		}
		fmt.Fprintln(w, p.Temp.Sprint(line))
	}
}

func list(mailboxes []string) string {
	return transcript.Escape(strings.Join(mailboxes, ", "))
}

// clip keeps a reply summary to one readable line.
func clip(s string) string {
	if len(s) > 90 {
		return s[:90] + "..."
	}
	return s
}
