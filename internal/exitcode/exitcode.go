// Package exitcode holds the one exit-status table every smtpx verb shares
// (DESIGN §4) and the single function that maps an outcome onto it.
package exitcode

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/smtpx/smtpx/internal/route"
	"github.com/smtpx/smtpx/internal/session"
)

// The exit statuses, one per row of the table in README.md.
const (
	OK        = 0 // the final reply was 2xx, or the requested stop point was reached
	Check     = 1 // a check or expectation failed
	Usage     = 2 // bad flag, argument, address, header or input file; nothing was sent
	Network   = 3 // DNS failure, connect refused or timed out, connection lost
	Transient = 4 // the final reply was 4xx
	Permanent = 5 // the final reply was 5xx
	TLS       = 6 // TLS handshake or verification failed, or TLS required and not offered
	Protocol  = 7 // the server's reply was malformed, out of sequence or over a limit
	// Interrupted is the shell's status for a run ended by SIGINT (128+2):
	// what a Ctrl-C gave before smtpx caught the signal to stop cleanly.
	Interrupted = 130
)

// Table is the exit-status table in the order it is documented.
var Table = []struct {
	Code    int
	Meaning string
}{
	{OK, "success: the final reply was 2xx (or the requested stop point was reached)"},
	{Check, "a check or expectation failed (probe --require, --expect, verify --strict on an unprovable answer)"},
	{Usage, "usage: bad flag, argument, address, header or input file; nothing was sent"},
	{Network, "network: DNS failure, connect refused or timed out, connection lost, no reply to classify"},
	{Transient, "the final reply was 4xx (transient: retry later)"},
	{Permanent, "the final reply was 5xx (permanent)"},
	{TLS, "TLS: handshake or certificate verification failed, or TLS was required and not offered"},
	{Protocol, "protocol: the server's reply was malformed, out of sequence or over a limit"},
}

// HelpSection is the EXIT STATUS text appended to every verb's long help.
// Every verb builds its help on every run, so this is one allocation.
func HelpSection() string {
	var b strings.Builder
	b.Grow(1024)
	b.WriteString("EXIT STATUS\n")
	for _, r := range Table {
		b.WriteString("  " + strconv.Itoa(r.Code) + "  " + r.Meaning + "\n")
	}
	return b.String()
}

// Error is a failure that carries its exit status, a one-line message and an
// optional hint telling the user how to fix it.
type Error struct {
	Code int
	Msg  string
	Hint string
	Err  error
	// Quiet means the failure was already reported (for example in a
	// transcript or a JSON result) and only the status remains to be set.
	Quiet bool
}

func (e *Error) Error() string {
	if e.Msg == "" && e.Err != nil {
		return e.Err.Error()
	}
	return e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

// Usagef returns a usage error (exit 2) with a hint.
func Usagef(hint, format string, a ...any) *Error {
	return &Error{Code: Usage, Msg: fmt.Sprintf(format, a...), Hint: hint}
}

// Silent returns an error that only sets the exit status.
func Silent(code int) *Error { return &Error{Code: code, Quiet: true} }

// FromReply maps an SMTP reply code onto the table: 2xx and 3xx are success,
// 4xx transient, 5xx permanent; anything else cannot be classified.
func FromReply(code int) int {
	switch code / 100 {
	case 2, 3:
		return OK
	case 4:
		return Transient
	case 5:
		return Permanent
	}
	return Protocol
}

// For returns the exit status for err; nil is success.
func For(err error) int {
	if err == nil {
		return OK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if errors.Is(err, session.ErrInterrupted) || errors.Is(err, context.Canceled) {
		return Interrupted
	}
	var se *session.Error
	if errors.As(err, &se) {
		switch se.Kind {
		case session.KindReply:
			if se.Reply != nil {
				return FromReply(se.Reply.Code)
			}
			return Protocol
		case session.KindTLS:
			return TLS
		case session.KindProtocol:
			return Protocol
		case session.KindUsage:
			return Usage
		default:
			return Network
		}
	}
	var re *route.Error
	if errors.As(err, &re) {
		switch re.Kind {
		case route.KindNXDomain, route.KindNoData, route.KindNullMX:
			return Permanent
		case route.KindInvalid:
			return Usage
		}
		return Network
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return Network
	}
	return Network
}
