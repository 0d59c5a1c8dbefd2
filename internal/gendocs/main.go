// Command gendocs writes smtpx's shell completions and man pages from the
// command tree: go run ./internal/gendocs DIR writes DIR/completions and
// DIR/man, the man pages with the sections of DIR/docs/*.md marked for
// them. It is a separate program, not a hidden verb, so that the man page
// renderer it needs is not linked into (and initialised by) every run of
// smtpx.
package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
	"github.com/spf13/pflag"

	"github.com/smtpx/smtpx/cmd"
	"github.com/smtpx/smtpx/internal/term"
)

// docsDate is the date printed in the man pages. It is fixed, not the
// build time, so that regenerating gives identical files and CI can tell
// when the committed ones are stale; bump it when cutting a release.
var docsDate = time.Date(2026, time.November, 28, 0, 0, 0, 0, time.UTC)

// GenDocs writes the completion scripts and man pages under dir, taking
// the marked sections of src/docs/*.md into the man pages. It builds a
// fresh command tree with fixed build information, so nothing of the
// machine it runs on ends up in the files.
// bashShim goes before cobra's bash completion, which needs
// _get_comp_words_by_ref from the bash-completion package: without that
// package (a bare bash, a minimal container) a small stand-in takes its
// place, so completion from the release archive works either way. It
// splits words as bash did, ignoring -n: "--flag=value" then completes as
// two words, which is all the difference.
const bashShim = `# Without the bash-completion package, a minimal _get_comp_words_by_ref.
if ! declare -F _get_comp_words_by_ref >/dev/null 2>&1; then
_get_comp_words_by_ref() {
    while [[ $# -gt 0 && $1 == -* ]]; do
        case $1 in -n|-i|-c) shift 2 ;; *) shift ;; esac
    done
    local v
    for v in "$@"; do
        case $v in
            cur) cur=${COMP_WORDS[COMP_CWORD]} ;;
            prev) prev=${COMP_WORDS[COMP_CWORD-1]} ;;
            words) words=("${COMP_WORDS[@]}") ;;
            cword) cword=$COMP_CWORD ;;
        esac
    done
}
fi

`

