// Command gendocs writes smtpx's shell completions and man pages from the
// command tree: go run ./internal/gendocs DIR writes DIR/completions and
// DIR/man. It is a separate program, not a hidden verb, so that the man
// page renderer it needs is not linked into (and initialised by) every run
// of smtpx.
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

// GenDocs writes the completion scripts and man pages under dir. It
// builds a fresh command tree with fixed build information, so nothing of
// the machine it runs on ends up in the files.
func GenDocs(io *term.IO, dir string) error {
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
		"smtpx.bash": func(b *bytes.Buffer) error { return root.GenBashCompletionV2(b, true) },
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
	root = tree()
	prepareMan(root)
	header := &doc.GenManHeader{Section: "1", Date: &docsDate, Source: "smtpx", Manual: "smtpx manual"}
	if err := doc.GenManTreeFromOpts(root, doc.GenManTreeOptions{Header: header, Path: manDir, CommandSeparator: "-"}); err != nil {
		return err
	}
	pages, _ := filepath.Glob(filepath.Join(manDir, "smtpx*.1"))
	for _, p := range pages {
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.WriteFile(p, fixRoff(reorderSections(b)), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// prepareMan turns each command's help into the Markdown cobra's man
// generator expects: the plain-text help is written to be read as it is,
// so its indented blocks become literal blocks, its upper-case headings
// become sections and Markdown's special characters are escaped.
func prepareMan(c *cobra.Command) {
	c.DisableAutoGenTag = true
	c.Short = escapeMarkdown(c.Short)
	if c.Long != "" {
		c.Long = manMarkdown(c.Long)
	}
	// As in --help: a `NAME` in the usage names the value, and loses its quotes.
	esc := func(f *pflag.Flag) {
		_, usage := pflag.UnquoteUsage(f)
		f.Usage = escapeMarkdown(usage)
	}
	c.LocalFlags().VisitAll(esc)
	c.InheritedFlags().VisitAll(esc)
	for _, sub := range c.Commands() {
		prepareMan(sub)
	}
}

var heading = regexp.MustCompile(`^[A-Z][A-Z0-9 ,/&()-]*[A-Z)]$`)

// manMarkdown converts help text to Markdown, block by block.
func manMarkdown(long string) string {
	var out []string
	for _, block := range strings.Split(strings.TrimSpace(long), "\n\n") {
		lines := strings.Split(strings.Trim(block, "\n"), "\n")
		if heading.MatchString(lines[0]) {
			level := "### "
			switch lines[0] {
			case "EXIT STATUS", "EXAMPLES":
				level = "# "
			}
			out = append(out, level+lines[0])
			lines = lines[1:]
			if len(lines) == 0 {
				continue
			}
		}
		literal := false
		for _, l := range lines {
			if strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t") {
				literal = true
			}
		}
		if literal {
			out = append(out, "```\n"+strings.Join(dedent(lines), "\n")+"\n```")
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
// listed keep their place after DESCRIPTION.
var manOrder = []string{"NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "OPTIONS INHERITED FROM PARENT COMMANDS",
	"ENVIRONMENT", "FILES", "EXIT STATUS", "EXAMPLES", "SEE ALSO"}

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

// fixRoff mends what cobra's generator writes and man page linters warn
// about: a date mandoc cannot parse, and each option's description set off
// by a tab in filled text instead of as a tagged paragraph.
func fixRoff(page []byte) []byte {
	s := thLine.ReplaceAllString(string(page), `$1 "`+docsDate.Format("2006-01-02")+`"`)
	lines := strings.Split(s, "\n")
	var out []string
	for i, l := range lines {
		if strings.HasPrefix(l, "\t") && i > 0 {
			// out ends with the option line; before it, .PP or the .SH.
			n := len(out)
			if n >= 2 && out[n-2] == ".PP" {
				out[n-2] = ".TP"
			} else {
				out = append(out[:n-1], ".TP", out[n-1])
			}
			l = strings.TrimLeft(l, "\t")
		}
		out = append(out, l)
	}
	return []byte(strings.Join(out, "\n"))
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go run ./internal/gendocs DIR")
		os.Exit(2)
	}
	if err := GenDocs(term.System(), os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "gendocs:", err)
		os.Exit(1)
	}
}
