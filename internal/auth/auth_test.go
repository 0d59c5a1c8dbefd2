package auth

import (
	"crypto/hmac"
	"crypto/md5"
	"encoding/hex"
	"testing"

	"github.com/xdg-go/scram"

	"github.com/smtpx/smtpx/internal/session"
)

// Every client names its credentials, so that session.Auth can hide a
// server's echo of them.
func TestClientsNameTheirSecrets(t *testing.T) {
	creds := Credentials{User: "u@example.test", Password: "pw-1", Token: "tok-2"}
	for _, mech := range Mechanisms {
		c, err := Client(mech, creds)
		if err != nil {
			t.Fatal(err)
		}
		h, ok := c.(session.SecretHolder)
		if !ok {
			t.Errorf("%s: not a session.SecretHolder", mech)
			continue
		}
		if got := h.Secrets(); len(got) != 2 || got[0] != "pw-1" || got[1] != "tok-2" || h.User() != "u@example.test" {
			t.Errorf("%s: secrets %q, user %q", mech, got, h.User())
		}
	}
}

func TestChoose(t *testing.T) {
	pw := Credentials{User: "u", Password: "p"}
	tok := Credentials{User: "u", Token: "t"}
	tests := []struct {
		offered []string
		c       Credentials
		want    string
	}{
		{[]string{"PLAIN", "LOGIN"}, pw, "PLAIN"},
		{[]string{"login", "plain", "cram-md5"}, pw, "CRAM-MD5"},
		{[]string{"PLAIN", "SCRAM-SHA-1", "SCRAM-SHA-256"}, pw, "SCRAM-SHA-256"},
		{[]string{"PLAIN", "XOAUTH2"}, tok, "XOAUTH2"},
		{[]string{"XOAUTH2", "OAUTHBEARER"}, tok, "OAUTHBEARER"},
		{[]string{"EXTERNAL", "PLAIN"}, Credentials{CertAuth: true}, "EXTERNAL"},
	}
	for _, tt := range tests {
		got, err := Choose(tt.offered, tt.c)
		if err != nil || got != tt.want {
			t.Errorf("Choose(%v) = %q, %v; want %q", tt.offered, got, err, tt.want)
		}
	}
	if _, err := Choose([]string{"GSSAPI"}, pw); err == nil {
		t.Error("GSSAPI only: expected an error")
	}
	if _, err := Choose(nil, pw); err == nil {
		t.Error("nothing offered: expected an error")
	}
}

func TestCRAMMD5(t *testing.T) {
	c, _ := Client("CRAM-MD5", Credentials{User: "tim", Password: "tanstaaftanstaaf"})
	// The example exchange from RFC 2195 §2.
	chal := []byte("<1896.697170952@postoffice.reston.mci.net>")
	resp, _ := c.Next(chal)
	m := hmac.New(md5.New, []byte("tanstaaftanstaaf"))
	m.Write(chal)
	if want := "tim " + hex.EncodeToString(m.Sum(nil)); string(resp) != want || want != "tim b913a602c7eda7a495b4e6e7334d3890" {
		t.Errorf("got %q", resp)
	}
}

func TestSCRAMAgainstServer(t *testing.T) {
	for _, mech := range []string{"SCRAM-SHA-256", "SCRAM-SHA-1"} {
		h := scram.SHA256
		if mech == "SCRAM-SHA-1" {
			h = scram.SHA1
		}
		cl, _ := h.NewClient("user", "pencil", "")
		creds, err := cl.GetStoredCredentialsWithError(scram.KeyFactors{Salt: "QSXCR+Q6sek8bf92", Iters: 4096})
		if err != nil {
			t.Fatal(err)
		}
		srv, _ := h.NewServer(func(string) (scram.StoredCredentials, error) { return creds, nil })
		conv := srv.NewConversation()
		c, err := Client(mech, Credentials{User: "user", Password: "pencil"})
		if err != nil {
			t.Fatal(err)
		}
		_, ir, _ := c.Start()
		msg, err := conv.Step(string(ir))
		for err == nil && !conv.Done() {
			var resp []byte
			resp, err = c.Next([]byte(msg))
			if err != nil {
				break
			}
			msg, err = conv.Step(string(resp))
		}
		if err != nil || !conv.Valid() {
			t.Errorf("%s: %v valid=%v", mech, err, conv.Valid())
		}
	}
}

func TestXOAUTH2(t *testing.T) {
	c, _ := Client("XOAUTH2", Credentials{User: "a@b", Token: "tok"})
	mech, ir, _ := c.Start()
	if mech != "XOAUTH2" || string(ir) != "user=a@b\x01auth=Bearer tok\x01\x01" {
		t.Errorf("%s %q", mech, ir)
	}
}

func TestLoginServerAgainstClient(t *testing.T) {
	for _, initial := range []bool{true, false} {
		var got [2]string
		srv := NewLoginServer(func(u, p string) error { got = [2]string{u, p}; return nil })
		c, _ := Client("LOGIN", Credentials{User: "bob", Password: "pw"})
		_, ir, _ := c.Start()
		if !initial {
			ir = nil
		}
		chal, done, err := srv.Next(ir)
		for !done && err == nil {
			var resp []byte
			if string(chal) == "Username:" {
				resp = []byte("bob")
			} else {
				resp, _ = c.Next(chal)
			}
			chal, done, err = srv.Next(resp)
		}
		if err != nil || got != [2]string{"bob", "pw"} {
			t.Errorf("initial=%v: %v %q", initial, err, got)
		}
	}
}
