package cmd

import (
	"errors"
	"net/mail"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/message"
	"github.com/smtpx/smtpx/internal/send"
)

// messageFlags are the flags that say what message send builds.
type messageFlags struct {
	subject    string
	headers    []string
	addHeaders []string
	body       string
	html       string
	attach     []string
	attachType []string
	attachName []string
	inline     []string
	data       string
}

// fieldFlags maps message.InputError fields to the flags users typed.
var fieldFlags = map[string]string{
	"From": "--from", "To": "--to", "Cc": "--cc", "Subject": "--subject", "Headers": "--header",
	"AddHeaders": "--add-header", "Body": "--body", "HTML": "--html", "Attachments": "--attach", "Data": "--data",
}

func (m *messageFlags) register(c *cobra.Command) {
	fs := c.Flags()
	fs.StringVar(&m.subject, "subject", "", "Subject (default: smtpx test DATE)")
	stringListVar(fs, &m.headers, "header", "", nil, "`\"Name: value\"` replacing a default header (\"Name:\" removes it; repeatable)")
	stringListVar(fs, &m.addHeaders, "add-header", "", nil, "`\"Name: value\"` always appended (repeatable)")
	fs.StringVar(&m.body, "body", "", "text body: TEXT, @FILE or - for stdin")
	fs.StringVar(&m.html, "html", "", "HTML alternative: TEXT, @FILE or -")
	stringListVar(fs, &m.attach, "attach", "", nil, "attach `@FILE` (repeatable)")
	stringListVar(fs, &m.attachType, "attach-type", "", nil, "media `TYPE` for the attachment in the same position (default: detected)")
	stringListVar(fs, &m.attachName, "attach-name", "", nil, "file `NAME` for the attachment in the same position (default: the file's)")
	stringListVar(fs, &m.inline, "attach-inline", "", nil, "inline image `@FILE`, referenced from the HTML as cid:NAME (repeatable)")
	fs.StringVar(&m.data, "data", "", "send a complete message from `@FILE` or - (stdin) as it is")
	for _, name := range []string{"attach", "attach-inline"} {
		_ = c.MarkFlagFilename(name)
	}
}

// source builds the message to send.
func (m *messageFlags) source(env *Env, h *send.Envelope) (message.Source, error) {
	if m.data != "" {
		if m.subject != "" || len(m.headers) > 0 || len(m.addHeaders) > 0 || m.body != "" || m.html != "" || len(m.attach) > 0 || len(m.inline) > 0 {
			return nil, exitcode.Usagef("--data sends the message as it is: drop --subject, --header, --body, --html and --attach", "--data cannot be combined with message-building flags")
		}
		d, err := message.ReadData(m.data, env.IO.In)
		if err != nil {
			return nil, inputErr(err, "--data")
		}
		return d, nil
	}
	if m.body == "-" && m.html == "-" {
		return nil, exitcode.Usagef("read one of them from a file: --html @FILE", "--body - and --html - cannot both read standard input")
	}
	if len(m.attachType) > len(m.attach) || len(m.attachName) > len(m.attach) {
		return nil, exitcode.Usagef("give one --attach before each --attach-type/--attach-name", "more --attach-type or --attach-name than --attach")
	}
	for _, n := range m.attachName {
		if strings.ContainsAny(n, "\r\n\x00") {
			return nil, exitcode.Usagef("give --attach-name on one line", "--attach-name %q contains a line break", n)
		}
	}
	o := message.Options{
		From:       h.HeaderFrom,
		To:         h.HeaderTo,
		Cc:         h.HeaderCc,
		Subject:    m.subject,
		Headers:    m.headers,
		AddHeaders: m.addHeaders,
		UserAgent:  "smtpx/" + env.Build.Version,
	}
	if host, err := os.Hostname(); err == nil {
		o.Host = host
	}
	// A fixed Date or Message-ID given with --header also fixes the default
	// subject and the MIME boundaries, so --dump-mail and a send with the
	// same flags give identical bytes.
	for _, h := range m.headers {
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
	if m.body != "" {
		if o.Body, err = message.ReadArg(m.body, env.IO.In); err != nil {
			return nil, inputErr(err, "--body")
		}
	}
	if m.html != "" {
		if o.HTML, err = message.ReadArg(m.html, env.IO.In); err != nil {
			o.Body.Close()
			return nil, inputErr(err, "--html")
		}
	}
	for i, a := range m.attach {
		att := message.Attachment{Path: strings.TrimPrefix(a, "@")}
		if i < len(m.attachType) {
			att.Type = m.attachType[i]
		}
		if i < len(m.attachName) {
			att.Name = m.attachName[i]
		}
		o.Attachments = append(o.Attachments, att)
	}
	for _, a := range m.inline {
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
