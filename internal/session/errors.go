package session

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
)

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

// Cause is the typed reason behind a failure. Callers test it with
// errors.Is to choose a hint or an exit, never by reading message text,
// which is free to change.
type Cause struct{ name string }

func (c *Cause) Error() string { return c.name }

// The causes a session reports.
var (
	ErrRefused      = &Cause{"connection refused"}                    // nothing listens
	ErrNoHost       = &Cause{"host name not found"}                   // the address's name did not resolve
	ErrConnTimeout  = &Cause{"no connection in time"}                 // connect timed out
	ErrTimeout      = &Cause{"no reply in time"}                      // a reply or a write waited past Timeout
	ErrClosed       = &Cause{"connection closed"}                     // closed or broken by the peer
	ErrUntrustedCA  = &Cause{"certificate from an unknown authority"} // chain does not lead to a trusted root
	ErrNoRoots      = &Cause{"no trusted roots"}                      // nothing to verify against
	ErrNameMismatch = &Cause{"certificate for another name"}          // leaf does not name the server
	ErrCertExpired  = &Cause{"certificate expired or not yet valid"}  // outside its validity
	ErrCertInvalid  = &Cause{"certificate invalid"}                   // any other verification failure
	ErrHandshake    = &Cause{"TLS handshake failed"}                  // no common version or suite, or a broken handshake
	ErrInjection    = &Cause{"plaintext after STARTTLS"}              // bytes before the handshake
	ErrTLSRefused   = &Cause{"STARTTLS refused"}                      // the server would not start TLS
	ErrInsecureAuth = &Cause{"AUTH without TLS"}                      // credentials would cross the network in clear
	ErrOutOfSeq     = &Cause{"reply out of sequence"}                 // a reply where none, or another, was due
	ErrMalformed    = &Cause{"malformed reply"}                       // a reply over a limit or not in the grammar
	ErrInterrupted  = &Cause{"interrupted"}                           // the run's context ended (Ctrl-C, SIGTERM)
	ErrUnproven     = &Cause{"server not authenticated"}              // AUTH succeeded without the server's proof (Verifier)
)

// Error is a session failure. Reply is set for KindReply.
type Error struct {
	Kind  Kind
	Op    string // what was being done: "connect", "banner", "EHLO", "STARTTLS", ...
	Reply *Reply
	Msg   string
	Err   error
	Cause *Cause // why, for errors.Is; nil for a reply that stopped the plan
}

func (e *Error) Error() string {
	switch {
	case e.Kind == KindReply && e.Reply != nil:
		return e.Op + " rejected (" + e.Reply.Codes() + ")"
	case e.Msg != "" && e.Err != nil:
		return e.Op + ": " + e.Msg + ": " + e.Err.Error()
	case e.Msg != "":
		return e.Op + ": " + e.Msg
	case e.Err != nil:
		return e.Op + ": " + e.Err.Error()
	}
	return e.Op + ": failed"
}

// Unwrap gives errors.Is and errors.As both the underlying error and the
// cause.
func (e *Error) Unwrap() []error {
	var out []error
	if e.Err != nil {
		out = append(out, e.Err)
	}
	if e.Cause != nil {
		out = append(out, e.Cause)
	}
	return out
}

// ReplyError reports that a reply to op stopped the dialogue.
func ReplyError(op string, r *Reply) *Error { return &Error{Kind: KindReply, Op: op, Reply: r} }

// NotVerified is the TLS line's verdict when verification was switched off
// on purpose (Options.TLSVerdict can say by what).
const NotVerified = "not verified"

// CertCause classifies a certificate verification error (from crypto/tls
// or x509.Certificate.Verify): the one place every verb learns why a
// certificate was not accepted, with a message in the transcript's words.
func CertCause(err error) (*Cause, string) {
	var ue x509.UnknownAuthorityError
	var he x509.HostnameError
	var ie x509.CertificateInvalidError
	var sr x509.SystemRootsError
	switch {
	case errors.As(err, &ue):
		return ErrUntrustedCA, "certificate is not signed by a trusted authority"
	case errors.As(err, &he):
		return ErrNameMismatch, "certificate does not match the server name"
	case errors.As(err, &ie) && ie.Reason == x509.Expired:
		return ErrCertExpired, "certificate has expired or is not yet valid"
	case errors.As(err, &ie):
		return ErrCertInvalid, "certificate is invalid"
	case errors.As(err, &sr):
		return ErrNoRoots, "no system roots to verify the certificate against"
	}
	var ve *tls.CertificateVerificationError
	if errors.As(err, &ve) {
		return ErrCertInvalid, "certificate verification failed"
	}
	return ErrHandshake, "TLS handshake failed"
}
