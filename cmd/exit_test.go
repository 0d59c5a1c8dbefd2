package cmd

import (
	"strings"
	"testing"

	"github.com/smtpx/smtpx/internal/session"
)

// Hints come from the typed cause, never from the message: each error
// here has a message that says nothing, and must still get its hint.
func TestHintFromCause(t *testing.T) {
	for _, tt := range []struct {
		kind  session.Kind
		cause *session.Cause
		want  string
	}{
		{session.KindNetwork, session.ErrNoHost, "did not resolve"},
		{session.KindNetwork, session.ErrRefused, "that a server is listening"},
		{session.KindNetwork, session.ErrConnTimeout, "--connect-timeout"},
		{session.KindNetwork, session.ErrTimeout, "raise --timeout"},
		{session.KindNetwork, session.ErrClosed, "the connection broke"},
		{session.KindTLS, session.ErrUntrustedCA, "--ca-file"},
		{session.KindTLS, session.ErrNameMismatch, "--tls-sni"},
		{session.KindTLS, session.ErrCertExpired, "renewed"},
		{session.KindTLS, session.ErrInsecureAuth, "--allow-insecure-auth"},
		{session.KindTLS, session.ErrInjection, "injecting"},
		{session.KindTLS, session.ErrHandshake, "see the handshake"},
		{session.KindProtocol, session.ErrOutOfSeq, "broke RFC 5321"},
		{session.KindNetwork, session.ErrInterrupted, "Ctrl-C"},
	} {
		err := &session.Error{Kind: tt.kind, Op: "x", Msg: "words that carry no meaning", Cause: tt.cause}
		if got := Hint(err); !strings.Contains(got, tt.want) {
			t.Errorf("%v: hint %q, want it to mention %q", tt.cause, got, tt.want)
		}
	}
}

// A 4xx reply with a policy code is greylisting's answer: the hint says to
// send again later, not "not authorised" (issue 17). Chosen from the codes:
// the text here says nothing.
func TestHintTemporaryPolicy(t *testing.T) {
	for _, r := range []*session.Reply{
		{Code: 450, Enhanced: "4.7.1", Lines: []string{"4.7.1 words that carry no meaning"}},
		{Code: 451, Enhanced: "4.7.0", Lines: []string{"4.7.0 words that carry no meaning"}},
	} {
		got := Hint(session.ReplyError("RCPT", r))
		if !strings.Contains(got, "greylisting") || !strings.Contains(got, "again") || strings.Contains(got, "not authorised") {
			t.Errorf("%s: hint %q", r.Codes(), got)
		}
	}
	// The same code in a 5xx keeps the code tables' words.
	r := &session.Reply{Code: 550, Enhanced: "5.7.1", Lines: []string{"5.7.1 no"}}
	if got := Hint(session.ReplyError("RCPT", r)); strings.Contains(got, "greylisting") {
		t.Errorf("550 5.7.1: hint %q", got)
	}
}
