package message

import (
	"bytes"
	"net/http"
	"os"
	"strings"
	"testing"
)

// sniffBytes agrees with net/http's DetectContentType (the WHATWG
// algorithm, which it replaces) on the formats it knows and on text and
// binary data; tests may link net/http, the binary does not.
func TestSniffAgreesWithNetHTTP(t *testing.T) {
	png, err := os.ReadFile("testdata/logo.png")
	if err != nil {
		t.Fatal(err)
	}
	cut := []byte(strings.Repeat("a", 511) + "é") // é cut at byte 512
	for _, data := range [][]byte{
		png, []byte("%PDF-1.7\n%\xe2\xe3"), []byte("\xff\xd8\xff\xe0\x00\x10JFIF"), []byte("GIF89a\x01\x00"), []byte("GIF87a"),
		[]byte("PK\x03\x04\x14\x00"), []byte("\x1f\x8b\x08\x00\x00"), []byte("RIFF\x10\x00\x00\x00WEBPVP8 "), []byte("%!PS-Adobe-3.0\n"),
		[]byte("just text\n"), []byte("tab\tff\fcr\r\nesc\x1b[0m\n"), []byte("Grüße, 世界\n"), []byte{}, cut[:512],
		{0, 1, 2, 0xff}, []byte("text\x00with a NUL"), []byte("bell\x07"), []byte("\x7fELF\x02\x01\x01"),
	} {
		got, want := sniffBytes(data), http.DetectContentType(data)
		if got != want {
			t.Errorf("%q: %q, net/http says %q", data[:min(len(data), 20)], got, want)
		}
	}
	// Where they part: text that is not UTF-8 is not declared UTF-8.
	if got := sniffBytes([]byte("caf\xe9 latin-1\n")); got != "application/octet-stream" {
		t.Errorf("latin-1 text: %q", got)
	}
	if !bytes.HasPrefix([]byte(sniffBytes(nil)), []byte("text/plain")) {
		t.Error("empty file")
	}
}
