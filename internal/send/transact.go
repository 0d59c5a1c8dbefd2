package send

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/smtpx/smtpx/internal/auth"
	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/session"
	"github.com/smtpx/smtpx/internal/target"
	"github.com/smtpx/smtpx/internal/transcript"
)

// Deliver runs one whole dialogue with the server in o.Session.Address for
// the given recipients. The transaction is returned whatever happened; its
// Failures say what went wrong, in wire order.
func Deliver(ctx context.Context, o *Options, rcpts []Rcpt) *Transaction {
	tx := &Transaction{Server: o.Session.Address}
	s := o.Open(ctx, tx)
	if s == nil {
		return tx
	}
	o.Transact(s, tx, rcpts, true)
	switch {
	case s.Closed():
	case o.Drop != DropNone && tx.Err == nil && (tx.Stopped != "" || o.QuitAfter == "dot" && tx.End != nil):
		o.drop(s, tx, o.QuitAfter)
	default:
		s.Finish(tx.Err)
	}
	tx.Timings = s.Timings
	return tx
}

// fail records a failure; the first one decides the exit status.
func (tx *Transaction) fail(err error) {
	tx.Failures = append(tx.Failures, err)
	if tx.Err == nil {
		tx.Err = err
	}
}

// Open connects and runs the dialogue up to the mail transaction: banner,
// EHLO, STARTTLS and EHLO again, AUTH. It returns nil when the dialogue ended
// (a failure, or a --quit-after point before the transaction).
func (o *Options) Open(ctx context.Context, tx *Transaction) *session.Session {
	s, err := session.Dial(ctx, o.Session)
	if err != nil {
		tx.fail(err)
		return nil
	}
	tx.Session = s
	end := func(err error) *session.Session {
		if err != nil {
			tx.fail(err)
		}
		if err == nil && tx.Stopped != "" && o.Drop != DropNone {
			o.drop(s, tx, tx.Stopped)
			return nil
		}
		s.Finish(err)
		tx.Timings = s.Timings
		return nil
	}
	if o.stoppedAt("connect") {
		tx.Stopped = "connect"
		if o.Drop != DropNone {
			o.drop(s, tx, "connect")
			return nil
		}
		s.Close()
		tx.Timings = s.Timings
		return nil
	}
	r, err := s.ReadBanner()
	tx.note(r)
	if err != nil {
		return end(err)
	}
	if o.stoppedAt("banner") {
		tx.Stopped = "banner"
		return end(nil)
	}
	helo := o.Helo
	if helo == "" {
		helo = s.HeloName()
	}
	if o.dropSend("ehlo") {
		verb := "EHLO "
		if o.Session.LMTP {
			verb = "LHLO "
		}
		o.writeAndDrop(s, tx, "ehlo", verb+helo)
		return nil
	}
	r, err = s.Hello(helo)
	tx.note(r)
	if err != nil {
		return end(err)
	}
	if o.stoppedAt("ehlo") {
		tx.Stopped = "ehlo"
		return end(nil)
	}
	startTLS := false
	switch o.TLS {
	case target.TLSRequired:
		if !s.Ext.Has("STARTTLS") {
			return end(&exitcode.Error{Code: exitcode.TLS, Msg: "TLS is required but the server does not offer STARTTLS",
				Hint: "drop --tls to send without TLS, or use --tls-on-connect for a port 465 server"})
		}
		startTLS = true
	case target.TLSOpportunistic:
		startTLS = s.Ext.Has("STARTTLS")
	}
	if startTLS && o.dropSend("tls") {
		o.writeAndDrop(s, tx, "tls", "STARTTLS")
		return nil
	}
	if startTLS {
		r, err = s.StartTLS()
		tx.note(r)
		if err != nil {
			return end(err)
		}
		r, err = s.Hello(helo)
		tx.note(r)
		if err != nil {
			return end(err)
		}
	}
	if o.RequireTLS {
		if !s.InTLS() {
			return end(&exitcode.Error{Code: exitcode.TLS, Msg: "--requiretls needs a TLS connection", Hint: "use --tls or --tls-on-connect"})
		}
		if !s.Ext.Has("REQUIRETLS") {
			return end(&exitcode.Error{Code: exitcode.TLS, Msg: "the server does not offer REQUIRETLS", Hint: "drop --requiretls to send without it"})
		}
	}
	if o.stoppedAt("tls") {
		tx.Stopped = "tls"
		return end(nil)
	}
	if len(o.XClient) > 0 && !o.xclient(s, tx, helo) {
		if tx.Dropped {
			return nil
		}
		return end(nil)
	}
	if o.stoppedAt("xclient") {
		tx.Stopped = "xclient"
		return end(nil)
	}
	if o.Auth != nil {
		mech := o.Auth.Mech
		offered := s.Ext.AuthMechanisms()
		if len(offered) == 0 {
			hint := "send without --auth"
			if !s.InTLS() {
				hint = "many servers offer AUTH only after STARTTLS: try --tls"
			}
			return end(&exitcode.Error{Code: exitcode.Check, Msg: "the server does not offer AUTH", Hint: hint})
		}
		if mech == "" {
			mech, err = auth.Choose(offered, o.Auth.Creds)
			if err != nil {
				return end(&exitcode.Error{Code: exitcode.Check, Msg: err.Error(), Hint: "name a mechanism with --auth MECH"})
			}
		} else if !slices.Contains(offered, mech) {
			return end(&exitcode.Error{Code: exitcode.Check, Msg: fmt.Sprintf("the server does not offer AUTH %s (it offers %s)", mech, strings.Join(offered, " ")),
				Hint: "use --auth without a mechanism to pick the strongest offered"})
		}
		c, err := auth.Client(mech, o.Auth.Creds)
		if err != nil {
			return end(exitcode.Usagef("use one of "+strings.Join(auth.Mechanisms, ", "), "%v", err))
		}
		tx.Mech = mech
		if o.dropSend("auth") {
			// The mechanism alone: no credentials go out on a dialogue
			// that is about to be dropped.
			o.writeAndDrop(s, tx, "auth", "AUTH "+mech)
			return nil
		}
		r, err = s.Auth(c)
		tx.note(r)
		if err != nil {
			return end(err)
		}
	}
	if o.stoppedAt("auth") {
		tx.Stopped = "auth"
		return end(nil)
	}
	return s
}

