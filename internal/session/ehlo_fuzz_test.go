package session

import (
	"bufio"
	"strconv"
	"strings"
	"testing"
)

// FuzzParseEHLO feeds any bytes through the reply reader and, when they
// make a reply, through ParseEHLO and every accessor: nothing panics, the
// list is bounded by the reply's lines, keywords are upper-case and found
// again case-insensitively, AUTH mechanisms are unique and upper-case, and
// SIZE never overflows (a SIZE of 2^70 is "no usable limit", not a wrap).
func FuzzParseEHLO(f *testing.F) {
	for _, s := range []string{
		"250-mx.example.com\r\n250-PIPELINING\r\n250-SIZE 52428800\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
		"250-mx\r\n250-AUTH=LOGIN PLAIN\r\n250-auth plain cram-md5 PLAIN\r\n250 \r\n",
		"250-mx\r\n250-SIZE 1180591620717411303424\r\n250 SIZE -1\r\n",
		"250-mx\r\n250-SIZE\r\n250 size 0\r\n",
		"250-mx \x1b]0;pwned\x07\r\n250-X-\x00\xff\xfe\r\n250 STARTTLS\n",
		"250-mx\r\n250-   \r\n250-\t\r\n250 AUTH=\r\n",
		"250 mx only\r\n",
		"250-mx\r\n251 mismatch\r\n",
		"250-mx\r\n250-AUTH\r\n250 AUTH= =\r\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		rr := &ReplyReader{R: bufio.NewReaderSize(strings.NewReader(in), 16), MaxLineLen: 256, MaxLines: 64}
		r, _, err := rr.ReadReply()
		if err != nil {
			return
		}
		ext := ParseEHLO(r)
		if len(ext) > len(r.Lines) {
			t.Fatalf("%d extensions from %d lines", len(ext), len(r.Lines))
		}
		for _, x := range ext {
			if x.Keyword == "" || x.Keyword != strings.ToUpper(x.Keyword) {
				t.Fatalf("keyword %q is empty or not upper-case", x.Keyword)
			}
			if strings.ContainsAny(x.Keyword, " \t\r\n") {
				t.Fatalf("keyword %q holds white space", x.Keyword)
			}
			for _, k := range []string{x.Keyword, strings.ToLower(x.Keyword)} {
				if !ext.Has(k) {
					t.Fatalf("Has(%q) is false for an advertised keyword", k)
				}
			}
		}
		if n, ok := ext.Size(); ok {
			x, _ := ext.Get("SIZE")
			want := "0"
			if len(x.Params) > 0 {
				if want = strings.TrimLeft(x.Params[0], "0"); want == "" {
					want = "0"
				}
			}
			if got := strconv.FormatUint(n, 10); got != want {
				t.Fatalf("SIZE %s from params %q", got, x.Params)
			}
		}
		seen := map[string]bool{}
		for _, m := range ext.AuthMechanisms() {
			if m == "" || m != strings.ToUpper(m) || seen[m] {
				t.Fatalf("mechanisms %q: empty, lower-case or repeated", ext.AuthMechanisms())
			}
			seen[m] = true
		}
		if kw := ext.Keywords(); len(kw) != len(ext) {
			t.Fatalf("Keywords() has %d, the list %d", len(kw), len(ext))
		}
	})
}
