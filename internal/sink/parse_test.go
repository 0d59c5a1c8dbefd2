package sink

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestParseListen(t *testing.T) {
	for _, tt := range []struct{ in, network, addr string }{
		{"127.0.0.1:2525", "tcp", "127.0.0.1:2525"},
		{"[::1]:25", "tcp", "[::1]:25"},
		{":2525", "tcp", ":2525"},
		{"localhost:0", "tcp", "localhost:0"},
		{"unix:/tmp/s.sock", "unix", "/tmp/s.sock"},
		{"/run/sink.sock", "unix", "/run/sink.sock"},
	} {
		a, err := ParseListen(tt.in)
		if err != nil || a.Network != tt.network || a.Address != tt.addr {
			t.Errorf("ParseListen(%q) = %+v, %v", tt.in, a, err)
		}
	}
	for _, bad := range []string{"", "127.0.0.1", "::1", "host:port", "h:99999", "unix:", "a b:25"} {
		if a, err := ParseListen(bad); err == nil {
			t.Errorf("ParseListen(%q) = %+v, want error", bad, a)
		}
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "1000": 1000, "512K": 512 << 10, "10M": 10 << 20, "10MB": 10 << 20,
		"1g": 1 << 30, "2KiB": 2 << 10, " 7 ": 7} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "-1", "ten", "1T", "10MM", "99999999999999999G"} {
		if got, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) = %d, want error", bad, got)
		}
	}
}

func TestParseDelay(t *testing.T) {
	for in, want := range map[string]string{"rcpt:2s": "rcpt 2s", "DATA:500ms": "data 500ms", "helo:1m": "ehlo 1m0s",
		"banner:0s": "connect 0s", "auth:1s": "auth 1s", "mail:1s": "mail 1s"} {
		n, d, err := ParseDelay(in)
		if err != nil || n+" "+d.String() != want {
			t.Errorf("ParseDelay(%q) = %s %s, %v; want %s", in, n, d, err, want)
		}
	}
	for _, bad := range []string{"rcpt", "rcpt:", "quit:1s", "rcpt:-1s", "rcpt:soon", ":1s"} {
		if _, _, err := ParseDelay(bad); err == nil {
			t.Errorf("ParseDelay(%q) accepted", bad)
		}
	}
}

func TestParseAuth(t *testing.T) {
	u, p, err := ParseAuth("alice:pa:ss")
	if err != nil || u != "alice" || p != "pa:ss" {
		t.Errorf("got %q %q %v", u, p, err)
	}
	if _, _, err := ParseAuth(":x"); err == nil {
		t.Error("empty user accepted")
	}
	if _, _, err := ParseAuth("alice:secret-but-no"); err != nil {
		t.Error(err)
	}
	_, _, err = ParseAuth("nocolon")
	if err == nil {
		t.Fatal("no colon accepted")
	}
}

const mimeMsg = "From: =?UTF-8?Q?J=C3=BCrgen?= <j@example.org>\r\n" +
	"To: a@example.com\r\nTo: b@example.com\r\nCc: c@example.com\r\n" +
	"Subject: =?UTF-8?B?R3LDvMOfZQ==?= and more\r\n" +
	"Date: Mon, 1 Jan 2024 10:00:00 +0000\r\nMessage-ID: <1@example.org>\r\n" +
	"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=OUTER\r\n\r\n" +
	"--OUTER\r\nContent-Type: multipart/alternative; boundary=INNER\r\n\r\n" +
	"--INNER\r\nContent-Type: text/plain\r\n\r\nhello\r\n" +
	"--INNER\r\nContent-Type: text/html\r\n\r\n<p>hello</p>\r\n--INNER--\r\n" +
	"--OUTER\r\nContent-Type: application/pdf; name=ignored.pdf\r\n" +
	"Content-Disposition: attachment; filename=\"report.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
	"aGVsbG8g\r\nd29ybGQ=\r\n" +
	"--OUTER\r\nContent-Type: image/png\r\nContent-Disposition: inline; filename*=UTF-8''%E2%82%AC.png\r\n\r\nPNG\r\n" +
	"--OUTER\r\nContent-Type: text/plain; name=notes.txt\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\na=3Db\r\n" +
	"--OUTER--\r\n"

func TestInspect(t *testing.T) {
	var rec Record
	inspect(strings.NewReader(mimeMsg), &rec)
	want := Headers{Subject: "Grüße and more", From: "Jürgen <j@example.org>", To: "a@example.com, b@example.com",
		Cc: "c@example.com", Date: "Mon, 1 Jan 2024 10:00:00 +0000", MessageID: "<1@example.org>"}
	if rec.Headers != want {
		t.Errorf("headers\n got %+v\nwant %+v", rec.Headers, want)
	}
	got, _ := json.Marshal(rec.Attachments)
	const wantAtt = `[{"filename":"report.pdf","content_type":"application/pdf","size":11},` +
		`{"filename":"€.png","content_type":"image/png","size":3},` +
		`{"filename":"notes.txt","content_type":"text/plain","size":3}]`
	if string(got) != wantAtt {
		t.Errorf("attachments\n got %s\nwant %s", got, wantAtt)
	}
}

