package send

import "github.com/smtpx/smtpx/internal/session"

// usePRDR reports whether MAIL asks for PRDR: wanted and offered.
func (o *Options) usePRDR(ext session.Extensions) bool {
	return o.PRDR && ext.Has("PRDR") && !o.Session.LMTP
}

// readPRDR reads the replies after a 353 to the end of data: one per
// recipient accepted at RCPT, in RCPT order, then the reply for the
// message as a whole (draft-hall-prdr §3.3). Each recipient is delivered
// or not by its own reply, so a refused one counts as a failure (and the
// usual rule for a partial delivery applies).
func (o *Options) readPRDR(s *session.Session, tx *Transaction, op string, st *step) {
	if !tx.readRcptReplies(s, op, nil) {
		return
	}
	r, ok := tx.read(s, op)
	if !ok {
		return
	}
	tx.End = r
	st.ended = true
	if r.Code/100 != 2 {
		// The message as a whole was refused after all: no recipient
		// got it, whatever its own reply said.
		for i := range tx.Rcpts {
			tx.Rcpts[i].Accepted = false
		}
		tx.replyFail(op, r)
		return
	}
	if q := QueueID(r.Text()); q != "" {
		tx.QueueID = q
	}
}
