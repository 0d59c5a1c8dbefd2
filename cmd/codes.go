package cmd

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/fatih/color"
	"github.com/spf13/cobra"

	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/replycode"
	"github.com/smtpx/smtpx/internal/transcript"
)

func init() { register("codes", newCodesCmd) }

// CodesOptions is what "smtpx codes" was asked to do.
type CodesOptions struct {
	Args      []string // codes, a reply, or "-" for standard input
	List      bool
	Search    string
	ExitClass bool
}

func newCodesCmd(env *Env) *cobra.Command {
	o := &CodesOptions{}
	c := &cobra.Command{
		Use:   "codes [CODE [ENHANCED] | REPLY | -]",
		Short: "Explain an SMTP reply code, enhanced status code or whole reply, offline",
		Long: `Explain what an SMTP reply means and what to do about it, without a network.

Give a reply code (550), an enhanced status code (5.7.1), both (550 5.7.26),
a whole reply as a server sent it, single or multi-line ("550-5.7.26 ..."),
or - to read replies from standard input: a pasted bounce or a saved
transcript, swaks-style markers (<-  <**  <~) included. Every reply found is
explained in order; there, 2xx and 3xx replies get one line (-v: in full). Patterns such as 5yz, x5z, 5.XXX.YYY, X.7.YYY or X.1.1
explain a class, a category, a subject or a code of any class.

For each reply: the class (success, intermediate, transient, permanent) and
category, a short name and plain explanation, what to do next, which commands
return it and the defining RFC; for an enhanced code its class, subject and
detail. Unknown but well-formed codes fall back on class and category, or on
subject and class (RFC 3463 §2), and say so. A reply whose two codes disagree
in class is flagged. Texts from Gmail, Microsoft 365 and Yahoo are recognised
and their provider-specific meaning shown, labelled as such.

--json prints one JSON object per reply (JSON Lines when several); the field
names are listed in the README. --list shows every known code by class,
--search WORD those whose description mentions WORD.

For codes: exit 0 when every input was a well-formed code or reply (fallbacks
included), 1 when --search finds nothing, 2 when the input is not a code or
reply. --exit-class instead makes the status the class of the last reply
explained: 0 for 2xx and 3xx, 4 for 4xx, 5 for 5xx.

` + exitcode.HelpSection() + `
EXAMPLES
  smtpx codes 550
  smtpx codes 5.7.1
  smtpx codes 550 5.7.26
  smtpx codes "421-4.7.28 Gmail has detected an unusual rate of email ... - gsmtp"
  smtpx send ... 2>&1 | smtpx codes -
  smtpx codes --search tls
  smtpx codes --exit-class "$reply" || echo "not delivered"
`,
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: completeCodes,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Args = args
			return codesRun(env, o)
		},
	}
	f := c.Flags()
	f.BoolVar(&o.List, "list", false, "list every known code, grouped by class")
	f.StringVar(&o.Search, "search", "", "list the codes whose description mentions `WORD`")
	f.BoolVar(&o.ExitClass, "exit-class", false, "exit with the class of the last reply: 0 (2xx/3xx), 4 or 5")
	_ = c.RegisterFlagCompletionFunc("search", cobra.NoFileCompletions)
	return c
}

