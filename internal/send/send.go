// Package send delivers a message: one SMTP (or LMTP) transaction per
// destination, with the extensions a server offers used where they help
// and refused locally where they would fail. It implements the client side
// of RFC 5321 (§3.3 mail transactions, §5.1 MX routing), RFC 2920
// (PIPELINING: MAIL, every RCPT and DATA in one flight, QUIT with the final
// dot), RFC 3030 (CHUNKING: BDAT LAST), RFC 1870 (SIZE), RFC 6152
// (8BITMIME), RFC 6531 (SMTPUTF8), RFC 3461 (DSN), RFC 8689 (REQUIRETLS),
// RFC 4954 (AUTH), RFC 3207 (STARTTLS) and RFC 2033 (LMTP).
package send

import (
	"io"
	"regexp"
	"strings"
	"sync"

	"github.com/smtpx/smtpx/internal/auth"
	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/session"
	"github.com/smtpx/smtpx/internal/target"
	smtp "github.com/smtpx/smtpx/internal/third_party/go-smtp"
)

// Stop points for --quit-after, in dialogue order.
var StopPoints = []string{"connect", "banner", "ehlo", "tls", "xclient", "auth", "mail", "rcpt", "data", "dot"}

// Source is message content ready to send: CRLF line ends, not dot-stuffed.
// Open may be called more than once and yields the same bytes each time.
type Source interface {
	Size() int64
	EightBit() bool
	UTF8Headers() bool
	Open() (io.ReadCloser, error)
}

// Rcpt is one envelope recipient.
type Rcpt struct {
	Mailbox string // as it goes into RCPT TO, without brackets
	UTF8    bool   // the local part needs SMTPUTF8
	Domain  string // ASCII domain, for routing
}

// DSN holds the RFC 3461 options.
type DSN struct {
	Notify string // NEVER or a comma list of SUCCESS, FAILURE, DELAY
	Ret    string // FULL or HDRS
	EnvID  string
	ORcpt  bool // add ORCPT=rfc822;addr to each RCPT
}

// AuthOptions say how to authenticate; Mech "" picks the strongest offered.
type AuthOptions struct {
	Mech  string
	Creds auth.Credentials
}

// Options configure a send.
type Options struct {
	Session    session.Options // timeouts, TLS config, observer; Address set per destination
	Helo       string
	TLS        target.TLSMode
	Auth       *AuthOptions
	From       string // reverse-path mailbox; "" is the null sender
	FromUTF8   bool
	DSN        DSN
	RequireTLS bool
	MailParams []string // raw extra MAIL parameters
	RcptParams []string // raw extra RCPT parameters
	Source     Source
	QuitAfter  string
	Pipeline   bool // use PIPELINING when offered
	Chunking   bool // use CHUNKING when offered
	// AllowPartial makes a send that reached at least one recipient succeed.
	AllowPartial bool
	// Force8Bit sends 8-bit content to a server that does not offer
	// 8BITMIME, instead of stopping before MAIL (for testing servers).
	Force8Bit bool
	// Drop ends the dialogue at QuitAfter without QUIT.
	Drop Drop
	// XClient, when set, is sent after STARTTLS and before AUTH, and EHLO
	// said again (Postfix XCLIENT); XForward before each MAIL (Postfix
	// XFORWARD). Attributes the server does not list are refused here
	// unless the matching Optional is set, which leaves the command out.
	XClient, XForward                 []Attr
	XClientOptional, XForwardOptional bool
	// PRDR asks for a reply per recipient after the end of data when the
	// server offers PRDR (MAIL ... PRDR); the message then goes by DATA.
	PRDR bool
}

// RcptResult is one recipient's fate.
type RcptResult struct {
	Mailbox  string
	Reply    *session.Reply // reply to RCPT TO
	Data     *session.Reply // LMTP: this recipient's reply after the data
	Accepted bool           // RCPT accepted and the message accepted for it
}

// Transaction is the dialogue with one server.
type Transaction struct {
	Server    string // address dialled
	MX        string // MX host name when routed by DNS
	Rcpts     []RcptResult
	Mail      *session.Reply
	Data      *session.Reply // reply to DATA (354) or BDAT
	End       *session.Reply // reply to the end of data
	QueueID   string
	Mech      string // AUTH mechanism used
	Session   *session.Session
	Final     *session.Reply
	Err       error
	Stopped   string         // the --quit-after (or --drop-after) point reached, if any
	Dropped   bool           // the connection was closed there without QUIT
	XClient   *session.Reply // reply to XCLIENT
	PRDR      bool           // MAIL asked for per-recipient replies
	Size      int64
	Pipelined bool
	Chunked   bool
	Timings   session.Timings
	// Failures are the failing replies and errors in wire order; the first
	// decides the exit status.
	Failures []error

	// replies, when set (by a Flow with ReuseReplies), are the Reply
	// values the transaction reads into, in order.
	replies *replySlots
	// skipQueueID: see Flow.SkipQueueID.
	skipQueueID bool
}

// replySlots are Reply values read into again by each transaction of a
// Flow: one per reply of a transaction, so as many as its longest
// (RSET, MAIL, a reply per recipient, DATA, the end of data, and the
// per-recipient replies of LMTP or PRDR), a number the sender chooses.
type replySlots struct {
	list []*session.Reply
	n    int // used by the current transaction
}

// next returns the Reply for the transaction's next reply.
func (p *replySlots) next() *session.Reply {
	if p.n == len(p.list) {
		p.list = append(p.list, &session.Reply{})
	}
	p.n++
	return p.list[p.n-1]
}

