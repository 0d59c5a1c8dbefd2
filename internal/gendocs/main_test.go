package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smtpx/smtpx/internal/term"
)

func genDocs(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	io := &term.IO{In: strings.NewReader(""), Out: &bytes.Buffer{}, Err: &bytes.Buffer{}, Getenv: func(string) string { return "" }}
	if err := GenDocs(io, "../..", dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestGenDocs(t *testing.T) {
	a, b := genDocs(t), genDocs(t)
	for _, name := range []string{"smtpx.bash", "_smtpx", "smtpx.fish", "smtpx.ps1"} {
		x, err := os.ReadFile(filepath.Join(a, "completions", name))
		if err != nil || len(x) == 0 {
			t.Fatalf("%s: %v", name, err)
		}
		y, _ := os.ReadFile(filepath.Join(b, "completions", name))
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between two runs", name)
		}
	}
	pages, _ := filepath.Glob(filepath.Join(a, "man", "*.1"))
	names := map[string]bool{}
	for _, p := range pages {
		names[filepath.Base(p)] = true
	}
	for _, want := range []string{"smtpx.1", "smtpx-send.1", "smtpx-ehlo.1", "smtpx-codes.1", "smtpx-config.1"} {
		if !names[want] {
			t.Errorf("no %s in %v", want, names)
		}
	}
	if names["smtpx-gen-docs.1"] {
		t.Error("the hidden gen-docs command has a page")
	}
	for _, p := range pages {
		x, _ := os.ReadFile(p)
		y, err := os.ReadFile(filepath.Join(b, "man", filepath.Base(p)))
		if err != nil || !bytes.Equal(x, y) {
			t.Errorf("%s differs between two runs", filepath.Base(p))
		}
		page := string(x)
		if !strings.Contains(page, `.TH "`+strings.ToUpper(strings.TrimSuffix(filepath.Base(p), ".1"))+`" "1" "2026-11-28" "smtpx" "smtpx manual"`) {
			t.Errorf("%s: header %q", filepath.Base(p), strings.SplitN(page, "\n", 3)[1])
		}
		if strings.Contains(page, "\n\t") {
			t.Errorf("%s: a tab in filled text", filepath.Base(p))
		}
		// Verbs end with EXIT STATUS and EXAMPLES, after the options.
		if filepath.Base(p) == "smtpx.1" {
			continue
		}
		opts, exit, ex, see := strings.Index(page, ".SH OPTIONS\n"), strings.Index(page, ".SH EXIT STATUS\n"),
			strings.Index(page, ".SH EXAMPLES\n"), strings.Index(page, ".SH SEE ALSO\n")
		if opts < 0 || exit < opts || ex < exit || see < ex {
			t.Errorf("%s: sections out of order: OPTIONS %d, EXIT STATUS %d, EXAMPLES %d, SEE ALSO %d", filepath.Base(p), opts, exit, ex, see)
		}
	}
	// A stale page of a verb that no longer exists is removed.
	os.WriteFile(filepath.Join(a, "man", "smtpx-gone.1"), []byte("x"), 0o644)
	if err := GenDocs(&term.IO{In: strings.NewReader(""), Out: &bytes.Buffer{}, Err: &bytes.Buffer{}}, "../..", a); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(a, "man", "smtpx-gone.1")); err == nil {
		t.Error("a stale page survived")
	}
}

