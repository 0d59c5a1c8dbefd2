package session

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/emersion/go-sasl"
)

// maxAuthRounds bounds a server that keeps answering 334.
const maxAuthRounds = 10

// Verifier is implemented by SASL clients that authenticate the server
// too: SCRAM's server-final message proves the server knows the password
// (mutual authentication, RFC 5802 §5). Auth asks before it trusts a 235,
// so a server that skips its proof cannot pass for the real one.
type Verifier interface {
	// Verified returns nil once the server has proved itself.
	Verified() error
}

// Auth runs an AUTH exchange (RFC 4954) with a go-sasl client. It refuses to
// send credentials over an unencrypted connection to a non-loopback peer
// unless Options.AllowInsecureAuth is set. Every client payload is reported
// as a secret event. From then on, whatever the server says is reported
// and returned with the credentials hidden (see SecretHolder), so a server
// that echoes them cannot put them in a transcript, JSON or an error.
func (s *Session) Auth(c sasl.Client) (*Reply, error) {
	if !s.inTLS && !s.IsLoopback() && !s.opts.AllowInsecureAuth {
		return nil, &Error{Kind: KindTLS, Op: "AUTH", Msg: "refusing to send credentials over an unencrypted connection", Cause: ErrInsecureAuth}
	}
	user, known := "", false
	if h, ok := c.(SecretHolder); ok {
		for _, v := range h.Secrets() {
			s.red.addSecret(v)
		}
		user, known = h.User(), true
	}
	// A payload is hidden before it is written: the server's answer to it
	// may repeat it.
	sent := func(p []byte) { s.red.addPayload(p, !known || string(p) != user) }
	mech, ir, err := c.Start()
	if err != nil {
		return nil, &Error{Kind: KindUsage, Op: "AUTH", Msg: "cannot start " + mech, Err: err}
	}
	sent(ir)
	line := "AUTH " + mech
	if ir != nil {
		enc := "="
		if len(ir) > 0 {
			enc = base64.StdEncoding.EncodeToString(ir)
		}
		line += " " + enc
		err = s.writeSecret(line)
	} else {
		err = s.Write(line)
	}
	if err != nil {
		return nil, err
	}
	for round := 0; ; round++ {
		r, err := s.ReadReply("AUTH")
		if err != nil {
			return nil, err
		}
		switch {
		case r.Code == 235:
			if v, ok := c.(Verifier); ok {
				if err := v.Verified(); err != nil {
					return r, &Error{Kind: KindProtocol, Op: "AUTH", Msg: "235 too early: " + err.Error(), Cause: ErrUnproven}
				}
			}
			return r, nil
		case r.Code == 334:
			if round >= maxAuthRounds {
				_ = s.Write("*")
				_, _ = s.ReadReply("AUTH")
				return r, &Error{Kind: KindProtocol, Op: "AUTH", Msg: fmt.Sprintf("server sent more than %d challenges", maxAuthRounds)}
			}
			chal, derr := base64.StdEncoding.DecodeString(strings.TrimSpace(strings.Join(r.received(), "")))
			if derr != nil {
				_ = s.Write("*")
				_, _ = s.ReadReply("AUTH")
				return r, &Error{Kind: KindProtocol, Op: "AUTH", Msg: "challenge is not valid base64"}
			}
			resp, nerr := c.Next(chal)
			if nerr != nil {
				_ = s.Write("*")
				_, _ = s.ReadReply("AUTH")
				// The mechanism's error may quote the server (SCRAM's
				// server-final "e=" message): hidden like a reply.
				return r, &Error{Kind: KindProtocol, Op: "AUTH", Msg: "cannot answer the challenge: " + s.red.text(nerr.Error(), false)}
			}
			sent(resp)
			if err := s.writeSecret(base64.StdEncoding.EncodeToString(resp)); err != nil {
				return nil, err
			}
		case r.OK():
			return r, &Error{Kind: KindProtocol, Op: "AUTH", Msg: fmt.Sprintf("unexpected reply %d to AUTH", r.Code), Cause: ErrOutOfSeq}
		default:
			return r, ReplyError("AUTH", r)
		}
	}
}
