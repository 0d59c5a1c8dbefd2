package transcript

// The JSON building blocks every verb's result shares (DESIGN §5): the
// final reply, the exit status, timings and TLS facts, beside the events.
// Field names are snake_case and stable.

import (
	"crypto/tls"
	"crypto/x509"
	"time"

	"github.com/smtpx/smtpx/internal/session"
)

// Reply is an SMTP reply in JSON.
type Reply struct {
	Code     int    `json:"code"`
	Enhanced string `json:"enhanced"`
	Text     string `json:"text"`
}

// FromReply converts a session reply; nil gives nil.
func FromReply(r *session.Reply) *Reply {
	if r == nil {
		return nil
	}
	return &Reply{Code: r.Code, Enhanced: r.Enhanced, Text: r.Text()}
}

// Final is embedded in every verb's result object.
type Final struct {
	Code     int    `json:"code"`     // final reply code, 0 when there was none
	Enhanced string `json:"enhanced"` // its enhanced status code, "" when none
	Text     string `json:"text"`     // its text
	Exit     int    `json:"exit"`     // the exit status smtpx returns
	Error    string `json:"error,omitempty"`
	Hint     string `json:"hint,omitempty"`
}

// SetReply fills the final reply fields.
func (f *Final) SetReply(r *session.Reply) {
	if r == nil {
		return
	}
	f.Code, f.Enhanced, f.Text = r.Code, r.Enhanced, r.Text()
}

// TLS describes an established TLS connection.
type TLS struct {
	Version     string    `json:"version"`
	Cipher      string    `json:"cipher"`
	Group       string    `json:"group,omitempty"`
	Resumed     bool      `json:"resumed"`
	ServerName  string    `json:"server_name,omitempty"`
	PeerSubject string    `json:"peer_subject,omitempty"`
	PeerIssuer  string    `json:"peer_issuer,omitempty"`
	PeerSANs    []string  `json:"peer_sans,omitempty"`
	NotAfter    time.Time `json:"not_after,omitzero"`
	DaysLeft    int       `json:"days_left"`
	Verified    bool      `json:"verified"`
}

// FromTLS summarises a connection state; verified is false with --insecure.
func FromTLS(st *tls.ConnectionState, verified bool) *TLS {
	if st == nil {
		return nil
	}
	t := &TLS{
		Version:    tls.VersionName(st.Version),
		Cipher:     tls.CipherSuiteName(st.CipherSuite),
		Resumed:    st.DidResume,
		ServerName: st.ServerName,
		Verified:   verified,
	}
	if st.CurveID != 0 {
		t.Group = st.CurveID.String()
	}
	if len(st.PeerCertificates) > 0 {
		c := st.PeerCertificates[0]
		t.PeerSubject = c.Subject.String()
		t.PeerIssuer = c.Issuer.String()
		t.PeerSANs = append(append([]string{}, c.DNSNames...), ipStrings(c)...)
		t.NotAfter = c.NotAfter.UTC()
		t.DaysLeft = int(time.Until(c.NotAfter).Hours() / 24)
	}
	return t
}

func ipStrings(c *x509.Certificate) []string {
	var out []string
	for _, ip := range c.IPAddresses {
		out = append(out, ip.String())
	}
	return out
}

// Timings converts session phase durations to milliseconds, omitting
// phases that did not happen.
func Timings(t session.Timings) map[string]float64 {
	m := map[string]float64{}
	add := func(k string, d time.Duration) {
		if d > 0 {
			m[k] = MS(d)
		}
	}
	add("connect", t.Connect)
	add("banner", t.Banner)
	add("ehlo", t.Hello)
	add("starttls", t.StartTLS)
	add("handshake", t.Handshake)
	add("ehlo_tls", t.Hello2)
	add("total", t.Total)
	return m
}

// Keywords renders an extension list, never nil so JSON shows [].
func Keywords(e session.Extensions) []session.Extension {
	out := make([]session.Extension, 0, len(e))
	for _, x := range e {
		if x.Params == nil {
			x.Params = []string{}
		}
		out = append(out, x)
	}
	return out
}
