package replycode

import (
	"encoding/csv"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// refDir is where CI lays the project's reference tables: ../shared/reference
// beside the repository clone.
const refDir = "../../../shared/reference"

// readRef reads a reference table, skipping the test when it is absent
// (a fresh clone without shared/), failing instead under SMTPX_INTEROP=1.
func readRef(t *testing.T, name string) []map[string]string {
	t.Helper()
	path := filepath.Join(refDir, name)
	f, err := os.Open(path)
	if err != nil {
		if os.Getenv("SMTPX_INTEROP") == "1" {
			t.Fatalf("reference table missing: %v", err)
		}
		t.Skipf("reference table %s not found (%v); set up ../shared/reference to run this test", path, err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comma = '\t'
	r.LazyQuotes = true
	r.FieldsPerRecord = -1
	head, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]string
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(rec) == 0 || strings.TrimSpace(rec[0]) == "" {
			continue
		}
		m := map[string]string{}
		for i, h := range head {
			if i < len(rec) {
				m[h] = strings.Join(strings.Fields(rec[i]), " ")
			}
		}
		rows = append(rows, m)
	}
	if len(rows) == 0 {
		t.Fatalf("%s has no rows", path)
	}
	return rows
}

var extNote = regexp.MustCompile(`Extension: ([A-Z]+)\b`)

// TestEveryBasicRowAnswers proves that every row of codes-basic.tsv answers
// "smtpx codes CODE" (exit 0, no error) with a non-empty explanation, and
// that the row's own use of the code, with its RFC reference, is among the
// uses shown.
func TestEveryBasicRowAnswers(t *testing.T) {
	rows := readRef(t, "codes-basic.tsv")
	if len(rows) != len(basicFacts) {
		t.Errorf("reference has %d basic rows, facts_gen.go %d: run go generate", len(rows), len(basicFacts))
	}
	for _, row := range rows {
		code := row["code"]
		exps, err := Lookup([]string{code})
		if err != nil {
			t.Errorf("codes %s: %v", code, err)
			continue
		}
		if len(exps) != 1 {
			t.Errorf("codes %s: %d explanations", code, len(exps))
			continue
		}
		e := exps[0]
		if e.Pattern != nil {
			if e.Pattern.Name == "" || e.Pattern.Meaning == "" || e.Pattern.Action == "" || e.Pattern.Reference != row["source_rfc"] {
				t.Errorf("codes %s: incomplete pattern explanation %+v", code, e.Pattern)
			}
			continue
		}
		if e.Basic == nil || e.Basic.Fallback != "" {
			t.Errorf("codes %s: no registered explanation", code)
			continue
		}
		ext := ""
		if m := extNote.FindStringSubmatch(row["notes"]); m != nil {
			ext = m[1]
		}
		uses := append([]Use{{Extension: e.Basic.Extension, Name: e.Basic.Name, Meaning: e.Basic.Meaning, Commands: e.Basic.Commands, Reference: e.Basic.Reference}}, e.Basic.OtherUses...)
		found := false
		for _, u := range uses {
			if u.Extension == ext && u.Reference == row["source_rfc"] {
				found = true
				if u.Name == "" || u.Meaning == "" || u.Commands != row["typical_commands"] {
					t.Errorf("codes %s (%s): incomplete use %+v", code, ext, u)
				}
			}
		}
		if !found {
			t.Errorf("codes %s: the %q use (%s) is missing", code, ext, row["source_rfc"])
		}
		if e.Action == "" {
			t.Errorf("codes %s: no advice", code)
		}
	}
}

// TestEveryEnhancedRowAnswers does the same for codes-enhanced.tsv, for the
// code as listed ("X.1.1") and with each class in place of X.
func TestEveryEnhancedRowAnswers(t *testing.T) {
	rows := readRef(t, "codes-enhanced.tsv")
	if len(rows) != len(enhancedFacts) {
		t.Errorf("reference has %d enhanced rows, facts_gen.go %d: run go generate", len(rows), len(enhancedFacts))
	}
	for _, row := range rows {
		code := row["code"]
		exps, err := Lookup([]string{code})
		if err != nil || len(exps) != 1 {
			t.Errorf("codes %s: %v", code, err)
			continue
		}
		e := exps[0]
		if strings.Contains(code, "XXX") || strings.Contains(code, "YYY") {
			if e.Pattern == nil || e.Pattern.Meaning == "" || e.Pattern.Reference != row["defining_section"] {
				t.Errorf("codes %s: bad pattern explanation %+v", code, e.Pattern)
			}
			continue
		}
		check := func(e *Explanation, what string) {
			s := e.Status
			switch {
			case s == nil || s.Fallback != "":
				t.Errorf("%s: no registered explanation", what)
			case s.Name == "" || s.Meaning == "" || s.Action == "" || e.Action == "":
				t.Errorf("%s: empty explanation %+v", what, s)
			case s.RegistryName != row["summary"] || s.Reference != row["defining_section"] ||
				s.Standard != row["reference"] || s.AssociatedCodes != row["associated_basic_codes"]:
				t.Errorf("%s: facts differ from the reference: %+v", what, s)
			}
		}
		check(e, "codes "+code)
		for _, class := range []string{"2", "4", "5"} {
			c := class + strings.TrimPrefix(code, "X")
			exps, err := Lookup([]string{c})
			if err != nil || len(exps) != 1 {
				t.Errorf("codes %s: %v", c, err)
				continue
			}
			check(exps[0], "codes "+c)
		}
	}
}

// TestOwnWords checks that no explanation repeats a run of eight words from
// the reference's descriptions: the project explains in its own words.
func TestOwnWords(t *testing.T) {
	var theirs []string
	for _, r := range readRef(t, "codes-basic.tsv") {
		theirs = append(theirs, r["short_text"], r["meaning"], r["notes"])
	}
	for _, r := range readRef(t, "codes-enhanced.tsv") {
		theirs = append(theirs, r["description"])
	}
	grams := map[string]bool{}
	for _, s := range theirs {
		for _, g := range ngrams(s, 8) {
			grams[g] = true
		}
	}
	var ours []string
	for _, w := range basicTexts {
		ours = append(ours, w.Meaning, w.Action)
	}
	for _, w := range enhancedTexts {
		ours = append(ours, w.Meaning, w.Action)
	}
	for _, s := range ours {
		for _, g := range ngrams(s, 8) {
			if grams[g] {
				t.Errorf("explanation repeats reference wording %q: %s", g, s)
			}
		}
	}
}

func ngrams(s string, n int) []string {
	w := strings.Fields(strings.ToLower(regexp.MustCompile(`[^\pL\pN ]+`).ReplaceAllString(s, " ")))
	var out []string
	for i := 0; i+n <= len(w); i++ {
		out = append(out, strings.Join(w[i:i+n], " "))
	}
	return out
}
