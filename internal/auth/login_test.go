package auth_test

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/smtpx/smtpx/internal/auth"
	"github.com/smtpx/smtpx/internal/session"
	"github.com/smtpx/smtpx/internal/smtptest"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// The LOGIN draft tells clients to ignore what the challenges say: the
// first is answered with the user name, the second with the password.
// Servers word them in many ways; aiosmtpd's "User Name\x00" and
// "Password\x00" made go-sasl's client give up (issue 17).
func TestLoginAnyPrompt(t *testing.T) {
	for _, tt := range []struct{ name, user, pass string }{
		{"Username:/Password:", "Username:", "Password:"},
		{"aiosmtpd", "User Name\x00", "Password\x00"},
		{"empty", "", ""},
		{"lower case", "username:", "password:"},
		{"odd text", "Who goes there?", "And the secret word?"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			script := "S: 220 mx.test ESMTP\nC: EHLO c\nS: 250-mx.test\nS: 250 AUTH LOGIN\n" +
				"C: AUTH LOGIN\nS: 334 " + b64(tt.user) + "\nC: " + b64("bob@example.test") + "\n" +
				"S: 334 " + b64(tt.pass) + "\nC: " + b64("pw with spaces") + "\nS: 235 2.7.0 ok\n" +
				"C: QUIT\nS: 221 bye\n"
			srv, s := open(t, script)
			c, err := auth.Client("LOGIN", auth.Credentials{User: "bob@example.test", Password: "pw with spaces"})
			if err != nil {
				t.Fatal(err)
			}
			r, err := s.Auth(c)
			if err != nil || r.Code != 235 {
				t.Fatalf("AUTH: %v %v; server: %q", r, err, srv.Errors())
			}
			s.Quit()
			srv.Close()
			if e := srv.Errors(); len(e) > 0 {
				t.Errorf("server: %q", e)
			}
		})
	}
}

// A LOGIN server that asks a third question is not speaking LOGIN: the
// exchange is cancelled ("*") and it is a protocol failure (exit 7).
func TestLoginThirdChallengeRefused(t *testing.T) {
	script := "S: 220 mx.test ESMTP\nC: EHLO c\nS: 250-mx.test\nS: 250 AUTH LOGIN\n" +
		"C: AUTH LOGIN\nS: 334 " + b64("Username:") + "\nC: " + b64("bob") + "\n" +
		"S: 334 " + b64("Password:") + "\nC: " + b64("pw") + "\n" +
		"S: 334 " + b64("And your PIN:") + "\nC: *\nS: 501 5.7.0 cancelled\n"
	srv, s := open(t, script)
	c, _ := auth.Client("LOGIN", auth.Credentials{User: "bob", Password: "pw"})
	_, err := s.Auth(c)
	var se *session.Error
	if !errors.As(err, &se) || se.Kind != session.KindProtocol || !strings.Contains(err.Error(), "third challenge") {
		t.Fatalf("got %v, want a protocol error about a third challenge", err)
	}
	s.Close()
	srv.Close()
	if e := srv.Errors(); len(e) > 0 {
		t.Errorf("server: %q", e)
	}
}

// open starts a server playing script and returns it with a session that
// has read the banner and said EHLO.
func open(t *testing.T, script string) (*smtptest.Server, *session.Session) {
	t.Helper()
	srv, err := smtptest.Start(script)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	s, err := session.Dial(context.Background(), session.Options{Address: srv.Addr(), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReadBanner(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Hello("c"); err != nil {
		t.Fatal(err)
	}
	return srv, s
}
