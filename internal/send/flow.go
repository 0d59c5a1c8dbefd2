package send

import (
	"errors"

	"github.com/smtpx/smtpx/internal/session"
)

// After says what goes out in the same flight as a transaction's end of
// data.
type After int

const (
	// AfterNothing: nothing rides with the end of data; the caller decides
	// once the reply is in.
	AfterNothing After = iota
	// AfterQuit: QUIT rides with the end of data (with PIPELINING).
	AfterQuit
	// AfterNext: the next transaction's MAIL, RCPT and DATA ride with the
	// end of DATA content (with PIPELINING, without CHUNKING). When they
	// did, Flow.Pending reports it and the caller must run that transaction
	// next on the same Flow, or close the connection.
	AfterNext
)

// Flow runs transactions back to back on one open session with the same
// envelope, as load mode does. A transaction starts right after the reply
// to the previous end of data; RSET goes first only when the previous
// transaction was left open on the server (MAIL accepted, no end of data),
// and rides in the same group under PIPELINING. With PIPELINING and DATA,
// the next transaction's MAIL/RCPT/DATA group is written in the same flight
// as the end of data, so each further message costs the client one wait
// for the server: the reply to the dot together with the replies to the
// next group.
type Flow struct {
	o     *Options
	s     *session.Session
	rcpts []Rcpt
	// Next is asked, once per transaction and just before its end of data
	// is written, what follows it on this connection. nil means
	// AfterNothing. It is not asked when the transaction ends earlier.
	Next func() After
	// ReuseReplies has every transaction read its replies into the Reply
	// values of the one before (session.ReadReplyInto), so that the send
	// loop allocates nothing for them: the replies a Transaction holds
	// are then valid until the next Transact, and a caller keeps a copy
	// (Reply.Clone) of any it needs longer. The replies in errors are
	// copies already.
	ReuseReplies bool
	// SkipQueueID leaves Transaction.QueueID empty: matching the patterns
	// costs allocations on every message whose reply names a new queue
	// ID, and load mode reports none.
	SkipQueueID bool
	pending     bool // the next group is already on the wire
	dirty       bool // the server may hold an open transaction: RSET first
	cmds        commands
	replies     replySlots
}

// NewFlow starts a Flow on s, a session Open returned.
func (o *Options) NewFlow(s *session.Session, rcpts []Rcpt) *Flow {
	return &Flow{o: o, s: s, rcpts: rcpts}
}

// Session is the session the Flow runs on.
func (f *Flow) Session() *session.Session { return f.s }

// Pending reports whether the next transaction's commands are already on
// the wire.
func (f *Flow) Pending() bool { return f.pending }

// Transact runs one transaction and records it in tx. Afterwards Reusable
// says whether another may follow on this connection.
func (f *Flow) Transact(tx *Transaction) {
	st := &step{after: f.Next, sent: f.pending, rset: f.dirty && !f.pending, cmds: &f.cmds}
	f.pending, f.dirty = false, false
	if tx.Server == "" {
		tx.Server = f.o.Session.Address
	}
	tx.Session = f.s
	tx.skipQueueID = f.SkipQueueID
	if f.ReuseReplies {
		f.replies.n = 0
		tx.replies = &f.replies
	}
	f.o.transact(f.s, tx, f.rcpts, st)
	if tx.Data != nil && tx.Data.Code == 354 && !st.ended && tx.End == nil {
		// The server is still reading content (the message could not be
		// read after the 354): nothing else can be said on this connection.
		f.s.Close()
	}
	f.pending = st.wroteNext && Reusable(f.s, tx.Err)
	f.dirty = tx.Mail != nil && tx.Mail.Code/100 == 2 && !st.ended
}

// Reusable reports whether a session can carry another transaction after
// one that ended with err (nil for success): it is still open and in a
// known state. A refused recipient or message leaves it usable; a broken
// stream, a protocol violation, a failed handshake or a 421 (the server is
// closing) does not.
func Reusable(s *session.Session, err error) bool {
	if s == nil || s.Closed() {
		return false
	}
	if err == nil {
		return true
	}
	// Declared past the nil check: errors.As takes its address, which
	// puts it on the heap, and a load run asks once per message.
	var se *session.Error
	if errors.As(err, &se) {
		switch {
		case se.Kind == session.KindNetwork, se.Kind == session.KindProtocol, se.Kind == session.KindTLS && se.Reply == nil:
			return false
		case se.Reply != nil && se.Reply.Code == 421:
			return false
		}
	}
	return true
}
