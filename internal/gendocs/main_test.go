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
	if err := GenDocs(io, dir); err != nil {
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
	if err := GenDocs(&term.IO{In: strings.NewReader(""), Out: &bytes.Buffer{}, Err: &bytes.Buffer{}}, a); err != nil {
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

EXIT STATUS
  0  ok

EXAMPLES
  smtpx send --to a@b`
	want := "Text with \\*stars\\*, \\<angles\\>, a\\_b and \\[brackets\\] \\| pipes.\n\\- not a list\n1\\. not a list either\n\\# not a heading\n\n" +
		"### SUBSECTION\n\n```\nindented  stays\n  as it is\n```\n\n" +
		"# EXIT STATUS\n\n```\n0  ok\n```\n\n" +
		"# EXAMPLES\n\n```\nsmtpx send --to a@b\n```"
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
