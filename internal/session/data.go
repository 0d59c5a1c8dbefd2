package session

import (
	"fmt"
	"github.com/smtpx/smtpx/internal/eol"
	"io"
	"strconv"
)

// DotWriter writes message content for the DATA phase (RFC 5321 §4.5.2):
// every line end (CRLF, bare LF or bare CR) becomes CRLF and a line starting
// with "." gets another ".". Close ends the content with a line end if
// needed; the caller then writes ".\r\n". Because every line end is
// normalised and every leading dot doubled, no input can produce an
// end-of-data sequence.
type DotWriter struct {
	W     io.Writer
	bol   bool // at beginning of a line
	cr    bool // previous byte was CR
	Bytes int64
	Lines int64
	// Line, if set, receives each complete line (without CRLF, unstuffed).
	Line func(string)
	cur  []byte
	buf  []byte
}

// NewDotWriter returns a DotWriter at the beginning of a line.
func NewDotWriter(w io.Writer) *DotWriter { return &DotWriter{W: w, bol: true} }

// Write implements io.Writer. It copies runs between line ends in bulk, so
// the common case costs one scan and one copy per buffer.
func (d *DotWriter) Write(p []byte) (int, error) {
	// Room for p plus a CR per line and a stuffed dot, so that the usual
	// buffer needs one allocation instead of a series of appends growing
	// through every size class.
	if need := len(p) + len(p)/16 + 2; cap(d.buf) < need {
		d.buf = make([]byte, 0, need)
	}
	out := d.buf[:0]
	f := eol.NewFinder(p)
	for off := 0; off < len(p); {
		if d.cr {
			d.cr = false
			if p[off] == '\n' {
				off++ // the CRLF was written for the CR
				continue
			}
		}
		if d.bol && p[off] == '.' {
			out = append(out, '.')
		}
		i := f.Next(off)
		if i < 0 {
			out = append(out, p[off:]...)
			if d.Line != nil {
				d.cur = append(d.cur, p[off:]...)
			}
			d.bol = false
			break
		}
		out = append(out, p[off:i]...)
		out = append(out, '\r', '\n')
		if d.Line != nil {
			d.cur = append(d.cur, p[off:i]...)
		}
		d.endLine()
		d.bol = true
		d.cr = p[i] == '\r'
		off = i + 1
	}
	d.buf = out
	k, err := d.W.Write(out)
	d.Bytes += int64(k)
	if err != nil {
		return 0, err
	}
	return len(p), nil
}

func (d *DotWriter) endLine() {
	d.Lines++
	if d.Line != nil {
		d.Line(string(d.cur))
		d.cur = d.cur[:0]
	}
}

// Close terminates the last line if the content did not end with one.
func (d *DotWriter) Close() error {
	if !d.bol {
		n, err := d.W.Write([]byte("\r\n"))
		d.Bytes += int64(n)
		d.endLine()
		d.bol = true
		return err
	}
	return nil
}

// WriteData writes message content (dot-stuffed, CRLF-normalised) followed by
// the end-of-data line, then any trailing commands (such as QUIT or the next
// transaction's MAIL, RCPT, DATA group) in the same flush. It does not read
// replies. It returns the number of content bytes written on the wire.
func (s *Session) WriteData(body io.Reader, trailing ...string) (int64, error) {
	for _, l := range trailing {
		if err := CheckLine(l); err != nil {
			return 0, err
		}
	}
	if s.rr.R.Buffered() > 0 { // sent with the 354: no content goes out
		return 0, s.earlyReply()
	}
	dw := s.dotWriter()
	if err := s.copyTimed(dw, body); err != nil {
		return dw.Bytes, err
	}
	if err := dw.Close(); err != nil {
		return dw.Bytes, s.wireErr(err)
	}
	if s.earlyInput() {
		return dw.Bytes, s.earlyReply()
	}
	s.bw.WriteString(".\r\n")
	s.writeLines(trailing)
	if err := s.flush(); err != nil {
		return dw.Bytes, err
	}
	if !s.opts.TraceBody && s.opts.Observer != nil {
		s.info("%d bytes of message data in %d lines", dw.Bytes, dw.Lines)
	}
	s.emit(Event{Dir: Sent, Line: "."})
	for _, l := range trailing {
		s.emit(Event{Dir: Sent, Line: l})
	}
	return dw.Bytes, nil
}

// earlyInput reports whether the server has said anything since its 354,
// looked at just before the end of data is written. Nothing it sends
// before our end of data can answer the message: a "250 queued" sent with
// the 354 (and a 554 to the real end) must not pass for a delivery.
func (s *Session) earlyInput() bool {
	if s.rr.R.Buffered() > 0 {
		return true
	}
	if s.peek == nil || s.peek.conn != s.conn {
		s.peek = &connPeeker{conn: s.conn, p: newPeeker(s.conn)}
	}
	return s.peek.p.waiting()
}

// earlyReply reads and shows what the server sent during the data phase,
// then drops the connection without writing another byte (no end of data,
// no QUIT): the dialogue is out of step. A 421 is the server closing the
// channel, allowed at any time; anything else is out of sequence.
func (s *Session) earlyReply() error {
	s.bw.Reset(io.Discard)
	r, err := s.ReadReply("DATA")
	s.Close()
	switch {
	case err != nil:
		return err
	case r.Code == 421:
		return ReplyError("DATA", r)
	}
	return &Error{Kind: KindProtocol, Op: "DATA", Reply: r,
		Msg: fmt.Sprintf("reply %d before the end of the message data (out of sequence)", r.Code), Cause: ErrOutOfSeq}
}

