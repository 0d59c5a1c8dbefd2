package verify

import (
	"bytes"
	"encoding/csv"
	"slices"
	"strings"
	"testing"

	"github.com/smtpx/smtpx/internal/address"
	"github.com/smtpx/smtpx/internal/session"
)

func TestCSVCellNeverAFormula(t *testing.T) {
	for in, want := range map[string]string{
		"=HYPERLINK(\"x\")": "'=HYPERLINK(\"x\")",
		"+1":                "'+1",
		"-2":                "'-2",
		"@SUM(A1)":          "'@SUM(A1)",
		"550 no such user":  "550 no such user",
		"\x1b[2J":           `\x1b[2J`,
		"\t=1+1":            `\t=1+1`,
		"\r=1+1":            `\r=1+1`,
		"":                  "",
	} {
		if got := csvCell(in); got != want {
			t.Errorf("csvCell(%q) = %q, want %q", in, got, want)
		}
	}
}

// dangerous lists, independently of the code under test, the first
// characters a spreadsheet runs as a formula.
var dangerous = []string{"=", "+", "-", "@", "\t", "\r"}

// TestCSVEveryColumnGuarded puts a hostile value in every field that feeds
// a column and checks every cell of the row, column by column of the
// header, and again after a round trip through a CSV reader, which is what
// a spreadsheet sees.
func TestCSVEveryColumnGuarded(t *testing.T) {
	for _, lead := range dangerous {
		hostile := lead + "cmd|'/Ccalc'!A0"
		catch := true
		r := &Result{
			Line:      7,
			Input:     hostile + "@b.example",
			Address:   address.Address{Local: hostile, Domain: "b.example", ASCIIDomain: "b.example"},
			Verdict:   Verdict(hostile),
			Reason:    hostile,
			MX:        lead + "2+3.g.example",
			MXAddress: hostile,
			CatchAll:  &catch,
			Reply:     &session.Reply{Code: 550, Enhanced: hostile, Lines: []string{hostile}},
		}
		rec := r.CSVRecord(5)
		if len(rec) != len(CSVHeader) {
			t.Fatalf("%d cells for %d columns", len(rec), len(CSVHeader))
		}
		var buf bytes.Buffer
		w, err := NewCSV(&buf)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		w.Flush()
		rows, err := csv.NewReader(&buf).ReadAll()
		if err != nil || len(rows) != 2 {
			t.Fatalf("read back %d rows: %v", len(rows), err)
		}
		for i, col := range CSVHeader {
			for _, cell := range []string{rec[i], rows[1][i]} {
				for _, d := range dangerous {
					if strings.HasPrefix(cell, d) {
						t.Errorf("lead %q: column %s is %q, a formula", lead, col, cell)
					}
				}
			}
		}
		// The guard must neutralise the free text, not drop it.
		for _, col := range []string{"input", "address", "verdict", "enhanced", "text", "reason", "mx"} {
			i := slices.Index(CSVHeader, col)
			if i < 0 {
				t.Fatalf("no column %s", col)
			}
			if !strings.Contains(rec[i], "cmd|") && !strings.Contains(rec[i], "2+3.g.example") {
				t.Errorf("lead %q: column %s lost its text: %q", lead, col, rec[i])
			}
		}
	}
}