// note keeps r as the latest reply of the dialogue.
func (tx *Transaction) note(r *session.Reply) {
	if r != nil {
		tx.Final = r
	}
}

// replyFail records a reply that stopped the plan as a failure. A 2xx or
// 3xx reply cannot stop it (250 to DATA, 354 to MAIL or to the end of
// data): the server is out of sequence, a protocol failure (exit 7), never
// a success for mail that was not accepted.
func (tx *Transaction) replyFail(op string, r *session.Reply) {
	if tx.replies != nil {
		// An error outlives the transaction; the Reply is read into again.
		r = r.Clone()
	}
	if r.Class() == 2 || r.Class() == 3 {
		tx.fail(&session.Error{Kind: session.KindProtocol, Op: op, Reply: r, Cause: session.ErrOutOfSeq,
			Msg: fmt.Sprintf("unexpected reply %d to %s (out of sequence)", r.Code, op)})
		return
	}
	tx.fail(session.ReplyError(op, r))
}

// Transact runs one mail transaction on an open session: MAIL, RCPT...,
// DATA or BDAT, the content and its reply. With last set and nothing left
// to do, QUIT goes out in the same flight as the end of data.
func (o *Options) Transact(s *session.Session, tx *Transaction, rcpts []Rcpt, last bool) {
	after := AfterNothing
	if last {
		after = AfterQuit
	}
	o.transact(s, tx, rcpts, &step{after: func() After { return after }})
}

// step is what one transaction needs from, and tells, the connection it
// runs on (see Flow).
type step struct {
	rset  bool         // RSET first: the previous transaction was left open
	sent  bool         // MAIL, RCPT and DATA went out with the previous end of data
	after func() After // asked just before the end of data is written
	cmds  *commands    // kept from the previous transaction, if any
	// Set by the transaction:
	wroteNext bool // the next MAIL/RCPT/DATA group rode with the end of data
	ended     bool // the server closed the transaction (reply to the end of data)
}

