package session

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	smtp "github.com/smtpx/smtpx/internal/third_party/go-smtp"
)

// Limits that keep a hostile server from exhausting memory. RFC 5321 §4.5.3.1.5
// allows 512 octets per reply line; we accept eight times that.
const (
	DefaultMaxLineLen = 4096
	DefaultMaxLines   = 1000
)

// Reply is one complete SMTP reply, single or multi-line.
type Reply struct {
	Code     int      // three-digit reply code, 200..599
	Enhanced string   // enhanced status code of the first line (RFC 3463), "" if none
	Lines    []string // text of each line after "NNN-" / "NNN ", as received but for credentials, hidden

	// wire holds the lines as received when hiding secrets changed them:
	// an AUTH challenge is decoded from what the server really sent.
	wire []string
	// in and shown are kept by ReadReplyInto for the next reply read into
	// this one: each line as received, and as the transcript shows it
	// (code included, secrets hidden). A line the same as the one at its
	// place in the last reply keeps that string, so a server saying the
	// same again costs no allocation.
	in, shown []string
}

// Clone returns a copy of r that no later read changes: what a caller
// keeps of a reply it read with ReadReplyInto, past the next read into
// the same Reply.
func (r *Reply) Clone() *Reply {
	c := &Reply{}
	r.CopyTo(c)
	return c
}

// CopyTo makes dst a copy of r, as Clone does, reusing dst's storage: a
// caller that keeps the latest of many replies copies each into the same
// dst without allocating. The strings are shared: strings never change.
func (r *Reply) CopyTo(dst *Reply) {
	dst.Code, dst.Enhanced = r.Code, r.Enhanced
	dst.Lines = append(dst.Lines[:0], r.Lines...)
	if r.wire == nil {
		dst.wire = nil
	} else {
		dst.wire = append(dst.wire[:0], r.wire...)
	}
}

// received returns the text of each line exactly as the server sent it.
func (r *Reply) received() []string {
	if r.wire != nil {
		return r.wire
	}
	return r.Lines
}

// Class is the first digit of the code: 2, 3, 4 or 5.
func (r *Reply) Class() int { return r.Code / 100 }

// OK reports a 2xx or 3xx reply.
func (r *Reply) OK() bool { return r.Code >= 200 && r.Code < 400 }

// Text is the reply text, lines joined by "\n", with the enhanced status code
// removed from the start of each line where one is present.
func (r *Reply) Text() string {
	out := make([]string, len(r.Lines))
	for i, l := range r.Lines {
		if e, rest, ok := SplitEnhanced(l); ok && e != "" {
			l = rest
		}
		out[i] = l
	}
	return strings.Join(out, "\n")
}

// Codes is the reply code with its enhanced status code, if any:
// "550 5.1.1" or "550".
func (r *Reply) Codes() string {
	if r.Enhanced == "" {
		return strconv.Itoa(r.Code)
	}
	return strconv.Itoa(r.Code) + " " + r.Enhanced
}

// Line is the whole reply on one line, as summaries and error messages
// show it: the codes, then the text with its lines joined by spaces.
func (r *Reply) Line() string {
	t := strings.TrimSpace(strings.ReplaceAll(r.Text(), "\n", " "))
	if t == "" {
		return r.Codes()
	}
	return r.Codes() + " " + t
}

// Raw returns the reply's lines as sent on the wire, without line ends.
func (r *Reply) Raw() []string {
	out := make([]string, len(r.Lines))
	for i, l := range r.Lines {
		sep := "-"
		if i == len(r.Lines)-1 {
			sep = " "
		}
		out[i] = fmt.Sprintf("%03d%s%s", r.Code, sep, l)
	}
	return out
}

// SplitEnhanced splits a leading enhanced status code ("5.1.1 text") off a
// reply line. ok is false when the line does not start with one.
func SplitEnhanced(text string) (code, rest string, ok bool) {
	end := strings.IndexByte(text, ' ')
	word := text
	if end >= 0 {
		word = text[:end]
		rest = text[end+1:]
	}
	if !IsEnhanced(word) {
		return "", text, false
	}
	return word, rest, true
}

