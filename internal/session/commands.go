package session

import (
	"strconv"
	"strings"

	smtp "github.com/smtpx/smtpx/internal/third_party/go-smtp"
)

// MailCmd is the one place a MAIL FROM command is built. from is the
// reverse path without brackets ("" is the null sender); o, when not nil,
// adds the parameters it asks for, in this order: SIZE (RFC 1870), BODY
// (RFC 6152), SMTPUTF8 (RFC 6531), RET and ENVID (RFC 3461), REQUIRETLS
// (RFC 8689), AUTH (RFC 4954). The caller decides which the server
// offers; extra raw parameters are appended by the caller.
func MailCmd(from string, o *smtp.MailOptions) string {
	return MailCmdWith(from, o, MailExtra{})
}

// MailExtra holds the MAIL FROM parameters go-smtp's MailOptions has no
// field for.
type MailExtra struct {
	// PRDR asks for per-recipient replies after the end of data
	// (draft-hall-prdr, Exim's PRDR extension).
	PRDR bool
}

// MailCmdWith is MailCmd with the parameters of x after o's.
func MailCmdWith(from string, o *smtp.MailOptions, x MailExtra) string {
	cmd := mailCmd(from, o)
	if x.PRDR {
		cmd += " PRDR"
	}
	return cmd
}

func mailCmd(from string, o *smtp.MailOptions) string {
	var b strings.Builder
	b.WriteString("MAIL FROM:<")
	b.WriteString(from)
	b.WriteByte('>')
	if o == nil {
		return b.String()
	}
	if o.Size > 0 {
		b.WriteString(" SIZE=")
		b.WriteString(strconv.FormatInt(o.Size, 10))
	}
	if o.Body != "" {
		b.WriteString(" BODY=")
		b.WriteString(string(o.Body))
	}
	if o.UTF8 {
		b.WriteString(" SMTPUTF8")
	}
	if o.Return != "" {
		b.WriteString(" RET=")
		b.WriteString(string(o.Return))
	}
	if o.EnvelopeID != "" {
		b.WriteString(" ENVID=")
		b.WriteString(XText(o.EnvelopeID))
	}
	if o.RequireTLS {
		b.WriteString(" REQUIRETLS")
	}
	if o.Auth != nil {
		b.WriteString(" AUTH=<")
		b.WriteString(XText(*o.Auth))
		b.WriteByte('>')
	}
	return b.String()
}

// RcptCmd is the one place a RCPT TO command is built: to without
// brackets, and from o (nil for none) NOTIFY and ORCPT (RFC 3461). The
// ORCPT address type is written in lower case, as most clients do.
func RcptCmd(to string, o *smtp.RcptOptions) string {
	var b strings.Builder
	b.WriteString("RCPT TO:<")
	b.WriteString(to)
	b.WriteByte('>')
	if o == nil {
		return b.String()
	}
	if len(o.Notify) > 0 {
		b.WriteString(" NOTIFY=")
		for i, n := range o.Notify {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(string(n))
		}
	}
	if o.OriginalRecipient != "" {
		typ := strings.ToLower(string(o.OriginalRecipientType))
		if typ == "" {
			typ = "rfc822"
		}
		b.WriteString(" ORCPT=")
		b.WriteString(typ)
		b.WriteByte(';')
		b.WriteString(XText(o.OriginalRecipient))
	}
	return b.String()
}

// XText encodes a parameter value (RFC 3461 §4): "+", "=" and bytes
// outside printable ASCII become +XX.
func XText(s string) string {
	var b strings.Builder
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '!' || c > '~' || c == '+' || c == '=' {
			b.WriteByte('+')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}