// ride asks what follows the transaction and returns the commands to write
// in the same flight as its end of data. Without PIPELINING nothing rides;
// the next group rides only after DATA content, whose reply the server
// sends before it reads on (after BDAT the whole next message is one
// flight anyway).
func (o *Options) ride(st *step, pipelined bool, group []string) []string {
	if st.after == nil {
		return nil
	}
	switch st.after() {
	case AfterQuit:
		if pipelined && o.QuitAfter == "" {
			return quitOnly
		}
	case AfterNext:
		// XFORWARD must precede the next MAIL on its own: nothing rides.
		if pipelined && group != nil && len(o.XForward) == 0 {
			st.wroteNext = true
			return group
		}
	}
	return nil
}

// quitOnly is QUIT riding alone; never written to.
var quitOnly = []string{"QUIT"}

func (o *Options) transact(s *session.Session, tx *Transaction, rcpts []Rcpt, st *step) {
	src := o.Source
	size := src.Size()
	tx.Size = size
	if limit, ok := s.Ext.Size(); ok && limit > 0 && uint64(size) > limit {
		tx.fail(&exitcode.Error{Code: exitcode.Permanent,
			Msg:  fmt.Sprintf("the message has %d bytes, over the server's SIZE limit of %d (552 5.3.4)", size, limit),
			Hint: "make the message smaller; the server would refuse it"})
		return
	}
	c := st.cmds
	if c == nil {
		c = &commands{}
	}
	if err := o.buildCommands(s, size, rcpts, c); err != nil {
		tx.fail(err)
		return
	}
	notes := c.notes
	if n := LongLines(src); n > 0 {
		// Full slice expression: the note must not land in c's array.
		notes = append(notes[:len(notes):len(notes)], fmt.Sprintf("the message has %d %s over 998 octets (RFC 5321 §4.5.3.1.6), sent as given: many servers refuse them", n, transcript.Plural(n, "line", "lines")))
	}
	for _, n := range notes {
		o.info(n)
	}
	if len(o.XForward) > 0 && !o.xforward(s, tx) {
		return
	}
	tx.PRDR = o.usePRDR(s.Ext)
	for _, r := range rcpts {
		tx.Rcpts = append(tx.Rcpts, RcptResult{Mailbox: r.Mailbox})
	}
	pipe := o.Pipeline && s.Ext.Has("PIPELINING") && o.QuitAfter != "mail" && o.QuitAfter != "rcpt" && o.QuitAfter != "data"
	// PRDR is defined for DATA: its per-recipient replies follow the
	// final dot.
	chunk := o.Chunking && s.Ext.Has("CHUNKING") && o.QuitAfter != "data" && !tx.PRDR
	tx.Pipelined, tx.Chunked = pipe, chunk
	switch {
	case pipe && chunk:
		o.pipelinedBDAT(s, tx, c.envelope(), st)
	case pipe:
		o.pipelinedDATA(s, tx, c.group, st)
	default:
		// Without PIPELINING, QUIT may not ride with the end of data.
		o.sequential(s, tx, c.group[0], c.rcpts(), chunk, st)
	}
}

// commands are a transaction's MAIL and RCPT commands, in the group that
// PIPELINING sends. A Flow keeps them: its messages have one envelope and
// one session, so they are built again only when what MAIL says of the
// message changes (a --data file rewritten between messages).
type commands struct {
	built              bool
	size               int64
	eightBit, utf8Head bool
	notes              []string // what building MAIL had to say
	group              []string // MAIL, RCPT..., DATA; never appended to
}

// envelope is MAIL and RCPT: the group without DATA.
func (c *commands) envelope() []string { return c.group[:len(c.group)-1] }

// rcpts are the RCPT commands.
func (c *commands) rcpts() []string { return c.group[1 : len(c.group)-1] }