// IsEnhanced reports whether s has the form class.subject.detail with class
// 2, 4 or 5, subject 0-999 and detail 0-999 (RFC 3463 §2).
func IsEnhanced(s string) bool {
	// Checked in place rather than split: it runs on every reply line.
	if len(s) < 5 || s[1] != '.' || s[0] != '2' && s[0] != '4' && s[0] != '5' {
		return false
	}
	rest := s[2:]
	i := strings.IndexByte(rest, '.')
	return i >= 0 && digits1to3(rest[:i]) && digits1to3(rest[i+1:])
}

// ParseEnhanced reads an enhanced status code, "5.1.1", into go-smtp's
// EnhancedCode: the one type every package uses for it. ok is false
// unless IsEnhanced(s).
func ParseEnhanced(s string) (code smtp.EnhancedCode, ok bool) {
	if !IsEnhanced(s) {
		return code, false
	}
	n, i := 0, 0
	for j := 0; j <= len(s); j++ {
		if j == len(s) || s[j] == '.' {
			code[i], n, i = n, 0, i+1
			continue
		}
		n = n*10 + int(s[j]-'0')
	}
	return code, true
}

// FormatEnhanced writes an EnhancedCode as "5.1.1".
func FormatEnhanced(c smtp.EnhancedCode) string {
	return strconv.Itoa(c[0]) + "." + strconv.Itoa(c[1]) + "." + strconv.Itoa(c[2])
}

func digits1to3(p string) bool {
	if len(p) < 1 || len(p) > 3 {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
	}
	return true
}

// ProtocolError describes a reply that breaks RFC 5321 §4.2 or a limit.
type ProtocolError struct {
	Msg  string
	Line string // the offending line, possibly truncated
}

func (e *ProtocolError) Error() string {
	if e.Line == "" {
		return e.Msg
	}
	return fmt.Sprintf("%s: %q", e.Msg, e.Line)
}

// errLineTooLong is returned by readLine when a line exceeds the limit.
var errLineTooLong = errors.New("reply line too long")

// ReplyReader reads replies from a stream, bounded in line length and number
// of lines. Bare LF line ends are tolerated.
type ReplyReader struct {
	R          *bufio.Reader
	MaxLineLen int
	MaxLines   int

	// red hides the secrets sent in AUTH in every line read, before it is
	// parsed, reported or put in an error.
	red *redactor
	// long gathers a line that does not fit in R's buffer; kept, so that
	// such lines cost no allocation once it has grown (to MaxLineLen).
	long []byte
}

