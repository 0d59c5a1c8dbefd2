package session

import "fmt"

// Kind says what sort of failure an Error is, so callers can map it to an
// exit status without inspecting strings.
type Kind int

// The kinds of session failure.
const (
	KindNetwork  Kind = iota // dial, read or write failed, deadline passed, connection closed
	KindReply                // the server answered with a reply that stops the plan
	KindTLS                  // handshake, verification, or TLS required but not offered
	KindProtocol             // malformed reply, over a limit, or out of sequence
	KindUsage                // the caller asked for something invalid (CR/LF in a command)
)

// Error is a session failure. Reply is set for KindReply.
type Error struct {
	Kind  Kind
	Op    string // what was being done: "connect", "banner", "EHLO", "STARTTLS", ...
	Reply *Reply
	Msg   string
	Err   error
}

func (e *Error) Error() string {
	switch {
	case e.Kind == KindReply && e.Reply != nil:
		s := fmt.Sprintf("%s rejected (%d", e.Op, e.Reply.Code)
		if e.Reply.Enhanced != "" {
			s += " " + e.Reply.Enhanced
		}
		return s + ")"
	case e.Msg != "" && e.Err != nil:
		return e.Op + ": " + e.Msg + ": " + e.Err.Error()
	case e.Msg != "":
		return e.Op + ": " + e.Msg
	case e.Err != nil:
		return e.Op + ": " + e.Err.Error()
	}
	return e.Op + ": failed"
}

func (e *Error) Unwrap() error { return e.Err }

// ReplyError reports that a reply to op stopped the dialogue.
func ReplyError(op string, r *Reply) *Error { return &Error{Kind: KindReply, Op: op, Reply: r} }
