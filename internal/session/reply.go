package session

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"github.com/emersion/go-smtp"
	"io"
	"strconv"
	"strings"
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
}

// readLine returns one line without its line end. A line longer than
// MaxLineLen is an error; the reader never holds more than that in memory.
func (rr *ReplyReader) readLine() (string, error) {
	max := rr.MaxLineLen
	if max <= 0 {
		max = DefaultMaxLineLen
	}
	var buf []byte
	for {
		frag, err := rr.R.ReadSlice('\n')
		if len(buf)+len(frag) > max+2 {
			// Keep only a prefix of the offending line for the transcript.
			head := append(buf, frag...)
			if len(head) > 64 {
				head = head[:64]
			}
			return string(head), errLineTooLong
		}
		buf = append(buf, frag...)
		if err == nil {
			break
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err == io.EOF && len(buf) > 0 {
			return string(buf), io.ErrUnexpectedEOF
		}
		return string(buf), err
	}
	buf = bytes.TrimSuffix(buf, []byte("\n"))
	buf = bytes.TrimSuffix(buf, []byte("\r"))
	return string(buf), nil
}

// ReadReply reads one complete reply. It also returns each line as it was
// read, even for a reply that turns out to be malformed, so a transcript can
// show what the server sent. Lines and the reply hide any secret sent in
// AUTH.
func (rr *ReplyReader) ReadReply() (*Reply, []string, error) {
	maxLines := rr.MaxLines
	if maxLines <= 0 {
		maxLines = DefaultMaxLines
	}
	var raw []string
	r := &Reply{}
	for {
		line, err := rr.readLine()
		wire := line
		if rr.red != nil {
			line = rr.red.line(line, err != nil, rr.maxLen())
		}
		if err != nil {
			if errors.Is(err, errLineTooLong) {
				return nil, append(raw, line), &ProtocolError{Msg: fmt.Sprintf("reply line longer than %d bytes", rr.maxLen())}
			}
			if line != "" {
				raw = append(raw, line)
			}
			return nil, raw, err
		}
		raw = append(raw, line)
		code, sep, text, perr := parseLine(line)
		if perr != nil {
			return nil, raw, perr
		}
		if r.Code == 0 {
			r.Code = code
		} else if code != r.Code {
			return nil, raw, &ProtocolError{Msg: fmt.Sprintf("reply code changed from %d to %d within one reply", r.Code, code), Line: line}
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
			return nil, raw, &ProtocolError{Msg: fmt.Sprintf("reply has more than %d lines", maxLines)}
		}
	}
	// A class mismatch such as "250 5.1.1" is kept: callers explain it.
	if e, _, ok := SplitEnhanced(r.Lines[0]); ok {
		r.Enhanced = e
	}
	return r, raw, nil
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