// buildCommands fills c for a message of size bytes to rcpts, unless it
// holds them already. Failures (what the server cannot take) are not kept.
func (o *Options) buildCommands(s *session.Session, size int64, rcpts []Rcpt, c *commands) error {
	var eight, utf8 bool
	if o.Source != nil {
		eight, utf8 = o.Source.EightBit(), o.Source.UTF8Headers()
	}
	if c.built && c.size == size && c.eightBit == eight && c.utf8Head == utf8 {
		return nil
	}
	var notes []string
	mail, err := o.mailCommand(s, size, rcpts, &notes)
	if err != nil {
		*c = commands{}
		return err
	}
	group := make([]string, 0, len(rcpts)+2)
	group = append(group, mail)
	for _, r := range rcpts {
		group = append(group, o.rcptCommand(s, r))
	}
	*c = commands{built: true, size: size, eightBit: eight, utf8Head: utf8, notes: notes, group: append(group, "DATA")}
	return nil
}

// LongLines is how many lines of src are over 998 octets; only a message
// given as it is (--data) can have any.
func LongLines(src Source) int {
	if l, ok := src.(interface{ LongLines() int }); ok {
		return l.LongLines()
	}
	return 0
}

func (o *Options) info(msg string) {
	if o.Session.Observer != nil {
		o.Session.Observer(session.Event{Dir: session.Info, Line: msg})
	}
}

// read reads one reply, counting the wait.
func (tx *Transaction) read(s *session.Session, op string) (*session.Reply, bool) {
	var r *session.Reply
	var err error
	if tx.replies != nil {
		r = tx.replies.next()
		err = s.ReadReplyInto(op, r)
	} else {
		r, err = s.ReadReply(op)
	}
	if err != nil {
		tx.fail(err)
		return nil, false
	}
	tx.note(r)
	return r, true
}

// readEnvelope reads the MAIL and RCPT replies of a pipelined group and
// returns how many recipients were accepted.
func (tx *Transaction) readEnvelope(s *session.Session) (accepted int, ok bool) {
	r, ok := tx.read(s, "MAIL")
	if !ok {
		return 0, false
	}
	tx.Mail = r
	mailOK := r.Code/100 == 2
	if !mailOK {
		tx.replyFail("MAIL", r)
		if r.Class() == 3 {
			return 0, false // out of sequence: read no more, send nothing
		}
	}
	for i := range tx.Rcpts {
		r, ok := tx.read(s, "RCPT")
		if !ok {
			return accepted, false
		}
		tx.Rcpts[i].Reply = r
		if r.Code/100 == 2 {
			accepted++
		} else if mailOK || r.Class() == 3 {
			tx.replyFail("RCPT", r)
			if r.Class() == 3 {
				return accepted, false
			}
		}
	}
	return accepted, true
}

// readRSET reads the reply to an RSET that opened a pipelined group.
func (tx *Transaction) readRSET(s *session.Session) bool {
	r, ok := tx.read(s, "RSET")
	if ok && r.Code/100 != 2 {
		tx.replyFail("RSET", r)
	}
	return ok
}

// pipelinedDATA runs a transaction whose group (MAIL, RCPT..., DATA) is
// written at once, unless it rode with the previous end of data.
func (o *Options) pipelinedDATA(s *session.Session, tx *Transaction, group []string, st *step) {
	if !st.sent {
		out := group
		if st.rset {
			out = append([]string{"RSET"}, group...)
		}
		if err := s.Write(out...); err != nil {
			tx.fail(err)
			return
		}
		if st.rset && !tx.readRSET(s) {
			return
		}
	}
	accepted, ok := tx.readEnvelope(s)
	if !ok {
		return
	}
	r, ok := tx.read(s, "DATA")
	if !ok {
		return
	}
	tx.Data = r
	if r.Code != 354 {
		if tx.Err == nil || accepted > 0 {
			tx.replyFail("DATA", r)
		}
		return
	}
	if accepted == 0 {
		// RFC 2920 §3.1: the server took DATA although no recipient was
		// accepted; end the empty message so the dialogue stays in step.
		if _, err := s.WriteData(strings.NewReader("")); err != nil {
			tx.fail(err)
			return
		}
		if _, ok := tx.read(s, "DATA"); ok {
			st.ended = true
		}
		return
	}
	o.sendContent(s, tx, accepted, st, true, group)
}

