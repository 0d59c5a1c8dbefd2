package session_test

import (
	"crypto/hmac"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"

	"github.com/smtpx/smtpx/internal/auth"
	"github.com/smtpx/smtpx/internal/session"
)

// A server that echoes the credentials in its reply (issue 14) gets them
// hidden everywhere the reply goes: the events, the reply text and the
// error, while the reply keeps its code and enhanced code.
func TestAuthEchoHidden(t *testing.T) {
	const user, pw = "u@example.test", "S3cr3t-pw-7f9c"
	b64 := base64.StdEncoding.EncodeToString
	plain := "\x00" + user + "\x00" + pw
	inside1, inside2 := b64([]byte("x"+pw)), b64([]byte("xy"+pw))
	forms := []string{pw, b64([]byte(pw)), strings.TrimRight(b64([]byte(pw)), "="), b64([]byte(plain)),
		strings.TrimRight(b64([]byte(plain)), "="), inside1[3:18], inside2[3:18]}
	echoes := "S: 535-5.7.8 bad credentials " + b64([]byte(plain)) + "\n" +
		fmt.Sprintf("R: %q\n", "535-5.7.8 ("+plain+")\r\n") +
		"S: 535-5.7.8 the password " + pw + " is wrong\n" +
		"S: 535-5.7.8 " + b64([]byte(pw)) + " " + inside1 + " " + inside2 + "\n" +
		"S: 535 5.7.8 user " + user + " denied\n"
	head := "S: 220 mx.test ESMTP\nC: EHLO c\nS: 250-mx.test\nS: 250 AUTH PLAIN LOGIN\n"
	for _, tt := range []struct {
		name   string
		client func() sasl.Client
		script string
		lines  int
	}{
		{"PLAIN", func() sasl.Client { c, _ := auth.Client("PLAIN", auth.Credentials{User: user, Password: pw}); return c },
			head + "C~ AUTH PLAIN\n" + echoes, 5},
		{"LOGIN", func() sasl.Client { c, _ := auth.Client("LOGIN", auth.Credentials{User: user, Password: pw}); return c },
			head + "C~ AUTH LOGIN\nS: 334 UGFzc3dvcmQ6\nC*\n" + echoes, 5},
		// A client that names no secrets: the payloads themselves are
		// hidden, raw and in base64, which covers PLAIN's.
		{"PLAIN without SecretHolder", func() sasl.Client { return sasl.NewPlainClient("", user, pw) },
			head + "C~ AUTH PLAIN\nS: 535-5.7.8 bad credentials " + b64([]byte(plain)) + "\n" +
				fmt.Sprintf("R: %q\n", "535 5.7.8 ("+plain+")\r\n"), 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := fake(t, tt.script+"C: QUIT\nS: 221 bye\n")
			var evs []session.Event
			s, err := session.Dial(t.Context(), session.Options{Address: srv.Addr(), Timeout: 5 * time.Second,
				Observer: func(e session.Event) { evs = append(evs, e) }})
			if err != nil {
				t.Fatal(err)
			}
			s.ReadBanner()
			s.Hello("c")
			r, err := s.Auth(tt.client())
			s.Quit()
			if kind(err) != session.KindReply || r == nil || r.Code != 535 || r.Enhanced != "5.7.8" || len(r.Lines) != tt.lines {
				t.Fatalf("reply %+v, error %v", r, err)
			}
			var shown []string
			for _, e := range evs {
				if e.Dir == session.Received {
					shown = append(shown, e.Line)
				}
			}
			all := strings.Join(shown, "\n") + "\n" + r.Text() + "\n" + err.Error() + "\n" + strings.Join(r.Raw(), "\n")
			if !strings.Contains(all, session.Redacted) {
				t.Errorf("nothing hidden:\n%s", all)
			}
			for _, f := range forms {
				if strings.Contains(all, f) {
					t.Errorf("the secret %q shows in\n%s", f, all)
				}
			}
			// The user name is not a secret: it stays readable.
			if tt.lines == 5 && !strings.Contains(r.Text(), "user "+user+" denied") {
				t.Errorf("the user name was hidden:\n%s", r.Text())
			}
		})
	}
}

// A challenge that happens to contain a short password is shown hidden
// but answered from what the server sent.
func TestAuthChallengeDecodedAsSent(t *testing.T) {
	const pw = "PDE4"
	chal := "<1896.697170952@mx.test>"
	enc := base64.StdEncoding.EncodeToString([]byte(chal))
	if !strings.Contains(enc, pw) {
		t.Fatalf("the challenge %q does not contain %q", enc, pw)
	}
	m := hmac.New(md5.New, []byte(pw))
	m.Write([]byte(chal))
	answer := base64.StdEncoding.EncodeToString([]byte("tim " + hex.EncodeToString(m.Sum(nil))))
	srv := fake(t, "S: 220 mx.test\nC: EHLO c\nS: 250-mx.test\nS: 250 AUTH CRAM-MD5\nC: AUTH CRAM-MD5\nS: 334 "+enc+
		"\nC: "+answer+"\nS: 235 2.7.0 ok\nC: QUIT\nS: 221 bye\n")
	var evs []session.Event
	s, err := session.Dial(t.Context(), session.Options{Address: srv.Addr(), Timeout: 5 * time.Second,
		Observer: func(e session.Event) { evs = append(evs, e) }})
	if err != nil {
		t.Fatal(err)
	}
	s.ReadBanner()
	s.Hello("c")
	c, _ := auth.Client("CRAM-MD5", auth.Credentials{User: "tim", Password: pw})
	if r, err := s.Auth(c); err != nil || r.Code != 235 {
		t.Fatalf("%v %v (server: %v)", r, err, srv.Errors())
	}
	s.Quit()
	for _, e := range evs {
		if strings.Contains(e.Line, pw) {
			t.Errorf("shown: %q", e.Line)
		}
	}
}
