package send

import (
	"errors"
	"io"
	"net/mail"
	"os"
	"strings"

	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/message"
)

// MessageFlags are the flags that say what message send builds, as
// given: MessageFlags.Source checks them and builds it.
type MessageFlags struct {
	Subject    string
	Headers    []string
	AddHeaders []string
	Body       string
	HTML       string
	Attach     []string
	AttachType []string
	AttachName []string
	Inline     []string
	Data       string
}

// fieldFlags maps message.InputError fields to the flags users typed.
var fieldFlags = map[string]string{
	"From": "--from", "To": "--to", "Cc": "--cc", "Subject": "--subject", "Headers": "--header",
	"AddHeaders": "--add-header", "Body": "--body", "HTML": "--html", "Attachments": "--attach", "Data": "--data",
}

// Source builds the message to send for the envelope h: the --data file
// as it is, or a message from the other flags. stdin is read for "-";
// userAgent names the sender program. Every error is a usage error naming
// the flag.
func (m *MessageFlags) Source(stdin io.Reader, h *Envelope, userAgent string) (message.Source, error) {
	if m.Data != "" {
		if m.Subject != "" || len(m.Headers) > 0 || len(m.AddHeaders) > 0 || m.Body != "" || m.HTML != "" || len(m.Attach) > 0 || len(m.Inline) > 0 {
			return nil, exitcode.Usagef("--data sends the message as it is: drop --subject, --header, --body, --html and --attach", "--data cannot be combined with message-building flags")
		}
		d, err := message.ReadData(m.Data, stdin)
		if err != nil {
			return nil, inputErr(err, "--data")
		}
		return d, nil
	}
	if m.Body == "-" && m.HTML == "-" {
		return nil, exitcode.Usagef("read one of them from a file: --html @FILE", "--body - and --html - cannot both read standard input")
	}
	if len(m.AttachType) > len(m.Attach) || len(m.AttachName) > len(m.Attach) {
		return nil, exitcode.Usagef("give one --attach before each --attach-type/--attach-name", "more --attach-type or --attach-name than --attach")
	}
	for _, n := range m.AttachName {
		if strings.ContainsAny(n, "\r\n\x00") {
			return nil, exitcode.Usagef("give --attach-name on one line", "--attach-name %q contains a line break", n)
		}
	}
	o := message.Options{
		From:       h.HeaderFrom,
		To:         h.HeaderTo,
		Cc:         h.HeaderCc,
		Subject:    m.Subject,
		Headers:    m.Headers,
		AddHeaders: m.AddHeaders,
		UserAgent:  userAgent,
	}
	if host, err := os.Hostname(); err == nil {
		o.Host = host
	}
	// A fixed Date or Message-ID given with --header also fixes the default
	// subject and the MIME boundaries, so --dump-mail and a send with the
	// same flags give identical bytes.
	for _, h := range m.Headers {
		name, value, _ := strings.Cut(h, ":")
		value = strings.TrimSpace(value)
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "message-id":
			if value != "" {
				o.MessageID = value
			}
		case "date":
			if t, err := mail.ParseDate(value); err == nil {
				o.Date = t
			}
		}
	}
	var err error
	if m.Body != "" {
		if o.Body, err = message.ReadArg(m.Body, stdin); err != nil {
			return nil, inputErr(err, "--body")
		}
	}
	if m.HTML != "" {
		if o.HTML, err = message.ReadArg(m.HTML, stdin); err != nil {
			o.Body.Close()
			return nil, inputErr(err, "--html")
		}
	}
	for i, a := range m.Attach {
		att := message.Attachment{Path: strings.TrimPrefix(a, "@")}
		if i < len(m.AttachType) {
			att.Type = m.AttachType[i]
		}
		if i < len(m.AttachName) {
			att.Name = m.AttachName[i]
		}
		o.Attachments = append(o.Attachments, att)
	}
	for _, a := range m.Inline {
		o.Attachments = append(o.Attachments, message.Attachment{Path: strings.TrimPrefix(a, "@"), Inline: true})
	}
	msg, err := message.Build(o)
	if err != nil {
		return nil, inputErr(err, "")
	}
	return msg, nil
}

// inputErr turns a message error into a usage error naming the flag.
func inputErr(err error, flag string) error {
	var ie *message.InputError
	if errors.As(err, &ie) {
		if f, ok := fieldFlags[ie.Field]; ok {
			flag = f
		}
		if flag != "" && ie.Value != "" {
			return exitcode.Usagef("check "+flag, "%s %s", flag, ie.Detail())
		} else if flag != "" {
			return exitcode.Usagef("check "+flag, "%s: %s", flag, ie.Detail())
		}
	}
	if flag == "" {
		return exitcode.Usagef("check the message flags", "%v", err)
	}
	return exitcode.Usagef("check "+flag, "%s: %v", flag, err)
}
