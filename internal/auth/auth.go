// Package auth provides the SASL clients smtpx speaks for SMTP AUTH
// (RFC 4954) and picks the strongest one a server offers:
//
//   - SCRAM-SHA-256 (RFC 7677) and SCRAM-SHA-1 (RFC 5802), its own (standard library
//     crypto, SASLprep of RFC 4013 on golang.org/x/text), the server's proof required (Verified)
//   - CRAM-MD5 (RFC 2195)
//   - PLAIN (RFC 4616) via github.com/emersion/go-sasl
//   - LOGIN (draft-murchison-sasl-login), prompts answered in order whatever their wording
//   - OAUTHBEARER (RFC 7628) via go-sasl, and Google/Microsoft XOAUTH2
//   - EXTERNAL (RFC 4422 Appendix A) with a TLS client certificate
package auth

import (
	"crypto/hmac"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/emersion/go-sasl"
)

// Credentials are what the user supplied.
type Credentials struct {
	User     string
	Password string // may be empty when a token or certificate is used
	Token    string // OAuth 2 access token
	Host     string // for OAUTHBEARER
	Port     int
	CertAuth bool // a client certificate is configured (EXTERNAL)
}

// Mechanisms lists what smtpx can do, strongest first.
var Mechanisms = []string{"SCRAM-SHA-256", "SCRAM-SHA-1", "CRAM-MD5", "OAUTHBEARER", "XOAUTH2", "EXTERNAL", "PLAIN", "LOGIN"}

// Supported reports whether mech is one smtpx implements.
func Supported(mech string) bool {
	for _, m := range Mechanisms {
		if strings.EqualFold(m, mech) {
			return true
		}
	}
	return false
}

// Choose picks the strongest mechanism the server offers that the
// credentials can use. PLAIN ranks below the challenge-response ones because
// it reveals the password to the server; over TLS it is still safe on the wire.
func Choose(offered []string, c Credentials) (string, error) {
	has := map[string]bool{}
	for _, m := range offered {
		has[strings.ToUpper(m)] = true
	}
	usable := func(m string) bool {
		switch m {
		case "OAUTHBEARER", "XOAUTH2":
			return c.Token != ""
		case "EXTERNAL":
			return c.CertAuth
		}
		return c.Password != "" && c.Token == ""
	}
	for _, m := range Mechanisms {
		if has[m] && usable(m) {
			return m, nil
		}
	}
	if len(offered) == 0 {
		return "", errors.New("the server offers no AUTH mechanisms")
	}
	return "", fmt.Errorf("none of the offered mechanisms (%s) fits the credentials given", strings.Join(offered, " "))
}

// Client returns a SASL client for mech. It also names the credentials
// (session.SecretHolder), so that a server's echo of them is hidden.
func Client(mech string, c Credentials) (sasl.Client, error) {
	cl, err := client(mech, c)
	if err != nil {
		return nil, err
	}
	return &withSecrets{Client: cl, user: c.User, secrets: []string{c.Password, c.Token}}, nil
}

func client(mech string, c Credentials) (sasl.Client, error) {
	switch strings.ToUpper(mech) {
	case "PLAIN":
		return sasl.NewPlainClient("", c.User, c.Password), nil
	case "LOGIN":
		return newLoginClient(c.User, c.Password), nil
	case "CRAM-MD5":
		return &cramMD5{user: c.User, pass: c.Password}, nil
	case "SCRAM-SHA-256":
		return newScramSHA256(c)
	case "SCRAM-SHA-1":
		return newScramSHA1(c)
	case "OAUTHBEARER":
		return sasl.NewOAuthBearerClient(&sasl.OAuthBearerOptions{Username: c.User, Token: c.Token, Host: c.Host, Port: c.Port}), nil
	case "XOAUTH2":
		return &xoauth2{user: c.User, token: c.Token}, nil
	case "EXTERNAL":
		return sasl.NewExternalClient(""), nil
	}
	return nil, fmt.Errorf("unsupported mechanism %q (smtpx speaks %s)", mech, strings.Join(Mechanisms, ", "))
}

// withSecrets is a SASL client that can say what is secret about it.
type withSecrets struct {
	sasl.Client
	user    string
	secrets []string
}

// Secrets returns the password and the token (empty when not given).
func (w *withSecrets) Secrets() []string { return w.secrets }

// User returns the user name.
func (w *withSecrets) User() string { return w.user }

// Verified passes on the mechanism's proof that the server is the one
// that knows the password (session.Verifier); a mechanism without one
// has nothing to check.
func (w *withSecrets) Verified() error {
	if v, ok := w.Client.(interface{ Verified() error }); ok {
		return v.Verified()
	}
	return nil
}

// cramMD5 answers the server's challenge with HMAC-MD5 of the password.
type cramMD5 struct{ user, pass string }

func (c *cramMD5) Start() (string, []byte, error) { return "CRAM-MD5", nil, nil }

func (c *cramMD5) Next(challenge []byte) ([]byte, error) {
	m := hmac.New(md5.New, []byte(c.pass))
	m.Write(challenge)
	return []byte(c.user + " " + hex.EncodeToString(m.Sum(nil))), nil
}

// xoauth2 is Google's and Microsoft's pre-standard OAuth mechanism.
type xoauth2 struct{ user, token string }

func (x *xoauth2) Start() (string, []byte, error) {
	return "XOAUTH2", []byte("user=" + x.user + "\x01auth=Bearer " + x.token + "\x01\x01"), nil
}

// Next answers an error challenge (a JSON status) with an empty response,
// as the mechanism requires, so the server sends its final error reply.
func (x *xoauth2) Next([]byte) ([]byte, error) { return []byte{}, nil }
