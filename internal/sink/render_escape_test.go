package sink

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// What a client sends reaches the sink's JSON records and human lines with
// DEL, C1, bidi and other invisible format characters escaped (issue 14).
func TestPrinterEscapesInvisible(t *testing.T) {
	const subject = "pay \u202eevil\u202c \u200b\ufeff\u00ad\u061c \x7f\u0085 \U000e0041"
	var human, js bytes.Buffer
	p := &Printer{Human: &human, JSON: &js, Summaries: true, Verbose: true}
	p.Message(&Record{Seq: 1, Conn: 1, MailFrom: "a\u200f@example.org", Headers: Headers{Subject: subject}})
	p.Line(Line{Conn: 1, Dir: FromClient, Text: "EHLO \u2066x\u2069"})
	const wantJSON = `"subject":"pay \u202eevil\u202c \u200b\ufeff\u00ad\u061c \u007f\u0085 \udb40\udc41"`
	if !strings.Contains(js.String(), wantJSON) || !strings.Contains(js.String(), `"mail_from":"a\u200f@example.org"`) {
		t.Errorf("JSON not escaped:\n%s", js.String())
	}
	var rec Record
	if err := json.Unmarshal(js.Bytes(), &rec); err != nil || rec.Headers.Subject != subject {
		t.Errorf("JSON decodes to %q, %v", rec.Headers.Subject, err)
	}
	for _, want := range []string{`subject: pay \u202eevil\u202c \u200b\ufeff\u00ad\u061c \x7f\u0085 \U000e0041`, `from:    <a\u200f@example.org>`, `EHLO \u2066x\u2069`} {
		if !strings.Contains(human.String(), want) {
			t.Errorf("human output lacks %s:\n%s", want, human.String())
		}
	}
}
