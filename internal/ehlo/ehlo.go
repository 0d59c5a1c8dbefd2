// Package ehlo runs the `smtpx ehlo` dialogue: connect, read the banner, say
// EHLO (HELO on 500/502), optionally STARTTLS and EHLO again, then QUIT. It
// also describes extension keywords for people (RFC 5321 §4.1.1.1, RFC 1870
// SIZE, RFC 2920, RFC 3030, RFC 3207, RFC 3461, RFC 4954, RFC 6152,
// RFC 6531, RFC 8689).
package ehlo

import (
	"context"
	"crypto/tls"
	"fmt"

	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/session"
	"github.com/smtpx/smtpx/internal/transcript"
)

// Stop points for --quit-after.
const (
	StopBanner = "banner"
	StopEHLO   = "ehlo"
	StopTLS    = "tls"
)

// StopPoints lists the --quit-after values in dialogue order.
var StopPoints = []string{StopBanner, StopEHLO, StopTLS}

// Options configure one run.
type Options struct {
	Session   session.Options // address, timeouts, TLS config, observer
	Helo      string          // "" means this host's name (session.HeloName)
	StartTLS  bool            // --tls: STARTTLS is required
	QuitAfter string          // "" runs to the end
}

// Result is what happened.
type Result struct {
	Target      string
	Banner      *session.Reply
	Ext         session.Extensions // before TLS (or the only list)
	ExtTLS      session.Extensions // after STARTTLS; nil without it
	UsedHELO    bool
	Helo        string
	TLS         *tls.ConnectionState
	Insecure    bool
	ImplicitTLS bool
	Final       *session.Reply
	Timings     session.Timings
	Err         error
	Exit        int
}

// Run performs the dialogue. It always returns a Result; Result.Err is the
// failure that stopped it, and Result.Exit the status from DESIGN §4.
func Run(ctx context.Context, o Options) *Result {
	res := &Result{Target: o.Session.Address, ImplicitTLS: o.Session.ImplicitTLS}
	if o.Session.TLSConfig != nil {
		res.Insecure = o.Session.TLSConfig.InsecureSkipVerify
	}
	res.Err = run(ctx, o, res)
	if res.Err != nil {
		res.Exit = exitcode.For(res.Err)
	} else if res.Final != nil {
		res.Exit = exitcode.FromReply(res.Final.Code)
	}
	return res
}

func run(ctx context.Context, o Options, res *Result) error {
	s, err := session.Dial(ctx, o.Session)
	if err != nil {
		return err
	}
	defer func() { res.Timings = s.Timings }()
	if s.TLS != nil {
		res.TLS = s.TLS
	}
	banner, err := s.ReadBanner()
	res.Banner = banner
	if banner != nil {
		res.Final = banner
	}
	if err != nil {
		s.Finish(err)
		return err
	}
	if o.QuitAfter == StopBanner {
		s.Quit()
		return nil
	}
	res.Helo = o.Helo
	if res.Helo == "" {
		res.Helo = s.HeloName()
	}
	r, err := s.Hello(res.Helo)
	if r != nil {
		res.Final = r
	}
	res.UsedHELO = s.UsedHELO
	res.Ext = s.Ext
	if err != nil {
		s.Finish(err)
		return err
	}
	if o.QuitAfter == StopEHLO || (!o.StartTLS && o.QuitAfter == "") {
		s.Quit()
		return nil
	}
	if o.QuitAfter == StopTLS && !o.StartTLS && s.TLS != nil {
		s.Quit()
		return nil
	}
	if !s.Ext.Has("STARTTLS") {
		s.Quit()
		if s.TLS != nil {
			return &exitcode.Error{Code: exitcode.TLS, Msg: "STARTTLS is not offered inside implicit TLS", Hint: "drop --tls when using --tls-on-connect"}
		}
		return &exitcode.Error{Code: exitcode.TLS, Msg: "the server does not offer STARTTLS", Hint: "drop --tls to see the plaintext extensions, or try --tls-on-connect on port 465"}
	}
	r, err = s.StartTLS()
	if r != nil {
		res.Final = r
	}
	if err != nil {
		s.Finish(err)
		return err
	}
	res.TLS = s.TLS
	if o.QuitAfter == StopTLS {
		s.Quit()
		return nil
	}
	r, err = s.Hello(res.Helo)
	if r != nil {
		res.Final = r
	}
	res.ExtTLS = s.Ext
	if err != nil {
		s.Finish(err)
		return err
	}
	s.Quit()
	return nil
}

// JSON is the --json form of a Result.
type JSON struct {
	Target        string              `json:"target"`
	Helo          string              `json:"helo"`
	HeloFallback  bool                `json:"helo_fallback"`
	Banner        *transcript.Reply   `json:"banner"`
	Extensions    []session.Extension `json:"extensions"`
	ExtensionsTLS []session.Extension `json:"extensions_tls"`
	TLS           *transcript.TLS     `json:"tls"`
	transcript.Final
	TimingsMS map[string]float64     `json:"timings_ms"`
	Events    []transcript.JSONEvent `json:"events"`
}

// ToJSON builds the JSON form; events come from a transcript.Recorder.
func (r *Result) ToJSON(events []session.Event, hint string) JSON {
	j := JSON{
		Target:       r.Target,
		Helo:         r.Helo,
		HeloFallback: r.UsedHELO,
		Banner:       transcript.FromReply(r.Banner),
		Extensions:   transcript.Keywords(r.Ext),
		TLS:          transcript.FromTLS(r.TLS, !r.Insecure),
		TimingsMS:    transcript.Timings(r.Timings),
		Events:       transcript.ToJSON(events, false),
	}
	if r.ExtTLS != nil {
		j.ExtensionsTLS = transcript.Keywords(r.ExtTLS)
	}
	j.SetReply(r.Final)
	j.Exit = r.Exit
	if r.Err != nil {
		j.Error = r.Err.Error()
		j.Hint = hint
	}
	return j
}

// Diff lists keywords added and removed between two extension lists.
func Diff(before, after session.Extensions) (added, removed []string) {
	for _, x := range after {
		if y, ok := before.Get(x.Keyword); !ok || fmt.Sprint(y.Params) != fmt.Sprint(x.Params) {
			added = append(added, Describe(x))
		}
	}
	for _, x := range before {
		if y, ok := after.Get(x.Keyword); !ok || fmt.Sprint(y.Params) != fmt.Sprint(x.Params) {
			removed = append(removed, Describe(x))
		}
	}
	return added, removed
}
