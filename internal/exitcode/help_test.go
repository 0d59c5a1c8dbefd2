package exitcode

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// unwrap joins the lines HelpSection wrapped.
func unwrap(s string) string { return strings.ReplaceAll(s, "\n     ", " ") }

func TestHelpSection(t *testing.T) {
	wrapped := HelpSection()
	for _, l := range strings.Split(wrapped, "\n") {
		if len(l) > helpWidth {
			t.Errorf("line longer than %d: %q", helpWidth, l)
		}
	}
	whole := unwrap(wrapped)
	if !strings.HasPrefix(whole, "EXIT STATUS\n") || strings.Count(whole, "\n") != len(Table)+1 {
		t.Errorf("the whole table:\n%s", whole)
	}
	for _, r := range Table {
		if want := fmt.Sprintf("\n  %d  %s: %s\n", r.Code, r.Name, r.Meaning); !strings.Contains(whole, want) {
			t.Errorf("the whole table lacks %q", want)
		}
	}
	// A verb's section: only its statuses, in table order whatever the
	// order given, each in the verb's words when it gives them.
	got := unwrap(HelpSection(Case{Code: Network, When: "it cannot listen"}, Case{Code: OK}, Case{Code: Usage}))
	want := "EXIT STATUS\n" +
		"  0  success: " + Table[OK].Meaning + "\n" +
		"  2  usage: " + Table[Usage].Meaning + "\n" +
		"  3  network: it cannot listen\n"
	if got != want {
		t.Errorf("HelpSection with cases:\n%s\nwant\n%s", got, want)
	}
}

// The README shows the exit-status table whole; this keeps it equal to
// Table, the one source of every verb's EXIT STATUS section.
func TestReadmeExitTable(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- BEGIN exit table -->\n", "<!-- END exit table -->"
	readme := string(raw)
	i, j := strings.Index(readme, begin), strings.Index(readme, end)
	if i < 0 || j < i {
		t.Fatalf("README.md has no %q ... %q markers", begin, end)
	}
	var b strings.Builder
	b.WriteString("| status | name | meaning |\n|---|---|---|\n")
	for _, r := range Table {
		fmt.Fprintf(&b, "| %d | %s | %s |\n", r.Code, r.Name, r.Meaning)
	}
	if got := readme[i+len(begin) : j]; got != b.String() {
		t.Errorf("the README's exit-status table differs from exitcode.Table; it should read:\n%s", b.String())
	}
}