// queueIDPatterns find the id a server gives the accepted message.
// They are compiled on first use, not at every start-up.
var queueIDPatterns = sync.OnceValue(func() []*regexp.Regexp {
	return []*regexp.Regexp{
		regexp.MustCompile(`(?i)queued as ([A-Za-z0-9._@<>-]+)`),
		regexp.MustCompile(`(?i)\bid=([A-Za-z0-9._-]+)`),
		regexp.MustCompile(`(?i)\bOK\s+\d+\s+(\S+)\s+-\s+gsmtp`),
		regexp.MustCompile(`(?i)<([^<>\s]+@[^<>\s]+)>\s+\[InternalId=`),
	}
})

// QueueID extracts the queue id from the text of a 250 reply, "" if none.
func QueueID(text string) string {
	for _, re := range queueIDPatterns() {
		if m := re.FindStringSubmatch(strings.TrimSpace(text)); m != nil {
			return strings.Trim(m[1], "<>")
		}
	}
	return ""
}

// stoppedAt reports whether the plan ends at point p.
func (o *Options) stoppedAt(p string) bool { return o.QuitAfter == p }

// mailCommand builds MAIL FROM with the parameters the server supports,
// for a transaction to rcpts. It refuses, before anything is sent, what
// the server cannot take: a UTF-8 envelope without SMTPUTF8, 8-bit content
// without 8BITMIME.
func (o *Options) mailCommand(s *session.Session, size int64, rcpts []Rcpt, notes *[]string) (string, error) {
	ext := s.Ext
	mo := &smtp.MailOptions{RequireTLS: o.RequireTLS}
	if _, ok := ext.Size(); ok {
		mo.Size = size
	}
	// RFC 6531 §3.4: an envelope address with a UTF-8 local part can only
	// go to a server that offers SMTPUTF8; UTF-8 in the headers alone is
	// declared when the server offers it, and sent as it is otherwise.
	switch needs := o.needsUTF8(rcpts); {
	case needs && !ext.Has("SMTPUTF8"):
		return "", &exitcode.Error{Code: exitcode.Permanent,
			Msg:  "an address has a non-ASCII local part but the server does not offer SMTPUTF8 (553 5.6.7)",
			Hint: "use an ASCII local part, or a server that offers SMTPUTF8"}
	case needs, o.Source != nil && o.Source.UTF8Headers() && ext.Has("SMTPUTF8"):
		mo.UTF8 = true
	}
	// RFC 6152 §3: 8-bit content goes only to a server that offers
	// 8BITMIME, or SMTPUTF8, whose servers must take 8-bit content too
	// (RFC 6531 §3.1). A message smtpx builds is 7-bit (quoted-printable
	// or base64) but for raw UTF-8 in its headers; --data goes as given.
	if o.Source != nil && o.Source.EightBit() {
		switch {
		case ext.Has("8BITMIME"):
			mo.Body = smtp.Body8BitMIME
		case mo.UTF8:
		case o.Force8Bit:
			*notes = append(*notes, "the message has 8-bit content and the server does not offer 8BITMIME: sent anyway (--force-8bit)")
		default:
			return "", &exitcode.Error{Code: exitcode.Permanent,
				Msg:  "the message has 8-bit content but the server does not offer 8BITMIME (RFC 6152)",
				Hint: "encode the body as quoted-printable or base64 (messages built from --body are), or add --force-8bit to send it anyway"}
		}
	}
	if ext.Has("DSN") {
		mo.Return, mo.EnvelopeID = smtp.DSNReturn(o.DSN.Ret), o.DSN.EnvID
	} else if o.DSN != (DSN{}) {
		*notes = append(*notes, "the server does not offer DSN; --notify, --ret, --envid and --orcpt were left out")
	}
	x := session.MailExtra{PRDR: o.usePRDR(ext)}
	if o.PRDR && !x.PRDR {
		*notes = append(*notes, "the server does not offer PRDR: one reply after the data stands for every recipient")
	}
	return withParams(session.MailCmdWith(o.From, mo, x), o.MailParams), nil
}

// withParams appends the raw --mail-param or --rcpt-param values.
func withParams(cmd string, params []string) string {
	for _, p := range params {
		cmd += " " + p
	}
	return cmd
}

// needsUTF8 reports whether this transaction's envelope (the sender and
// rcpts, the recipients this server gets) has a UTF-8 local part.
func (o *Options) needsUTF8(rcpts []Rcpt) bool {
	if o.FromUTF8 {
		return true
	}
	for _, r := range rcpts {
		if r.UTF8 {
			return true
		}
	}
	return false
}

func (o *Options) rcptCommand(s *session.Session, r Rcpt) string {
	var ro *smtp.RcptOptions
	if s.Ext.Has("DSN") && (o.DSN.Notify != "" || o.DSN.ORcpt) {
		ro = &smtp.RcptOptions{}
		for _, n := range strings.Split(o.DSN.Notify, ",") {
			if n != "" {
				ro.Notify = append(ro.Notify, smtp.DSNNotify(n))
			}
		}
		if o.DSN.ORcpt {
			ro.OriginalRecipientType, ro.OriginalRecipient = smtp.DSNAddressTypeRFC822, r.Mailbox
			if r.UTF8 {
				ro.OriginalRecipientType = smtp.DSNAddressTypeUTF8
			}
		}
	}
	return withParams(session.RcptCmd(r.Mailbox, ro), o.RcptParams)
}