func TestInspectMalformed(t *testing.T) {
	for _, m := range []string{"", "no header\r\n", "Subject: x\r\nContent-Type: multipart/mixed\r\n\r\nno boundary",
		"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nbroken", "Subject: =?bogus?Q?x?=\r\n\r\n"} {
		var rec Record
		inspect(strings.NewReader(m), &rec)
		if rec.Attachments == nil {
			t.Errorf("%q: attachments must be [] not null", m)
		}
	}
}

func TestInspectDeepNesting(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 200; i++ {
		b.WriteString("Content-Type: multipart/mixed; boundary=B" + strings.Repeat("x", i) + "\r\n\r\n--B" + strings.Repeat("x", i) + "\r\n")
	}
	var rec Record
	inspect(strings.NewReader(b.String()), &rec) // must return, not recurse without end
}

func TestPrinterEscapesAndJSON(t *testing.T) {
	var human, js bytes.Buffer
	p := &Printer{Human: &human, JSON: &js, Summaries: true, Verbose: true}
	rec := &Record{Seq: 1, Conn: 2, Size: 10, Protocol: "ESMTPS", TLS: true, TLSVersion: "TLS 1.3", TLSCipher: "X",
		MailFrom: "evil\x1b[31m@example.org", RcptTo: []string{"b@example.com"},
		Headers:     Headers{Subject: "hi \x1b]0;title\x07 <&>"},
		Attachments: []Attachment{{Filename: "a\x1b.txt", ContentType: "text/plain", Size: 1}},
		Path:        "out/x.eml", Received: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)}
	p.Message(rec)
	p.Line(Line{Conn: 2, Dir: FromClient, Text: "EHLO \x1b[2J"})
	p.Line(Line{Conn: 2, Dir: ToClient, TLS: true, Text: "250 ok", Code: 250})
	p.Refused(Refusal{Conn: 2, Stage: "RCPT", Arg: "x\x07@y", Code: 550, Enhanced: "5.1.1", Reason: "--reject-rcpt"})
	if strings.ContainsAny(human.String(), "\x1b\x07") {
		t.Errorf("control characters reached the terminal:\n%q", human.String())
	}
	want := `[2] message 1 accepted, 10 bytes
    from:    <evil\x1b[31m@example.org>
    to:      <b@example.com>
    subject: hi \x1b]0;title\x07 <&>
    files:   a\x1b.txt (text/plain, 1 bytes)
    via:     ESMTPS, TLS 1.3 X
    saved:   out/x.eml
<-  [2] EHLO \x1b[2J
 ~> [2] 250 ok
[2] RCPT TO:<x\x07@y> refused: 550 5.1.1 (--reject-rcpt)
`
	if human.String() != want {
		t.Errorf("human output\n got:\n%s\nwant:\n%s", human.String(), want)
	}
	var m map[string]any
	if err := json.Unmarshal(js.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"seq", "received", "conn", "remote", "local", "helo", "protocol", "tls", "tls_version", "tls_cipher",
		"auth_user", "mail_from", "rcpt_to", "body", "smtputf8", "chunking", "size", "sha256", "path", "headers", "attachments"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	if !strings.Contains(js.String(), `"subject":"hi \u001b]0;title\u0007 <&>"`) || strings.Count(js.String(), "\n") != 1 {
		t.Errorf("JSON line %s", js.String())
	}
}

// FuzzTranscriber feeds arbitrary client bytes and replies through the
// transcript reconstruction: it must never panic or keep unbounded state.
func FuzzTranscriber(f *testing.F) {
	f.Add([]byte("EHLO x\r\nBDAT 5 LAST\r\nab\ncdQUIT\r\n"), []byte("354 go\r\n"))
	f.Add([]byte("AUTH LOGIN\r\nc2VjcmV0\r\n"), []byte("334 VXNlcm5hbWU6\r\n"))
	f.Add([]byte("DATA\r\n"+strings.Repeat("x", 10000)+"\r\n.\r\n"), []byte("220 \r\n"))
	f.Add([]byte("BDAT 4294967295\r\n"), []byte("2"))
	f.Fuzz(func(t *testing.T, client, server []byte) {
		s := &Sink{o: Options{Transcript: true}, obs: nopObserver{}}
		c := &conn{s: s}
		c.tr.c = c
		for i := 0; i < len(client) || i < len(server); i += 7 {
			if i < len(client) {
				c.tr.Write(client[i:min(i+7, len(client))])
			}
			if i < len(server) {
				c.wrote.Store(true)
				c.tr.Write(server[i:min(i+7, len(server))])
			}
		}
		if len(c.tr.rx) > maxLine {
			t.Fatalf("kept %d bytes of partial line", len(c.tr.rx))
		}
	})
}

// FuzzInspect: any message bytes give a record, never a panic.
func FuzzInspect(f *testing.F) {
	f.Add(mimeMsg)
	f.Add("Subject: x\r\n\r\nbody")
	f.Fuzz(func(t *testing.T, m string) {
		var rec Record
		inspect(strings.NewReader(m), &rec)
	})
}