func GenDocs(io *term.IO, src, dir string) error {
	tree := func() *cobra.Command {
		root := cmd.NewRoot(&cmd.Env{IO: io, G: &cmd.Globals{}, Build: cmd.BuildInfo{Version: "dev", Commit: "none", Date: "unknown"}})
		root.DisableAutoGenTag = true
		return root
	}
	compDir := filepath.Join(dir, "completions")
	if err := os.MkdirAll(compDir, 0o755); err != nil {
		return err
	}
	root := tree()
	for name, gen := range map[string]func(*bytes.Buffer) error{
		"smtpx.bash": func(b *bytes.Buffer) error {
			b.WriteString(bashShim)
			return root.GenBashCompletionV2(b, true)
		},
		"_smtpx":     func(b *bytes.Buffer) error { return root.GenZshCompletion(b) },
		"smtpx.fish": func(b *bytes.Buffer) error { return root.GenFishCompletion(b, true) },
		"smtpx.ps1":  func(b *bytes.Buffer) error { return root.GenPowerShellCompletionWithDesc(b) },
	} {
		var b bytes.Buffer
		if err := gen(&b); err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(compDir, name), b.Bytes(), 0o644); err != nil {
			return err
		}
	}

	manDir := filepath.Join(dir, "man")
	if err := os.MkdirAll(manDir, 0o755); err != nil {
		return err
	}
	// Pages of verbs that no longer exist must not linger.
	old, _ := filepath.Glob(filepath.Join(manDir, "smtpx*.1"))
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			return err
		}
	}
	sections, err := docSections(filepath.Join(src, "docs"))
	if err != nil {
		return err
	}
	root = tree()
	prepareMan(root, sections)
	header := &doc.GenManHeader{Section: "1", Date: &docsDate, Source: "smtpx", Manual: "smtpx manual"}
	if err := doc.GenManTreeFromOpts(root, doc.GenManTreeOptions{Header: header, Path: manDir, CommandSeparator: "-"}); err != nil {
		return err
	}
	// The options come from a tree whose flags prepareMan left alone, with
	// the --help and --version flags cobra adds when it runs.
	options := map[string]*cobra.Command{}
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		c.InitDefaultHelpFlag()
		c.InitDefaultVersionFlag()
		options[pageName(c)] = c
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(tree())
	pages, _ := filepath.Glob(filepath.Join(manDir, "smtpx*.1"))
	for _, p := range pages {
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		c := options[strings.TrimSuffix(filepath.Base(p), ".1")]
		if c == nil {
			return fmt.Errorf("%s: no command for this page", p)
		}
		page, err := replaceOptions(string(b), c)
		if err != nil {
			return fmt.Errorf("%s: %v", p, err)
		}
		if err := os.WriteFile(p, fixDate(reorderSections([]byte(page))), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// pageName is the man page of c without its section: smtpx-send.
func pageName(c *cobra.Command) string { return strings.ReplaceAll(c.CommandPath(), " ", "-") }

// prepareMan turns each command's help into the Markdown cobra's man
// generator expects: the plain-text help is written to be read as it is,
// so its indented blocks become literal blocks, its upper-case headings
// become sections and Markdown's special characters are escaped. The
// sections of docs/ marked for a page follow, each under its heading.
func prepareMan(c *cobra.Command, sections map[string][]docSection) {
	c.DisableAutoGenTag = true
	c.Short = escapeMarkdown(c.Short)
	if c.Long != "" {
		c.Long = manMarkdown(c.Long)
	}
	// Blocks for one section, from several places, go together, in the
	// order the section first appears.
	var names []string
	blocks := map[string][]string{}
	for _, sec := range sections[pageName(c)] {
		if _, ok := blocks[sec.name]; !ok {
			names = append(names, sec.name)
		}
		blocks[sec.name] = append(blocks[sec.name], sec.markdown)
	}
	for _, n := range names {
		c.Long += "\n\n# " + n + "\n\n" + strings.Join(blocks[n], "\n\n")
	}
	// As in --help: a `NAME` in the usage names the value, and loses its quotes.
	esc := func(f *pflag.Flag) {
		_, usage := pflag.UnquoteUsage(f)
		f.Usage = escapeMarkdown(usage)
	}
	c.LocalFlags().VisitAll(esc)
	c.InheritedFlags().VisitAll(esc)
	for _, sub := range c.Commands() {
		prepareMan(sub, sections)
	}
}

var heading = regexp.MustCompile(`^[A-Z][A-Z0-9 ,/&()-]*[A-Z)]$`)

// manMarkdown converts help text to Markdown, block by block. A block
// that is laid out (a table, a list with aligned columns, lines indented
// deeper than the rest) stays as it is; a paragraph, even one indented
// under its heading, is filled. Everything under EXIT STATUS and EXAMPLES
// is laid out.
func manMarkdown(long string) string {
	var out []string
	laidOut := false
	for _, block := range strings.Split(strings.TrimSpace(long), "\n\n") {
		lines := strings.Split(strings.Trim(block, "\n"), "\n")
		if heading.MatchString(lines[0]) {
			level := "### "
			laidOut = false
			switch lines[0] {
			case "EXIT STATUS", "EXAMPLES":
				level = "# "
				laidOut = true
			}
			out = append(out, level+lines[0])
			lines = lines[1:]
			if len(lines) == 0 {
				continue
			}
		}
		lines = dedent(lines)
		literal := laidOut
		for _, l := range lines {
			if strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t") || strings.Contains(l, "  ") {
				literal = true
			}
		}
		if literal {
			out = append(out, "```\n"+strings.Join(lines, "\n")+"\n```")
			continue
		}
		for i, l := range lines {
			lines[i] = escapeLineStart(escapeMarkdown(l))
		}
		out = append(out, strings.Join(lines, "\n"))
	}
	return strings.Join(out, "\n\n")
}

// dedent removes the indentation all lines share.
func dedent(lines []string) []string {
	min := -1
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		n := len(l) - len(strings.TrimLeft(l, " "))
		if min < 0 || n < min {
			min = n
		}
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		if len(l) >= min && min > 0 {
			l = l[min:]
		}
		out[i] = l
	}
	return out
}

var mdSpecial = strings.NewReplacer(`\`, `\\`, "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`,
	"<", `\<`, ">", `\>`, "|", `\|`, "~", `\~`, "&", `\&`, "`", "\\`")

// escapeMarkdown makes s literal text in Markdown.
func escapeMarkdown(s string) string { return mdSpecial.Replace(s) }

var listStart = regexp.MustCompile(`^(\d+)\. `)

