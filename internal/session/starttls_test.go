package session_test

import (
	"testing"

	"github.com/smtpx/smtpx/internal/session"
)

// 421 to STARTTLS is the server closing the channel (a transient reply,
// exit 4 like 421 anywhere else); 454 and other refusals are TLS failures.
func TestStartTLSRefusals(t *testing.T) {
	for _, tt := range []struct {
		reply string
		code  int
		kind  session.Kind
	}{
		{"421 4.3.2 shutting down", 421, session.KindReply},
		{"454 4.7.0 TLS not available", 454, session.KindTLS},
		{"502 5.5.1 not implemented", 502, session.KindTLS},
	} {
		srv := fake(t, "S: 220 x\nC: EHLO c\nS: 250-x\nS: 250 STARTTLS\nC: STARTTLS\nS: "+tt.reply+"\nhang\n")
		s, _ := dial(t, srv.Addr(), session.Options{})
		s.ReadBanner()
		s.Hello("c")
		r, err := s.StartTLS()
		if kind(err) != tt.kind || r == nil || r.Code != tt.code {
			t.Errorf("%s: reply %v, error %v", tt.reply, r, err)
		}
		s.Close()
	}
}
