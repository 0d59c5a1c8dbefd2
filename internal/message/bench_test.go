package message

import (
	"io"
	"os"
	"path/filepath"
	"testing"
)

func BenchmarkBuildDefault(b *testing.B) {
	o := defaultOptions()
	b.ReportAllocs()
	for b.Loop() {
		m, err := Build(o)
		if err != nil {
			b.Fatal(err)
		}
		m.Close()
	}
}

// BenchmarkOpenAttachment measures one Open and full read of a message
// with a 1 MiB attachment, the work done per send in load mode.
func BenchmarkOpenAttachment(b *testing.B) {
	p := filepath.Join(b.TempDir(), "a.bin")
	data := make([]byte, 1<<20)
	for i := range data {
		data[i] = byte(i * 31)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		b.Fatal(err)
	}
	o := defaultOptions()
	o.Attachments = []Attachment{{Path: p}}
	m := build(b, o)
	buf := make([]byte, 32<<10)
	b.SetBytes(m.Size())
	b.ReportAllocs()
	for b.Loop() {
		r, err := m.Open()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{r}, buf); err != nil {
			b.Fatal(err)
		}
		r.Close()
	}
}

// BenchmarkDataOpen measures reading a 1 MiB --data message with bare LF
// line ends, normalised on the way.
func BenchmarkDataOpen(b *testing.B) {
	p := filepath.Join(b.TempDir(), "m.eml")
	data := make([]byte, 1<<20)
	for i := range data {
		data[i] = 'a' + byte(i%26)
		if i%80 == 79 {
			data[i] = '\n'
		}
	}
	os.WriteFile(p, data, 0o644)
	d, err := NewDataFile(p)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	buf := make([]byte, 32<<10)
	b.SetBytes(d.Size())
	b.ReportAllocs()
	for b.Loop() {
		r, _ := d.Open()
		if _, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{r}, buf); err != nil {
			b.Fatal(err)
		}
		r.Close()
	}
}

// BenchmarkNewDataFile measures scanning an 8 MiB --data file (size,
// 8-bit content, longest line) before it is sent.
func BenchmarkNewDataFile(b *testing.B) {
	p := filepath.Join(b.TempDir(), "m.eml")
	data := make([]byte, 8<<20)
	for i := range data {
		data[i] = 'a' + byte(i%26)
		if i%78 == 76 {
			data[i] = '\r'
		}
		if i%78 == 77 {
			data[i] = '\n'
		}
	}
	copy(data, "From: a@example.org\r\nSubject: big\r\n\r\n")
	os.WriteFile(p, data, 0o644)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		d, err := NewDataFile(p)
		if err != nil {
			b.Fatal(err)
		}
		d.Close()
	}
}