// escapeLineStart stops a line being read as a heading, list or rule.
func escapeLineStart(l string) string {
	if m := listStart.FindStringSubmatch(l); m != nil {
		return m[1] + `\.` + l[len(m[1])+1:]
	}
	if l != "" && strings.ContainsRune("#+-=", rune(l[0])) {
		return `\` + l
	}
	return l
}

// manOrder is the order of sections in a page (man-pages(7)); sections not
// listed keep their place after DESCRIPTION. The sections from docs/ come
// after the options.
var manOrder = []string{"NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "OPTIONS INHERITED FROM PARENT COMMANDS",
	"CONFIGURATION FILE", "MSMTP ACCOUNTS", "JSON OUTPUT", "ENVIRONMENT", "FILES", "EXIT STATUS", "EXAMPLES", "SEE ALSO"}

// reorderSections moves EXIT STATUS and EXAMPLES, which come from the
// long help, after the options cobra writes last.
func reorderSections(page []byte) []byte {
	parts := regexp.MustCompile(`(?m)^\.SH `).Split(string(page), -1)
	head, secs := parts[0], parts[1:]
	name := func(s string) string {
		n, _, _ := strings.Cut(s, "\n")
		return strings.Trim(n, `"`)
	}
	rank := func(s string) int {
		for i, n := range manOrder {
			if name(s) == n {
				return i
			}
		}
		return 2 // with DESCRIPTION
	}
	// A stable insertion sort keeps equal ranks in their order.
	for i := 1; i < len(secs); i++ {
		for j := i; j > 0 && rank(secs[j]) < rank(secs[j-1]); j-- {
			secs[j], secs[j-1] = secs[j-1], secs[j]
		}
	}
	var b strings.Builder
	b.WriteString(head)
	for _, s := range secs {
		b.WriteString(".SH ")
		b.WriteString(s)
	}
	return []byte(b.String())
}

var thLine = regexp.MustCompile(`(?m)^(\.TH "[^"]*" "[^"]*") "[^"]*"`)

// fixDate writes the page date in the form mandoc parses.
func fixDate(page []byte) []byte {
	return []byte(thLine.ReplaceAllString(string(page), `$1 "`+docsDate.Format("2006-01-02")+`"`))
}

// replaceOptions replaces the option sections cobra writes (--attach=,
// --insecure[=false]) with the options as --help shows them: each flag
// with its value placeholder, and its default.
func replaceOptions(page string, c *cobra.Command) (string, error) {
	for _, sec := range []struct {
		name  string
		flags *pflag.FlagSet
	}{
		{"OPTIONS", c.NonInheritedFlags()},
		{"OPTIONS INHERITED FROM PARENT COMMANDS", c.InheritedFlags()},
	} {
		head := ".SH " + sec.name + "\n"
		i := strings.Index(page, head)
		if i < 0 {
			continue
		}
		j := strings.Index(page[i+len(head):], "\n.SH ")
		if j < 0 {
			return "", fmt.Errorf("%s is the last section", sec.name)
		}
		j += i + len(head) + 1
		roff, err := optionsRoff(sec.flags)
		if err != nil {
			return "", err
		}
		page = page[:i+len(head)] + roff + "\n\n" + page[j:]
	}
	return page, nil
}

// optionsRoff renders flags as tagged paragraphs. Each flag's line is the
// one --help prints, from pflag itself, so the two never differ.
func optionsRoff(flags *pflag.FlagSet) (string, error) {
	var b strings.Builder
	var err error
	flags.VisitAll(func(f *pflag.Flag) {
		if f.Hidden || err != nil {
			return
		}
		one := pflag.NewFlagSet("", pflag.ContinueOnError)
		one.AddFlag(f)
		line := strings.TrimRight(one.FlagUsagesWrapped(0), "\n")
		names := "--" + f.Name
		if f.Shorthand != "" && f.ShorthandDeprecated == "" {
			names = "-" + f.Shorthand + ", " + names
		}
		// pflag writes the flag, then its value and default, three spaces,
		// and the description.
		spec, desc, ok := strings.Cut(strings.TrimLeft(line, " "), "   ")
		if !ok || !strings.HasPrefix(spec, names) {
			err = fmt.Errorf("--%s: cannot read pflag's line %q", f.Name, line)
			return
		}
		b.WriteString(".TP\n")
		for k, n := range strings.Split(names, ", ") {
			if k > 0 {
				b.WriteString(", ")
			}
			b.WriteString(`\fB` + roffEscape(n, true) + `\fP`)
		}
		if value := strings.TrimSpace(spec[len(names):]); value != "" {
			b.WriteString(` \fI` + roffEscape(value, false) + `\fP`)
		}
		b.WriteString("\n" + roffLine(strings.TrimSpace(desc)) + "\n")
	})
	return strings.TrimSuffix(b.String(), "\n"), err
}

// roffEscape makes s literal roff text; in an option name, a hyphen is
// the minus sign a user types.
func roffEscape(s string, option bool) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	if option {
		s = strings.ReplaceAll(s, "-", `\-`)
	}
	return s
}

// roffLine is s as a line of filled text: escaped, and never read as a
// request.
func roffLine(s string) string {
	s = roffEscape(s, false)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go run ./internal/gendocs DIR")
		os.Exit(2)
	}
	if err := GenDocs(term.System(), os.Args[1], os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "gendocs:", err)
		os.Exit(1)
	}
}
