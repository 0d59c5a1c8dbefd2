package route

import (
	"errors"
	"fmt"
)

// Kind says what sort of DNS failure an Error is, so callers can map it to an
// exit status and an explanation without inspecting strings.
type Kind int

// The kinds of failure. The comments give the mapping the verbs use
// (DESIGN §4); route itself does not decide exit codes.
const (
	// KindTemporary: SERVFAIL, REFUSED, a timeout, a network error or a
	// cancelled context. Nothing is known about the domain: exit 3.
	KindTemporary Kind = iota + 1
	// KindNXDomain: the name does not exist. For a mail domain this is a
	// permanent failure, explained as 5.1.2 (bad destination system).
	KindNXDomain
	// KindNoData: the name exists but has no records of the asked type. From
	// Route it means no MX and no A/AAAA, or MX hosts that have no addresses:
	// a permanent failure, also explained as 5.1.2.
	KindNoData
	// KindNullMX: the domain publishes "MX 0 ." (RFC 7505) and accepts no
	// mail: a permanent failure, explained as 556 5.1.10.
	KindNullMX
	// KindInvalid: the caller gave a name or server address that cannot be
	// asked about (bad IDNA, empty label, bad port). Usage: exit 2.
	KindInvalid
)

// String names the kind in lower case, for messages and JSON.
func (k Kind) String() string {
	switch k {
	case KindTemporary:
		return "temporary"
	case KindNXDomain:
		return "nxdomain"
	case KindNoData:
		return "nodata"
	case KindNullMX:
		return "null_mx"
	case KindInvalid:
		return "invalid"
	}
	return "none"
}

// Error is a DNS failure.
type Error struct {
	Kind   Kind
	Name   string // the name asked about, ASCII, without the trailing dot
	Type   string // the query type ("MX", "AAAA", ...); empty when no query was made
	Server string // the resolver that gave the answer, or the last one tried
	Msg    string // what went wrong, in lower case; shown instead of Err
	Err    error  // the underlying network or context error, if any
}

// Error reads "lookup TYPE NAME: what went wrong", with the server named
// when the failure was the resolver's own (KindTemporary).
func (e *Error) Error() string {
	s := e.Name
	if e.Type != "" {
		s = "lookup " + e.Type + " " + e.Name
	}
	// Msg already says what Err would, in the words the user needs; Err is
	// kept for errors.Is and errors.As.
	msg := e.Msg
	switch {
	case msg != "":
	case e.Err != nil:
		msg = e.Err.Error()
	default:
		msg = "failed"
	}
	if s == "" {
		s = msg
	} else {
		s += ": " + msg
	}
	if e.Server != "" && e.Kind == KindTemporary {
		// Only failures of the resolver itself name it: for NXDOMAIN and the
		// like, which resolver answered is noise.
		s += " (server " + e.Server + ")"
	}
	return s
}

// Unwrap returns the underlying error, so errors.Is(err, context.Canceled)
// and errors.Is(err, os.ErrDeadlineExceeded) work.
func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the Kind of the first *Error in err's chain: 0 for a nil err,
// and KindTemporary for any other error, since an unexplained failure says
// nothing about the domain.
func KindOf(err error) Kind {
	if err == nil {
		return 0
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindTemporary
}

func invalid(name, format string, args ...any) *Error {
	return &Error{Kind: KindInvalid, Name: name, Msg: fmt.Sprintf(format, args...)}
}
