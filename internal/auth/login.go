package auth

import (
	"errors"

	"github.com/emersion/go-sasl"
)

// loginClient is the client side of LOGIN (draft-murchison-sasl-login):
// the user name answers the first challenge and the password the second,
// whatever the challenges say. Servers word them differently ("Username:",
// "User Name\x00", "Password\x00", empty, any case), and the draft tells
// clients to ignore the wording; go-sasl's client only accepts an exact
// "Password:" after sending the user name as an initial response.
//
// No initial response is sent: every LOGIN server prompts for the user
// name, while not every one accepts it up front.
type loginClient struct {
	user, pass string
	step       int
}

// newLoginClient returns a LOGIN client for user and pass.
func newLoginClient(user, pass string) sasl.Client {
	return &loginClient{user: user, pass: pass}
}

func (l *loginClient) Start() (string, []byte, error) { return "LOGIN", nil, nil }

// errThirdChallenge ends an exchange where the server asks for more than
// the two things LOGIN has to give.
var errThirdChallenge = errors.New("LOGIN server sent a third challenge; the mechanism has only a user name and a password to give")

func (l *loginClient) Next([]byte) ([]byte, error) {
	l.step++
	switch l.step {
	case 1:
		return []byte(l.user), nil
	case 2:
		return []byte(l.pass), nil
	}
	return nil, errThirdChallenge
}