// abandon drops the connection at once, discarding what is buffered: after
// the message could not be read to its end, any byte more (even QUIT)
// would be taken as message content, or complete a BDAT chunk.
func (s *Session) abandon() {
	s.bw.Reset(io.Discard)
	s.info("connection closed: the message could not be sent whole")
	s.Close()
}

// dotWriter returns the session's DotWriter, reset to the beginning of a
// message. It is kept with its buffer so that a session carrying many
// messages (load mode) does not allocate one per message.
func (s *Session) dotWriter() *DotWriter {
	dw := s.dw
	if dw == nil {
		dw = &DotWriter{}
		s.dw = dw
	}
	*dw = DotWriter{W: s.bw, bol: true, cur: dw.cur[:0], buf: dw.buf[:0]}
	if s.opts.TraceBody && s.opts.Observer != nil {
		dw.Line = func(l string) { s.emit(Event{Dir: Sent, Line: l, Body: true}) }
	}
	return dw
}

// copyBuf is the session's buffer for message content, allocated once.
func (s *Session) copyBuf() []byte {
	if s.buf == nil {
		s.buf = make([]byte, 32*1024)
	}
	return s.buf
}

// copyTimed copies with a write deadline refreshed for each buffer, so a
// large message is bounded per write rather than in total.
func (s *Session) copyTimed(w io.Writer, r io.Reader) error {
	buf := s.copyBuf()
	for {
		n, rerr := r.Read(buf)
		if n > 0 {
			_ = s.deadline(true)
			if _, err := w.Write(buf[:n]); err != nil {
				return s.wireErr(err)
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			s.abandon()
			return &Error{Kind: KindUsage, Op: "read message", Msg: "cannot read the message", Err: rerr}
		}
	}
}

func (s *Session) wireErr(err error) error {
	if s.ctx.Err() != nil {
		return &Error{Kind: KindNetwork, Op: "DATA", Msg: "interrupted", Cause: ErrInterrupted}
	}
	if IsTimeout(err) {
		return &Error{Kind: KindNetwork, Op: "DATA", Msg: fmt.Sprintf("write blocked for %s", s.opts.Timeout), Err: err, Cause: ErrTimeout}
	}
	return &Error{Kind: KindNetwork, Op: "DATA", Msg: "connection lost while sending the message", Err: err, Cause: ErrClosed}
}

// WriteBDAT writes the given commands (e.g. MAIL and RCPT in one PIPELINING
// group), then "BDAT size [LAST]" and exactly size bytes of content as given
// (RFC 3030: no dot-stuffing; the caller supplies CRLF line ends), then any
// trailing commands, all in one flight. Replies are not read. Fewer than
// size bytes from content is an error: the server would wait for the rest.
func (s *Session) WriteBDAT(before []string, content io.Reader, size int64, last bool, trailing ...string) error {
	for _, list := range [2][]string{before, trailing} {
		for _, l := range list {
			if err := CheckLine(l); err != nil {
				return err
			}
		}
	}
	s.writeLines(before)
	// Built in a kept buffer: a string per message would be garbage per
	// message in load mode; the event's string is made only when observed.
	cmd := strconv.AppendInt(append(s.cmd[:0], "BDAT "...), size, 10)
	if last {
		cmd = append(cmd, " LAST"...)
	}
	s.cmd = cmd
	s.bw.Write(cmd)
	s.bw.WriteString("\r\n")
	n, err := s.copyN(content, size)
	if err != nil {
		return err
	}
	if n != size {
		s.abandon()
		return &Error{Kind: KindUsage, Op: "BDAT", Msg: fmt.Sprintf("message has %d bytes, %d were announced", n, size)}
	}
	s.writeLines(trailing)
	if err := s.flush(); err != nil {
		return err
	}
	if s.opts.Observer == nil {
		return nil
	}
	for _, l := range before {
		s.emit(Event{Dir: Sent, Line: l})
	}
	s.emit(Event{Dir: Sent, Line: string(cmd)})
	s.info("%d bytes of message data", size)
	for _, l := range trailing {
		s.emit(Event{Dir: Sent, Line: l})
	}
	return nil
}

// writeLines buffers commands (checked by the caller) with their line
// ends, noting a QUIT.
func (s *Session) writeLines(lines []string) {
	for _, l := range lines {
		s.bw.WriteString(l)
		s.bw.WriteString("\r\n")
		if l == "QUIT" {
			s.quit = true
		}
	}
}

// copyN copies at most n bytes into the write buffer, refreshing the write
// deadline per buffer.
func (s *Session) copyN(r io.Reader, n int64) (int64, error) {
	buf := s.copyBuf()
	var done int64
	for done < n {
		want := int64(len(buf))
		if n-done < want {
			want = n - done
		}
		k, rerr := r.Read(buf[:want])
		if k > 0 {
			_ = s.deadline(true)
			if _, err := s.bw.Write(buf[:k]); err != nil {
				return done, s.wireErr(err)
			}
			done += int64(k)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			s.abandon()
			return done, &Error{Kind: KindUsage, Op: "read message", Msg: "cannot read the message", Err: rerr}
		}
	}
	return done, nil
}
