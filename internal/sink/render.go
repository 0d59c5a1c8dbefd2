package sink

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/smtpx/smtpx/internal/term"
	"github.com/smtpx/smtpx/internal/transcript"
)

// Printer is the Observer behind `smtpx sink`: human lines (connections,
// one summary per message, refusals, and with Verbose the transcript) and
// JSON Lines records. Everything a client sent is escaped before it is
// printed.
type Printer struct {
	Human   io.Writer // human output; nil prints none
	JSON    io.Writer // one Record per line; nil prints none
	Color   bool      // colour the human output
	Verbose bool      // print transcript lines
	// Summaries prints a block per accepted message; off when the JSON
	// records already say it.
	Summaries bool
	// RunFlag is the flag that set Options.Deadline (--run-for or
	// --timeout) and Grace is Options.MessageGrace, for the stopping line.
	RunFlag string
	Grace   time.Duration

	mu   sync.Mutex
	once sync.Once
	pal  *term.Palette
}

func (p *Printer) init() {
	p.once.Do(func() { p.pal = term.NewPalette(p.Color) })
}

func (p *Printer) human(lines ...string) {
	if p.Human == nil {
		return
	}
	p.init()
	p.mu.Lock()
	defer p.mu.Unlock()
	io.WriteString(p.Human, strings.Join(lines, "\n")+"\n")
}

func (p *Printer) infof(format string, a ...any) string {
	p.init()
	return p.pal.Faint.Sprint(transcript.MarkInfo + fmt.Sprintf(format, a...))
}

// Listening prints where the sink listens and how to reach it.
func (p *Printer) Listening(l Listening) {
	var feats []string
	if l.LMTP {
		feats = append(feats, "LMTP")
	} else {
		feats = append(feats, "ESMTP")
	}
	switch l.TLS {
	case "STARTTLS":
		feats = append(feats, "STARTTLS")
	case "implicit":
		feats = append(feats, "implicit TLS")
	}
	switch l.Auth {
	case "any":
		feats = append(feats, "AUTH (any user)")
	case "accounts":
		feats = append(feats, "AUTH")
	}
	lines := []string{p.infof("smtpx sink listening on %s (%s)", strings.Join(l.Addrs, ", "), strings.Join(feats, ", "))}
	if c := l.Cert; c != nil {
		kind := "certificate"
		if c.SelfSigned {
			kind = "self-signed certificate"
		}
		lines = append(lines, p.infof("TLS %s CN=%s for %s, SHA-256 %s", kind, transcript.Escape(c.Subject), strings.Join(c.Hosts, ", "), c.Fingerprint))
		switch {
		case c.Saved != "":
			lines = append(lines, p.infof("certificate saved to %s: clients can trust it with --ca-file %s", c.Saved, c.Saved))
		case c.SelfSigned:
			lines = append(lines, p.infof("clients must skip verification (--insecure) or trust it (--save-cert FILE, then --ca-file FILE)"))
		}
	}
	if l.Store != "" {
		lines = append(lines, p.infof("storing messages in %s", l.Store))
	} else {
		lines = append(lines, p.infof("not storing messages (--dir DIR or --maildir DIR keeps them)"))
	}
	p.human(lines...)
}

// Connected prints one line per connection.
func (p *Printer) Connected(c ConnInfo) {
	if c.Remote != "" {
		p.human(p.infof("[%d] connection from %s", c.ID, c.Remote))
	} else {
		p.human(p.infof("[%d] connection on %s", c.ID, c.Local))
	}
}

// Closed is shown only in the verbose transcript.
func (p *Printer) Closed(c ConnInfo) {
	if p.Verbose {
		p.human(p.infof("[%d] connection closed", c.ID))
	}
}

