package transcript

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// The escaper runs on every line shown; a plain ASCII line must cost no
// allocation.
func BenchmarkEscapeASCII(b *testing.B) {
	line := "250-mx.example.com Hello client.example.org [192.0.2.1], pleased to meet you"
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if Escape(line) != line {
			b.Fatal("changed")
		}
	}
}

func BenchmarkEscapeUTF8(b *testing.B) {
	line := "250 2.0.0 Nachricht für Jürgen angenommen, Größe " + strings.Repeat("ü", 20)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		Escape(line)
	}
}

func BenchmarkEscapeControls(b *testing.B) {
	line := "550 \x1b[31mred\x1b[0m \u202eevil\u202c tab\there"
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		Escape(line)
	}
}

func benchEvents() []JSONEvent {
	var evs []JSONEvent
	for i := 0; i < 20; i++ {
		evs = append(evs, JSONEvent{Dir: "received", TimeMS: 1.25, Line: "250 2.1.5 Recipient <bob@example.com> ok, für Jürgen", Code: 250})
	}
	return evs
}

// The escaping pass over the encoder's output, against the encoder alone.
func BenchmarkMarshalJSON(b *testing.B) {
	evs := benchEvents()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := MarshalJSON(evs); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodingJSON(b *testing.B) {
	evs := benchEvents()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(evs); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshalJSONASCII(b *testing.B) {
	evs := benchEvents()
	for i := range evs {
		evs[i].Line = "250 2.1.5 Recipient <bob@example.com> ok, for Juergen"
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := MarshalJSON(evs); err != nil {
			b.Fatal(err)
		}
	}
}