// sendContent writes the content and the end of data, with whatever rides
// with it (QUIT, or the next group when pipelined), and reads the reply.
func (o *Options) sendContent(s *session.Session, tx *Transaction, accepted int, st *step, pipelined bool, group []string) {
	// The DotWriter normalises line ends on the wire itself, so content
	// that can be had as given skips the source's own CRLF pass.
	open := o.Source.Open
	if raw, ok := o.Source.(interface{ OpenRaw() (io.ReadCloser, error) }); ok {
		open = raw.OpenRaw
	}
	body, err := open()
	if err != nil {
		tx.fail(exitcode.Usagef("check the --data or --attach file", "cannot read the message: %v", err))
		return
	}
	defer body.Close()
	if _, err := s.WriteData(body, o.ride(st, pipelined, group)...); err != nil {
		st.wroteNext = false
		tx.fail(err)
		return
	}
	if o.dropSend("dot") {
		o.drop(s, tx, "dot")
		return
	}
	o.readEnd(s, tx, accepted, "DATA", st)
}

// readEnd reads the reply to the end of data: one for SMTP, one per
// accepted recipient for LMTP (RFC 2033 §4.2). Any reply to the end of
// DATA content closes the transaction; after BDAT only a 2xx does (RFC
// 3030 leaves the server's state after a refused chunk to an RSET).
func (o *Options) readEnd(s *session.Session, tx *Transaction, accepted int, op string, st *step) {
	if !o.Session.LMTP {
		r, ok := tx.read(s, op)
		if !ok {
			return
		}
		if tx.PRDR && r.Code == 353 {
			o.readPRDR(s, tx, op, st)
			return
		}
		tx.End = r
		st.ended = op == "DATA" || r.Code/100 == 2
		if r.Code/100 != 2 {
			tx.replyFail(op, r)
			return
		}
		if !tx.skipQueueID {
			tx.QueueID = QueueID(r.Text())
		}
		for i := range tx.Rcpts {
			if rr := tx.Rcpts[i].Reply; rr != nil && rr.Code/100 == 2 {
				tx.Rcpts[i].Accepted = true
			}
		}
		return
	}
	ok := tx.readRcptReplies(s, op, func(r *session.Reply) { tx.End = r })
	if ok {
		st.ended = true
	}
}

// readRcptReplies reads the replies after the data that come one per
// recipient accepted at RCPT, in RCPT order (LMTP, PRDR): each decides
// whether its recipient got the message. each, when not nil, sees every
// reply. It reports false when the connection failed.
func (tx *Transaction) readRcptReplies(s *session.Session, op string, each func(*session.Reply)) bool {
	for i := range tx.Rcpts {
		if rr := tx.Rcpts[i].Reply; rr == nil || rr.Code/100 != 2 {
			continue
		}
		r, ok := tx.read(s, op)
		if !ok {
			return false
		}
		tx.Rcpts[i].Data = r
		if each != nil {
			each(r)
		}
		if r.Code/100 == 2 {
			tx.Rcpts[i].Accepted = true
			if tx.QueueID == "" && !tx.skipQueueID {
				tx.QueueID = QueueID(r.Text())
			}
		} else {
			tx.replyFail(op, r)
		}
	}
	return true
}

// pipelinedBDAT runs a transaction in one flight: envelope (MAIL and
// RCPT), BDAT and the whole message.
func (o *Options) pipelinedBDAT(s *session.Session, tx *Transaction, envelope []string, st *step) {
	body, err := o.Source.Open()
	if err != nil {
		tx.fail(exitcode.Usagef("check the --data or --attach file", "cannot read the message: %v", err))
		return
	}
	defer body.Close()
	before := envelope
	if st.rset {
		before = append([]string{"RSET"}, before...)
	}
	if err := s.WriteBDAT(before, body, tx.Size, true, o.ride(st, true, nil)...); err != nil {
		tx.fail(err)
		return
	}
	if o.dropSend("dot") {
		o.drop(s, tx, "dot")
		return
	}
	if st.rset && !tx.readRSET(s) {
		return
	}
	accepted, ok := tx.readEnvelope(s)
	if !ok {
		return
	}
	if accepted == 0 {
		// The server still answers the BDAT; read it to stay in step.
		if r, ok := tx.read(s, "BDAT"); ok {
			tx.Data = r
		}
		return
	}
	o.readEnd(s, tx, accepted, "BDAT", st)
}

