package cmd

import (
	"github.com/spf13/cobra"

	"github.com/smtpx/smtpx/internal/send"
)

// registerMessageFlags adds the flags that say what message send builds.
func registerMessageFlags(c *cobra.Command, m *send.MessageFlags) {
	fs := c.Flags()
	fs.StringVar(&m.Subject, "subject", "", "Subject (default: smtpx test DATE)")
	stringListVar(fs, &m.Headers, "header", "", nil, "`\"Name: value\"` replacing a default header (\"Name:\" removes it; repeatable)")
	stringListVar(fs, &m.AddHeaders, "add-header", "", nil, "`\"Name: value\"` always appended (repeatable)")
	fs.StringVar(&m.Body, "body", "", "text body: TEXT, @FILE or - for stdin")
	fs.StringVar(&m.HTML, "html", "", "HTML alternative: TEXT, @FILE or -")
	stringListVar(fs, &m.Attach, "attach", "", nil, "attach `@FILE` (repeatable)")
	stringListVar(fs, &m.AttachType, "attach-type", "", nil, "media `TYPE` for the attachment in the same position (default: detected)")
	stringListVar(fs, &m.AttachName, "attach-name", "", nil, "file `NAME` for the attachment in the same position (default: the file's)")
	stringListVar(fs, &m.Inline, "attach-inline", "", nil, "inline image `@FILE`, referenced from the HTML as cid:NAME (repeatable)")
	fs.StringVar(&m.Data, "data", "", "send a complete message from `@FILE` or - (stdin) as it is")
	for _, name := range []string{"attach", "attach-inline"} {
		_ = c.MarkFlagFilename(name)
	}
}
