package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// docSection is a part of a docs/*.md file that a man page prints too:
// the text between "<!-- BEGIN man PAGE...: SECTION -->" and
// "<!-- END man -->", so each fact has one source and both places show it.
type docSection struct {
	name     string // the man page section, e.g. JSON OUTPUT
	markdown string // its text, as man page Markdown
}

var (
	beginMan = regexp.MustCompile(`^<!-- BEGIN man ([a-z -]+): ([A-Z][A-Z ]*[A-Z]) -->$`)
	endMan   = "<!-- END man -->"
)

// docSections reads the marked sections of every dir/*.md, by page name
// (smtpx-send), in file and then document order.
func docSections(dir string) (map[string][]docSection, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.md"))
	if err != nil {
		return nil, err
	}
	out := map[string][]docSection{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var pages []string
		var sec docSection
		var body []string
		for n, line := range strings.Split(string(b), "\n") {
			switch {
			case pages == nil && beginMan.MatchString(line):
				m := beginMan.FindStringSubmatch(line)
				pages, sec, body = strings.Fields(m[1]), docSection{name: m[2]}, nil
			case pages == nil && (strings.HasPrefix(line, "<!-- BEGIN man") || line == endMan):
				return nil, fmt.Errorf("%s:%d: a stray or malformed man marker: %s", f, n+1, line)
			case pages != nil && line == endMan:
				sec.markdown = manDoc(strings.Join(body, "\n"))
				for _, p := range pages {
					out[p] = append(out[p], sec)
				}
				pages = nil
			case pages != nil && strings.HasPrefix(line, "<!-- BEGIN man"):
				return nil, fmt.Errorf("%s:%d: a man section inside another", f, n+1)
			case pages != nil:
				body = append(body, line)
			}
		}
		if pages != nil {
			return nil, fmt.Errorf("%s: a man section without %s", f, endMan)
		}
	}
	return out, nil
}

var (
	mdLink    = regexp.MustCompile(`\[([^\]]+)\]\(([^)]+)\)`)
	mdHeading = regexp.MustCompile(`^#+ `)
	tableRule = regexp.MustCompile(`^\|( *:?-+:? *\|)+$`)
)

// manDoc adapts a docs/ section to the man page: tables, which a terminal
// cannot fit, become definition lists (the first column the term, the
// others its text); headings become subsections; links to other documents
// become their text, since a man page cannot follow them.
func manDoc(md string) string {
	lines := strings.Split(strings.Trim(md, "\n"), "\n")
	var out []string
	fence := false
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if strings.HasPrefix(l, "```") {
			fence = !fence
		}
		switch {
		case fence || strings.HasPrefix(l, "```"):
			out = append(out, l)
		case strings.HasPrefix(l, "|") && i+1 < len(lines) && tableRule.MatchString(lines[i+1]):
			// The header row names the columns; the rows follow the rule.
			for i += 2; i < len(lines) && strings.HasPrefix(lines[i], "|"); i++ {
				cells := tableCells(lines[i])
				out = append(out, cells[0], ": "+strings.Join(cells[1:], "; "))
				if i+1 < len(lines) && strings.HasPrefix(lines[i+1], "|") {
					out = append(out, "")
				}
			}
			i--
		case mdHeading.MatchString(l):
			out = append(out, "### "+mdHeading.ReplaceAllString(l, ""))
		default:
			out = append(out, mdLink.ReplaceAllStringFunc(l, func(link string) string {
				m := mdLink.FindStringSubmatch(link)
				if strings.Contains(m[2], "://") {
					return m[1] + " (" + m[2] + ")"
				}
				return m[1]
			}))
		}
	}
	return strings.TrimRight(strings.Join(out, "\n"), "\n")
}

// tableCells splits a Markdown table row at the pipes that are not
// escaped, and unescapes the others.
func tableCells(row string) []string {
	row = strings.TrimSpace(row)
	row = strings.TrimPrefix(strings.TrimSuffix(row, "|"), "|")
	var cells []string
	var cell strings.Builder
	for i := 0; i < len(row); i++ {
		switch {
		case row[i] == '\\' && i+1 < len(row) && row[i+1] == '|':
			cell.WriteByte('|')
			i++
		case row[i] == '|':
			cells = append(cells, strings.TrimSpace(cell.String()))
			cell.Reset()
		default:
			cell.WriteByte(row[i])
		}
	}
	return append(cells, strings.TrimSpace(cell.String()))
}