// Line prints a transcript line: from the sink's point of view, "<-" is
// what the client sent and "->" the sink's reply (tildes inside TLS).
func (p *Printer) Line(l Line) {
	if !p.Verbose {
		return
	}
	p.init()
	id := fmt.Sprintf("[%d] ", l.Conn)
	switch l.Dir {
	case FromClient:
		m := transcript.MarkRecv
		if l.TLS {
			m = transcript.MarkRecvTLS
		}
		p.human(m + id + transcript.Escape(l.Text))
	case ToClient:
		m := transcript.MarkSent
		if l.TLS {
			m = transcript.MarkSentTLS
		}
		p.human(p.pal.Class(l.Code).Sprint(m + id + transcript.Escape(l.Text)))
	default:
		p.human(p.infof("%s%s", id, transcript.Escape(l.Text)))
	}
}

// Message prints the JSON record and/or the summary block.
func (p *Printer) Message(r *Record) {
	if p.JSON != nil {
		b, err := transcript.MarshalJSON(r)
		if err == nil {
			p.mu.Lock()
			p.JSON.Write(b)
			p.mu.Unlock()
		}
	}
	if !p.Summaries || p.Human == nil {
		return
	}
	p.init()
	e := transcript.Escape
	plural := "s"
	if r.Size == 1 {
		plural = ""
	}
	lines := []string{p.pal.Good.Sprintf("[%d] message %d accepted, %d byte%s", r.Conn, r.Seq, r.Size, plural)}
	field := func(k, v string) { lines = append(lines, fmt.Sprintf("    %-8s %s", k+":", v)) }
	field("from", "<"+e(r.MailFrom)+">")
	var to []string
	for _, t := range r.RcptTo {
		to = append(to, "<"+e(t)+">")
	}
	field("to", strings.Join(to, ", "))
	subj := e(r.Headers.Subject)
	if subj == "" {
		subj = "(none)"
	}
	field("subject", subj)
	if len(r.Attachments) > 0 {
		var fs []string
		for _, a := range r.Attachments {
			name := a.Filename
			if name == "" {
				name = "(unnamed)"
			}
			fs = append(fs, fmt.Sprintf("%s (%s, %d bytes)", e(name), e(a.ContentType), a.Size))
		}
		field("files", strings.Join(fs, ", "))
	}
	via := []string{r.Protocol}
	if r.TLS {
		via = append(via, r.TLSVersion+" "+r.TLSCipher)
	}
	if r.AuthUser != "" {
		via = append(via, "user "+e(r.AuthUser))
	}
	field("via", strings.Join(via, ", "))
	if r.Path != "" {
		field("saved", e(r.Path))
	}
	p.human(lines...)
}

// Refused prints a reply the sink gave on purpose.
func (p *Printer) Refused(r Refusal) {
	p.init()
	what := r.Stage
	switch r.Stage {
	case "RCPT":
		what = "RCPT TO:<" + transcript.Escape(r.Arg) + ">"
	case "MAIL":
		what = "MAIL FROM:<" + transcript.Escape(r.Arg) + ">"
	case "DATA":
		what = "message from <" + transcript.Escape(r.Arg) + ">"
	case "AUTH":
		what = "AUTH as " + transcript.Escape(r.Arg)
	}
	p.human(p.pal.Class(r.Code).Sprintf("[%d] %s refused: %d %s (%s)", r.Conn, what, r.Code, r.Enhanced, r.Reason))
}

// Problem prints a failure that does not stop the sink.
func (p *Printer) Problem(conn int, msg string) {
	p.init()
	prefix := ""
	if conn > 0 {
		prefix = fmt.Sprintf("[%d] ", conn)
	}
	p.human(p.pal.Perm.Sprint(transcript.MarkFailure + prefix + transcript.Escape(msg)))
}

// Stopping says why the sink is shutting down.
func (p *Printer) Stopping(reason string) {
	within := ""
	if p.Grace > 0 {
		within = " (" + p.Grace.String() + " at most)"
	}
	switch reason {
	case StopClosed:
		// The one client of ServeConn is gone: nothing is left to finish.
	case StopExitAfter:
		p.human(p.infof("stopping: --exit-after reached, finishing open connections%s", within))
	case StopDeadline:
		flag := p.RunFlag
		if flag == "" {
			flag = "--run-for"
		}
		p.human(p.infof("stopping: %s reached, finishing messages in flight%s", flag, within))
	default:
		p.human(p.infof("stopping: finishing messages in flight%s (interrupt again to quit at once)", within))
	}
}
