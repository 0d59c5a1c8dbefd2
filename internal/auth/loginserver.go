package auth

import "github.com/emersion/go-sasl"

// NewLoginServer returns the server side of the LOGIN mechanism, which
// go-sasl implements only as a client; many clients still prefer it. check
// decides the user name and password.
func NewLoginServer(check func(user, pass string) error) sasl.Server {
	return &loginServer{check: check}
}

type loginServer struct {
	check func(user, pass string) error
	user  string
	state int
}

func (l *loginServer) Next(resp []byte) ([]byte, bool, error) {
	switch l.state {
	case 0:
		if resp != nil {
			// An initial response carries the user name.
			l.user, l.state = string(resp), 2
			return []byte("Password:"), false, nil
		}
		l.state = 1
		return []byte("Username:"), false, nil
	case 1:
		l.user, l.state = string(resp), 2
		return []byte("Password:"), false, nil
	}
	return nil, true, l.check(l.user, string(resp))
}