// readLine returns one line without its line end. The bytes are valid
// until the next read: the bufio.Reader's own buffer when the line fits
// in it, else rr.long. A line longer than MaxLineLen is an error; the
// reader never holds more than that in memory.
func (rr *ReplyReader) readLine() ([]byte, error) {
	limit := rr.maxLen()
	buf := rr.long[:0]
	for {
		frag, err := rr.R.ReadSlice('\n')
		if len(buf)+len(frag) > limit+2 {
			// Keep only a prefix of the offending line for the transcript.
			head := append(buf, frag[:min(len(frag), max(0, 64-len(buf)))]...)
			rr.long = head[:0]
			return head[:min(len(head), 64)], errLineTooLong
		}
		if err == nil && len(buf) == 0 {
			// The usual case: the whole line is in the buffer, no copy.
			return trimEOL(frag), nil
		}
		buf = append(buf, frag...)
		rr.long = buf[:0]
		if err == nil {
			break
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err == io.EOF && len(buf) > 0 {
			return buf, io.ErrUnexpectedEOF
		}
		return buf, err
	}
	return trimEOL(buf), nil
}

// trimEOL drops a line end: LF, or CR LF.
func trimEOL(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}

// ReadReply reads one complete reply. It also returns each line as it was
// read, even for a reply that turns out to be malformed, so a transcript can
// show what the server sent. Lines and the reply hide any secret sent in
// AUTH.
func (rr *ReplyReader) ReadReply() (*Reply, []string, error) {
	r := &Reply{}
	raw, err := rr.read(r, false)
	if err != nil {
		return nil, raw, err
	}
	return r, raw, nil
}

// read reads one reply into r and returns each line as read (see
// ReadReply). With reuse, r is a Reply read into before: its storage is
// reused, the lines it held (in, shown) are offered again as the strings
// for the same text, and the lines returned are r.shown, valid until the
// next read into r. On error, what r holds is undefined.
func (rr *ReplyReader) read(r *Reply, reuse bool) (raw []string, err error) {
	maxLines := rr.MaxLines
	if maxLines <= 0 {
		maxLines = DefaultMaxLines
	}
	var in []string
	lines := r.Lines[:0]
	if reuse {
		in, raw = r.in, r.shown[:0]
		// Drop the previous reply's strings rather than keep them alive
		// past their use; the interned lines are dropped below.
		clear(r.Lines)
		clear(r.shown)
	}
	*r = Reply{Lines: lines, in: r.in, shown: r.shown}
	n := 0 // lines read
	for {
		b, err := rr.readLine()
		var wire string
		if n < len(in) && string(b) == in[n] {
			wire = in[n]
		} else {
			wire = string(b)
		}
		if reuse && err == nil {
			if n < len(in) {
				in[n] = wire
			} else {
				in = append(in, wire)
			}
		}
		n++
		line := wire
		if rr.red != nil {
			line = rr.red.line(line, err != nil, rr.maxLen())
		}
		if err != nil {
			if errors.Is(err, errLineTooLong) {
				return append(raw, line), &ProtocolError{Msg: fmt.Sprintf("reply line longer than %d bytes", rr.maxLen())}
			}
			if line != "" {
				raw = append(raw, line)
			}
			return raw, err
		}
		raw = append(raw, line)
		code, sep, text, perr := parseLine(line)
		if perr != nil {
			return raw, perr
		}
		if r.Code == 0 {
			r.Code = code
		} else if code != r.Code {
			return raw, &ProtocolError{Msg: fmt.Sprintf("reply code changed from %d to %d within one reply", r.Code, code), Line: line}
		}
		r.Lines = append(r.Lines, text)
		if line != wire && r.wire == nil {
			// The lines before this one were not changed.
			r.wire = make([]string, len(r.Lines)-1, len(r.Lines))
			copy(r.wire, r.Lines)
		}
		if r.wire != nil {
			r.wire = append(r.wire, wire[min(4, len(wire)):])
		}
		if sep != '-' {
			break
		}
		if len(r.Lines) >= maxLines {
			return raw, &ProtocolError{Msg: fmt.Sprintf("reply has more than %d lines", maxLines)}
		}
	}
	if reuse {
		clear(in[n:])
		r.in, r.shown = in[:n], raw
	}
	// A class mismatch such as "250 5.1.1" is kept: callers explain it.
	if e, _, ok := SplitEnhanced(r.Lines[0]); ok {
		r.Enhanced = e
	}
	return raw, nil
}

func (rr *ReplyReader) maxLen() int {
	if rr.MaxLineLen <= 0 {
		return DefaultMaxLineLen
	}
	return rr.MaxLineLen
}

// parseLine splits "NNN-text", "NNN text" or "NNN" (RFC 5321 §4.2).
func parseLine(line string) (code int, sep byte, text string, err error) {
	if len(line) < 3 {
		return 0, 0, "", &ProtocolError{Msg: "reply line shorter than a reply code", Line: clip(line)}
	}
	for i := 0; i < 3; i++ {
		if line[i] < '0' || line[i] > '9' {
			return 0, 0, "", &ProtocolError{Msg: "reply line does not start with a three-digit code", Line: clip(line)}
		}
	}
	code = int(line[0]-'0')*100 + int(line[1]-'0')*10 + int(line[2]-'0')
	if code < 200 || code > 599 {
		return 0, 0, "", &ProtocolError{Msg: fmt.Sprintf("reply code %03d is outside 200-599", code), Line: clip(line)}
	}
	if len(line) == 3 {
		return code, ' ', "", nil
	}
	sep = line[3]
	if sep != ' ' && sep != '-' {
		return 0, 0, "", &ProtocolError{Msg: "reply code not followed by space or hyphen", Line: clip(line)}
	}
	return code, sep, line[4:], nil
}

func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