// completeCodes offers the known reply codes, and enhanced codes once a
// class and a dot are typed ("5." offers 5.0.0 to 5.7.30), each with its name.
func completeCodes(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	var out []cobra.Completion
	enhanced := len(toComplete) >= 2 && toComplete[1] == '.' && strings.ContainsRune("245", rune(toComplete[0]))
	seen := map[string]bool{}
	for _, e := range replycode.List() {
		code := e.Code
		switch {
		case e.Kind == "basic" && !enhanced && !seen[code]:
		case e.Kind == "enhanced" && enhanced:
			code = toComplete[:1] + strings.TrimPrefix(code, "X")
		default:
			continue
		}
		seen[code] = true
		if strings.HasPrefix(code, toComplete) {
			out = append(out, cobra.CompletionWithDesc(code, e.Name))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

func codesRun(env *Env, o *CodesOptions) error {
	searching := o.Search != ""
	switch {
	case o.List && searching:
		return exitcode.Usagef("use one of --list and --search", "--list and --search cannot be combined")
	case (o.List || searching) && len(o.Args) > 0:
		return exitcode.Usagef("drop the arguments, or drop --list/--search", "--list and --search take no code arguments")
	case (o.List || searching) && o.ExitClass:
		return exitcode.Usagef("use --exit-class with a code or a reply", "--exit-class needs a code or reply to classify")
	case o.List:
		return codesList(env, replycode.List())
	case searching:
		if strings.TrimSpace(o.Search) == "" {
			return exitcode.Usagef("give a word, e.g. --search mailbox", "--search needs a word")
		}
		found := replycode.Search(o.Search)
		if len(found) == 0 {
			return &exitcode.Error{Code: exitcode.Check, Msg: fmt.Sprintf("no code matches %q", o.Search),
				Hint: "try a shorter or different word, or --list to see every code"}
		}
		return codesList(env, found)
	case len(o.Args) == 0:
		return exitcode.Usagef("give a code (550), an enhanced code (5.7.1), a reply in quotes, or - for standard input", "nothing to explain")
	}

	r := newCodesRenderer(env)
	last := 0
	if len(o.Args) == 1 && o.Args[0] == "-" {
		r.brief = !env.G.Verbose
		if env.IO.InIsTTY && !env.G.Quiet {
			fmt.Fprintln(env.IO.Err, "smtpx: reading replies from standard input; end with Ctrl-D")
		}
		n := 0
		err := replycode.Scan(env.IO.In, func(rep replycode.Reply) error {
			e := replycode.Explain(rep)
			last = e.ExitClass
			n++
			return r.explanation(e, n > 1)
		})
		if err != nil {
			return exitcode.Usagef("check that standard input is readable text", "reading standard input: %v", err)
		}
		if n == 0 {
			return exitcode.Usagef("pipe in a reply such as '550 5.1.1 User unknown', a bounce or a transcript", "no SMTP reply found on standard input")
		}
	} else {
		exps, err := replycode.Lookup(o.Args)
		if ie, ok := err.(*replycode.InputError); ok {
			return exitcode.Usagef(ie.Hint, "%s", ie.Msg)
		} else if err != nil {
			return err
		}
		for i, e := range exps {
			if err := r.explanation(e, i > 0); err != nil {
				return err
			}
			last = e.ExitClass
		}
	}
	if o.ExitClass && last != 0 {
		return exitcode.Silent(last)
	}
	return nil
}

// codesRenderer writes explanations for people or as JSON Lines.
type codesRenderer struct {
	w       io.Writer
	json    bool
	quiet   bool
	verbose bool
	// brief summarises 2xx and 3xx replies in one line, for transcripts
	// read from standard input where they are mostly the expected answers.
	brief bool
	width int
	class [6]*color.Color
	bold  *color.Color
}

func newCodesRenderer(env *Env) *codesRenderer {
	r := &codesRenderer{w: env.IO.Out, quiet: env.G.Quiet, verbose: env.G.Verbose, width: env.IO.Width()}
	r.json = env.G.JSON
	r.class = [6]*color.Color{
		2: color.New(color.FgGreen, color.Bold), 3: color.New(color.FgCyan, color.Bold),
		4: color.New(color.FgYellow, color.Bold), 5: color.New(color.FgRed, color.Bold),
	}
	r.class[0] = color.New(color.Bold)
	r.bold = r.class[0]
	on := env.ColorOut()
	for _, c := range r.class {
		if c == nil {
			continue
		}
		if on {
			c.EnableColor()
		} else {
			c.DisableColor()
		}
	}
	return r
}

func (r *codesRenderer) paint(class int) *color.Color {
	if class >= 2 && class <= 5 {
		return r.class[class]
	}
	return r.bold
}

// retryWords says in the header line what the reply class means for the
// sender.
func retryWords(retry string) string {
	switch retry {
	case "none":
		return "success"
	case "continue":
		return "intermediate: send what the server is waiting for"
	case "later":
		return "transient: retry later"
	case "after_fix":
		return "permanent: don't retry unchanged"
	}
	return ""
}

const labelWidth = 8

func (r *codesRenderer) explanation(e *replycode.Explanation, sep bool) error {
	if r.json {
		return transcript.WriteJSON(r.w, e)
	}
	if r.quiet {
		return nil
	}
	var b strings.Builder
	if sep {
		b.WriteByte('\n')
	}
	if e.Pattern != nil {
		r.pattern(&b, e)
		_, err := io.WriteString(r.w, b.String())
		return err
	}
	head := strings.TrimSpace(fmt.Sprintf("%s %s", codeStr(e.Code), e.Enhanced))
	summary := retryWords(e.Retry)
	if e.Retry == "after_fix" && e.Class == 4 {
		summary = "transient code, but don't retry unchanged"
	}
	if summary == "" {
		summary = "any class"
	}
	b.WriteString(r.paint(e.Class).Sprint(head) + "  " + summary + "\n")
	if e.Text != "" {
		lines := strings.Split(e.Text, "\n")
		if !r.verbose && len(lines) > 1 {
			lines = []string{strings.Join(lines, " ")}
		}
		for _, l := range lines {
			l = transcript.Escape(l)
			if !r.verbose {
				l = clipRunes(l, r.width-4)
			}
			b.WriteString("  | " + l + "\n")
		}
	}
	if bi := e.Basic; bi != nil {
		name := bi.Name
		if bi.Extension != "" {
			name += " (" + bi.Extension + ")"
		}
		r.field(&b, fmt.Sprint(bi.Code), fmt.Sprintf("%s [%s, %s]", name, e.ClassName, bi.CategoryName))
		if r.brief && e.Class <= 3 && e.Mismatch == "" && e.Provider == nil && len(e.Notes) == 0 {
			_, err := io.WriteString(r.w, b.String())
			return err
		}
		if bi.Fallback != "" {
			r.field(&b, "", "fallback: no registered meaning; read by class and category (RFC 5321 §4.2.1)")
		}
		r.field(&b, "", bi.Meaning)
		r.field(&b, "", "returned by: "+bi.Commands+" · "+bi.Reference)
		for _, u := range bi.OtherUses {
			ext := u.Extension
			if ext == "" {
				ext = "core SMTP"
			}
			r.field(&b, "", fmt.Sprintf("also, under %s: %s (%s)", ext, u.Name, u.Reference))
		}
	}
	if s := e.Status; s != nil {
		cls := fmt.Sprintf("class %d %s", s.Class, s.ClassName)
		if s.Class == 0 {
			cls = "any class"
		}
		r.field(&b, s.Code, fmt.Sprintf("%s [%s, subject %d %s, detail %d]", s.Name, cls, s.Subject, s.SubjectName, s.Detail))
		switch s.Fallback {
		case "subject":
			r.field(&b, "", "fallback: detail not registered; read by subject (RFC 3463 §2)")
		case "class":
			r.field(&b, "", "fallback: subject not registered; read by class (RFC 3463 §2)")
		}
		if s.Meaning != "" {
			r.field(&b, "", s.Meaning)
		}
		var ref []string
		if s.RegistryName != "" {
			ref = append(ref, "registry: "+s.RegistryName)
		}
		if s.Reference != "" {
			ref = append(ref, s.Reference)
		}
		if s.AssociatedCodes != "" && s.AssociatedCodes != "Not given" {
			ref = append(ref, "usual reply codes: "+s.AssociatedCodes)
		}
		if len(ref) > 0 {
			r.field(&b, "", strings.Join(ref, " · "))
		}
	}
	if p := e.Provider; p != nil {
		r.field(&b, p.Provider, "provider-specific: "+p.Name)
		r.field(&b, "", p.Meaning)
		r.field(&b, "", "source: "+p.Source)
	}
	for _, u := range e.ProviderUses {
		r.field(&b, u.Provider, "provider-specific use: "+u.Name+" (give the reply text to tell)")
	}
	if e.Mismatch != "" {
		r.field(&b, "mismatch", e.Mismatch)
	}
	for _, n := range e.Notes {
		r.field(&b, "note", n)
	}
	if e.Action != "" {
		r.field(&b, "do", e.Action)
	}
	_, err := io.WriteString(r.w, b.String())
	return err
}

func (r *codesRenderer) pattern(b *strings.Builder, e *replycode.Explanation) {
	p := e.Pattern
	b.WriteString(r.paint(e.Class).Sprint(p.Code) + "  " + strings.ReplaceAll(p.Kind, "_", " ") + ": " + p.Name + "\n")
	r.field(b, "", p.Meaning)
	if p.Commands != "" {
		r.field(b, "", "codes/commands: "+p.Commands+" · "+p.Reference)
	} else {
		r.field(b, "", p.Reference)
	}
	r.field(b, "do", p.Action)
}

// field writes a label column and wrapped text, the way the explanation is
// laid out: "  550     text..." with continuation lines under the text.
func (r *codesRenderer) field(b *strings.Builder, label, text string) {
	if text == "" {
		return
	}
	indent := strings.Repeat(" ", 2+labelWidth)
	first := "  " + padRight(label, labelWidth)
	if utf8.RuneCountInString(label) >= labelWidth {
		first = "  " + label + " "
	}
	for i, l := range wrap(text, r.width-utf8.RuneCountInString(first)) {
		if i == 0 {
			b.WriteString(first + l + "\n")
		} else {
			b.WriteString(indent + l + "\n")
		}
	}
}

func codesList(env *Env, entries []replycode.Entry) error {
	if env.G.JSON {
		for _, e := range entries {
			if err := transcript.WriteJSON(env.IO.Out, e); err != nil {
				return err
			}
		}
		return nil
	}
	if env.G.Quiet {
		return nil
	}
	r := newCodesRenderer(env)
	var b strings.Builder
	group := ""
	for _, e := range entries {
		if e.Group != group {
			if group != "" {
				b.WriteByte('\n')
			}
			group = e.Group
			b.WriteString(r.bold.Sprint(group) + "\n")
		}
		name := e.Name
		if e.Extension != "" {
			name += " (" + e.Extension + ")"
		}
		switch e.Kind {
		case "basic":
			b.WriteString("  " + r.paint(e.Class).Sprint(padRight(e.Code, labelWidth)) + name + "\n")
		case "enhanced":
			b.WriteString("  " + padRight(e.Code, labelWidth) + name + "\n")
		default:
			b.WriteString("  " + padRight(e.Provider, 14) + padRight(e.Code, 17) + name + "\n")
		}
	}
	_, err := io.WriteString(env.IO.Out, b.String())
	return err
}

func codeStr(c int) string {
	if c == 0 {
		return ""
	}
	return fmt.Sprint(c)
}

func padRight(s string, n int) string {
	if k := utf8.RuneCountInString(s); k < n {
		return s + strings.Repeat(" ", n-k)
	}
	return s + " "
}

func clipRunes(s string, n int) string {
	if n < 10 {
		n = 10
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	rs := []rune(s)
	return string(rs[:n-3]) + "..."
}

// wrap breaks text into lines of at most width runes at spaces; a word
// longer than width gets a line of its own.
func wrap(text string, width int) []string {
	if width < 20 {
		width = 20
	}
	var lines []string
	var cur strings.Builder
	n := 0
	for _, w := range strings.Fields(text) {
		wl := utf8.RuneCountInString(w)
		if n > 0 && n+1+wl > width {
			lines = append(lines, cur.String())
			cur.Reset()
			n = 0
		}
		if n > 0 {
			cur.WriteByte(' ')
			n++
		}
		cur.WriteString(w)
		n += wl
	}
	if n > 0 {
		lines = append(lines, cur.String())
	}
	return lines
}
