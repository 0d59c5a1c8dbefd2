package cmd

import (
	"errors"
	"fmt"
	"strings"

	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/replycode"
	"github.com/smtpx/smtpx/internal/session"
	"github.com/smtpx/smtpx/internal/term"
	"github.com/smtpx/smtpx/internal/transcript"
)

// reportError prints err as one "smtpx: error:" line plus a hint, and
// returns the exit status for it.
func reportError(env *Env, err error) int {
	if err == nil {
		return exitcode.OK
	}
	var xe *exitcode.Error
	var se *session.Error
	if !errors.As(err, &xe) && !errors.As(err, &se) {
		// Anything untyped comes from cobra's own argument handling.
		err = exitcode.Usagef("run 'smtpx --help' for usage", "%v", err)
	}
	code := exitcode.For(err)
	if errors.As(err, &xe) && xe.Quiet {
		return code
	}
	hint := Hint(err)
	msg := transcript.EscapeMessage(transcript.OneLine(err.Error()))
	if env.jsonWanted && !env.out.wrote {
		// A script piping --json into jq gets an object even when the run
		// stopped before its verb could write one.
		_ = env.printJSON(struct {
			Exit  int    `json:"exit"`
			Error string `json:"error"`
			Hint  string `json:"hint,omitempty"`
		}{code, transcript.OneLine(err.Error()), hint})
	}
	p := term.NewPalette(env.ColorErr())
	fmt.Fprintf(env.IO.Err, "%s %s\n", p.Fail.Sprint("smtpx: error:"), msg)
	if hint != "" {
		fmt.Fprintf(env.IO.Err, "%s %s\n", p.Temp.Sprint("smtpx: hint:"), hint)
	}
	return code
}

// Hint suggests how to fix err.
func Hint(err error) string {
	var xe *exitcode.Error
	if errors.As(err, &xe) && xe.Hint != "" {
		return xe.Hint
	}
	var se *session.Error
	if !errors.As(err, &se) {
		return ""
	}
	switch {
	case errors.Is(err, session.ErrInterrupted):
		return "stopped by Ctrl-C or SIGTERM before it finished; run it again to complete it"
	case errors.Is(err, session.ErrNoHost):
		return "the server's name did not resolve: check its spelling and your DNS"
	case errors.Is(err, session.ErrRefused), errors.Is(err, session.ErrConnTimeout):
		return "check the host and port and that a server is listening (--connect-timeout to wait longer)"
	case errors.Is(err, session.ErrTimeout):
		return "the server went silent; raise --timeout if it is just slow"
	case errors.Is(err, session.ErrUntrustedCA):
		return "trust its CA with --ca-file FILE, or skip verification with --insecure"
	case errors.Is(err, session.ErrNameMismatch):
		return "connect by the name on the certificate, or set it with --tls-sni; --insecure skips the check"
	case errors.Is(err, session.ErrCertExpired):
		return "the server's certificate must be renewed; --insecure skips the check"
	case errors.Is(err, session.ErrInsecureAuth):
		return "use --tls, or --allow-insecure-auth if you really mean it"
	case errors.Is(err, session.ErrInjection):
		return "the server or something in the path is injecting commands; do not trust this connection"
	case errors.Is(err, session.ErrUnproven):
		return "a server that knew the password would have proved it: do not trust this one (check --server), or choose another mechanism with --auth"
	}
	switch se.Kind {
	case session.KindNetwork:
		if strings.HasPrefix(se.Op, "connect") {
			return "check the host and port and that a server is listening (--connect-timeout to wait longer)"
		}
		return "the connection broke; run with -v to see where"
	case session.KindTLS:
		return "use -v to see the handshake; --insecure skips certificate checks"
	case session.KindProtocol:
		return "the server broke RFC 5321; run with -v to see the raw transcript"
	case session.KindReply:
		if se.Reply != nil {
			see := "see 'smtpx codes " + se.Reply.Codes() + "'"
			// A 4xx with a policy code (X.7.x) is the reply greylisting
			// gives: the code tables' words for X.7.x ("not authorised,
			// message refused") fit a 5xx, not a wait-and-retry.
			if ec, ok := session.ParseEnhanced(se.Reply.Enhanced); ok && se.Reply.Class() == 4 && ec[1] == 7 {
				return "a temporary refusal by policy, such as greylisting: send the same message again in a few minutes (" + see + ")"
			}
			h := replycode.Hint(se.Reply.Code, se.Reply.Enhanced, se.Reply.Text())
			if h == "" && se.Reply.Class() == 4 {
				h = "a transient failure: retry later"
			}
			if h == "" {
				return see
			}
			return strings.TrimSuffix(h, ".") + " (" + see + ")"
		}
	}
	return ""
}
