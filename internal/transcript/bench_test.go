package transcript

import (
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
