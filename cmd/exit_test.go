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