func (o *Options) sequential(s *session.Session, tx *Transaction, mail string, rcpts []string, chunk bool, st *step) {
	cmd := func(line, op string) (*session.Reply, bool) {
		if err := s.Write(line); err != nil {
			tx.fail(err)
			return nil, false
		}
		return tx.read(s, op)
	}
	if st.rset {
		r, ok := cmd("RSET", "RSET")
		if !ok {
			return
		}
		if r.Code/100 != 2 {
			tx.replyFail("RSET", r)
		}
	}
	if o.dropSend("mail") {
		o.writeAndDrop(s, tx, "mail", mail)
		return
	}
	r, ok := cmd(mail, "MAIL")
	if !ok {
		return
	}
	tx.Mail = r
	if r.Code/100 != 2 {
		tx.replyFail("MAIL", r)
		return
	}
	if o.stoppedAt("mail") {
		tx.Stopped = "mail"
		return
	}
	accepted := 0
	for i, line := range rcpts {
		if i == len(rcpts)-1 && o.dropSend("rcpt") {
			o.writeAndDrop(s, tx, "rcpt", line)
			return
		}
		r, ok := cmd(line, "RCPT")
		if !ok {
			return
		}
		tx.Rcpts[i].Reply = r
		if r.Code/100 == 2 {
			accepted++
		} else {
			tx.replyFail("RCPT", r)
			if r.Class() == 3 {
				return // out of sequence
			}
		}
	}
	if o.stoppedAt("rcpt") {
		tx.Stopped = "rcpt"
		return
	}
	if accepted == 0 {
		return
	}
	if chunk {
		body, err := o.Source.Open()
		if err != nil {
			tx.fail(exitcode.Usagef("check the --data or --attach file", "cannot read the message: %v", err))
			return
		}
		defer body.Close()
		if err := s.WriteBDAT(nil, body, tx.Size, true, o.ride(st, false, nil)...); err != nil {
			tx.fail(err)
			return
		}
		if o.dropSend("dot") {
			o.drop(s, tx, "dot")
			return
		}
		o.readEnd(s, tx, accepted, "BDAT", st)
		return
	}
	if o.dropSend("data") {
		o.writeAndDrop(s, tx, "data", "DATA")
		return
	}
	r, ok = cmd("DATA", "DATA")
	if !ok {
		return
	}
	tx.Data = r
	if r.Code != 354 {
		tx.replyFail("DATA", r)
		return
	}
	if o.stoppedAt("data") {
		// Nothing can be said in the data phase but content: drop the
		// connection so no message is delivered.
		tx.Stopped = "data"
		s.Close()
		return
	}
	o.sendContent(s, tx, accepted, st, false, nil)
}

// Exit computes the status for a set of transactions: 0 when every
// recipient and the message were accepted (or the stop point was reached
// cleanly); otherwise the status of the first failure in wire order, a
// permanent failure (5) outranking a transient one (4) wherever it stands.
// With allowPartial, success when at least one recipient got the message.
func Exit(txs []*Transaction, allowPartial bool) (int, error) {
	var worst error
	any := false
	for _, tx := range txs {
		for _, r := range tx.Rcpts {
			if r.Accepted {
				any = true
			}
		}
		for _, f := range tx.Failures {
			// The first failure decides, except that a permanent one
			// outranks a transient one wherever it stands: the order of
			// recipients must not turn "some will never get it" into
			// "retry later".
			if worst == nil || exitcode.For(worst) == exitcode.Transient && exitcode.For(f) == exitcode.Permanent {
				worst = f
			}
		}
	}
	if worst == nil {
		return exitcode.OK, nil
	}
	if allowPartial && any {
		return exitcode.OK, nil
	}
	return exitcode.For(worst), worst
}