func TestManMarkdown(t *testing.T) {
	in := `Text with *stars*, <angles>, a_b and [brackets] | pipes.
- not a list
1. not a list either
# not a heading

SUBSECTION
  indented  stays
    as it is

  an indented paragraph
  is filled

EXIT STATUS
  0  ok

EXAMPLES
  smtpx send --to a@b

  smtpx ehlo example.com`
	want := "Text with \\*stars\\*, \\<angles\\>, a\\_b and \\[brackets\\] \\| pipes.\n\\- not a list\n1\\. not a list either\n\\# not a heading\n\n" +
		"### SUBSECTION\n\n```\nindented  stays\n  as it is\n```\n\n" +
		"an indented paragraph\nis filled\n\n" +
		"# EXIT STATUS\n\n```\n0  ok\n```\n\n" +
		"# EXAMPLES\n\n```\nsmtpx send --to a@b\n```\n\n```\nsmtpx ehlo example.com\n```"
	if got := manMarkdown(in); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestReorderSections(t *testing.T) {
	in := ".TH x\n.SH NAME\nn\n.SH DESCRIPTION\nd\n.SH EXIT STATUS\ne\n.SH EXAMPLES\nx\n.SH OPTIONS\no\n.SH SEE ALSO\ns\n"
	want := ".TH x\n.SH NAME\nn\n.SH DESCRIPTION\nd\n.SH OPTIONS\no\n.SH EXIT STATUS\ne\n.SH EXAMPLES\nx\n.SH SEE ALSO\ns\n"
	if got := string(reorderSections([]byte(in))); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// readPage returns a generated page, dir being genDocs's.
func readPage(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "man", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// section returns the text of a page's section, "" when it has none.
func section(page, name string) string {
	_, after, ok := strings.Cut(page, ".SH "+name+"\n")
	if !ok {
		return ""
	}
	body, _, _ := strings.Cut(after, "\n.SH ")
	return body
}

// The options read as --help shows them: the value placeholder, not
// cobra's "=" and "[=false]".
func TestManOptions(t *testing.T) {
	dir := genDocs(t)
	send := readPage(t, dir, "smtpx-send.1")
	opts := section(send, "OPTIONS")
	for _, want := range []string{
		".TP\n\\fB\\-\\-attach\\fP \\fI@FILE\\fP\nattach @FILE (repeatable)\n",
		".TP\n\\fB\\-k\\fP, \\fB\\-\\-insecure\\fP\ndo not verify the server's certificate\n",
		".TP\n\\fB\\-\\-chunking\\fP \\fIstring\\fP\nCHUNKING/BDAT: auto (when offered) or never (default \"auto\")\n",
		".TP\n\\fB\\-\\-auth\\fP \\fIstring[=\"auto\"]\\fP\n",
		".TP\n\\fB\\-\\-add\\-header\\fP \\fI\"Name: value\"\\fP\n",
	} {
		if !strings.Contains(opts, want) {
			t.Errorf("smtpx-send(1) OPTIONS lacks %q", want)
		}
	}
	for _, p := range []string{"smtpx.1", "smtpx-send.1", "smtpx-sink.1", "smtpx-probe.1"} {
		page := readPage(t, dir, p)
		for _, bad := range []string{"[=false]", "\\fP=\n", "\\fP=\"\"", "\\fP[=\"\"]"} {
			if strings.Contains(page, bad) {
				t.Errorf("%s holds cobra's %q", p, bad)
			}
		}
	}
	if !strings.Contains(section(send, "OPTIONS INHERITED FROM PARENT COMMANDS"), "\\fB\\-\\-timeout\\fP \\fIduration\\fP\nhow long to wait for each reply (default 30s)") {
		t.Error("smtpx-send(1) lacks the inherited --timeout")
	}
}

// Each page has the sections the issue asks for: EXAMPLES in smtpx(1), a
// verb's JSON fields in its own page, and an EXIT STATUS with only the
// statuses that verb can return.
func TestManSections(t *testing.T) {
	dir := genDocs(t)
	root := readPage(t, dir, "smtpx.1")
	if !strings.Contains(section(root, "EXAMPLES"), "smtpx send --server 127.0.0.1:2525") {
		t.Error("smtpx(1) has no EXAMPLES")
	}
	if strings.Count(section(root, "EXIT STATUS"), "\n") < 8 {
		t.Errorf("smtpx(1) EXIT STATUS is not the whole table:\n%s", section(root, "EXIT STATUS"))
	}
	for _, p := range []string{"smtpx-ehlo.1", "smtpx-send.1", "smtpx-probe.1", "smtpx-verify.1", "smtpx-codes.1", "smtpx-sink.1", "smtpx-config.1"} {
		if section(readPage(t, dir, p), "JSON OUTPUT") == "" {
			t.Errorf("%s has no JSON OUTPUT", p)
		}
	}
	sink := section(readPage(t, dir, "smtpx-sink.1"), "EXIT STATUS")
	if !strings.Contains(sink, "3  network: it cannot listen") || strings.Contains(sink, "4  transient") {
		t.Errorf("smtpx-sink(1) EXIT STATUS:\n%s", sink)
	}
	cfg := readPage(t, dir, "smtpx-config.1")
	for _, s := range []string{"CONFIGURATION FILE", "MSMTP ACCOUNTS", "ENVIRONMENT"} {
		if section(cfg, s) == "" {
			t.Errorf("smtpx-config(1) has no %s", s)
		}
	}
	// The JSON fields, from docs/json.md, as a definition list.
	if !strings.Contains(section(readPage(t, dir, "smtpx-sink.1"), "JSON OUTPUT"), ".TP\n\\fBseq\\fR\n") {
		t.Error("smtpx-sink(1) JSON OUTPUT does not list seq")
	}
}

func TestManDoc(t *testing.T) {
	in := "Intro, see [json.md](json.md#send) and [mailpit](https://mailpit.axllent.org).\n\n" +
		"### Fields\n\n| field | meaning |\n|---|---|\n| `a`, `b` | one \\| two |\n| `c` | three | four |\n\n" +
		"```\n| not | a table |\n|---|---|\n```"
	want := "Intro, see json.md and mailpit (https://mailpit.axllent.org).\n\n" +
		"### Fields\n\n`a`, `b`\n: one | two\n\n`c`\n: three; four\n\n" +
		"```\n| not | a table |\n|---|---|\n```"
	if got := manDoc(in); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestDocSections(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.md", "# A\n<!-- BEGIN man smtpx-send smtpx-ehlo: JSON OUTPUT -->\none\n<!-- END man -->\nnot in a page\n"+
		"<!-- BEGIN man smtpx-send: ENVIRONMENT -->\ntwo\n<!-- END man -->\n")
	got, err := docSections(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(got["smtpx-send"]) != 2 || got["smtpx-send"][0] != (docSection{"JSON OUTPUT", "one"}) ||
		got["smtpx-send"][1] != (docSection{"ENVIRONMENT", "two"}) || len(got["smtpx-ehlo"]) != 1 {
		t.Errorf("sections: %+v", got)
	}
	for _, bad := range []string{
		"<!-- BEGIN man smtpx-send: JSON OUTPUT -->\nno end\n",
		"<!-- END man -->\n",
		"<!-- BEGIN man smtpx-send: json output -->\nx\n<!-- END man -->\n",
		"<!-- BEGIN man smtpx-send: A -->\n<!-- BEGIN man smtpx-send: B -->\n<!-- END man -->\n",
	} {
		write("a.md", bad)
		if _, err := docSections(dir); err == nil {
			t.Errorf("no error for %q", bad)
		}
	}
}
