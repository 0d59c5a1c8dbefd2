package message

import (
	"bytes"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// fixedDate is the date of every golden message.
var fixedDate = time.Date(2026, 3, 14, 15, 9, 26, 0, time.FixedZone("", 3600))

// readAll opens s and returns every byte, failing the test on error.
func readAll(t testing.TB, s Source) []byte {
	t.Helper()
	r, err := s.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// build builds o and closes the message when the test ends.
func build(t testing.TB, o Options) *Message {
	t.Helper()
	m, err := Build(o)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n--- got ---\n%s\n--- want ---\n%s", name, got, want)
	}
}

// checkWire checks properties every message must have on the wire: only
// CRLF line ends, no line over 998 octets, Size equal to the bytes.
func checkWire(t *testing.T, s Source, b []byte) {
	t.Helper()
	if int64(len(b)) != s.Size() {
		t.Errorf("Size() = %d, Open yielded %d bytes", s.Size(), len(b))
	}
	if len(b) > 0 && !bytes.HasSuffix(b, []byte("\r\n")) {
		t.Errorf("message does not end with CRLF: %q", tail(b))
	}
	for i, line := range strings.Split(string(b), "\r\n") {
		if strings.ContainsAny(line, "\r\n") {
			t.Errorf("line %d has a bare CR or LF: %q", i+1, line)
		}
		if len(line) > hardLimit {
			t.Errorf("line %d is %d octets long", i+1, len(line))
		}
	}
}

// checkFolding checks that header lines are longer than 78 characters
// only when they hold a single word that cannot be folded.
func checkFolding(t *testing.T, msg []byte) {
	t.Helper()
	head, _, _ := bytes.Cut(msg, []byte("\r\n\r\n"))
	for _, l := range strings.Split(string(head), "\r\n") {
		if len(l) <= softLimit {
			continue
		}
		if l[0] != ' ' && l[0] != '\t' {
			_, l, _ = strings.Cut(l, ":")
		}
		if strings.ContainsAny(strings.TrimLeft(l, " \t"), " \t") {
			t.Errorf("foldable line over 78: %q", l)
		}
	}
}

func tail(b []byte) []byte { return b[max(0, len(b)-40):] }

func defaultOptions() Options {
	return Options{
		From:      "alice@example.com",
		To:        []string{"bob@example.org"},
		Date:      fixedDate,
		MessageID: "20260314150926.abc@client.example.com",
		UserAgent: "smtpx/test",
	}
}

func TestGoldenDefault(t *testing.T) {
	m := build(t, defaultOptions())
	b := readAll(t, m)
	golden(t, "default.eml", b)
	checkWire(t, m, b)
	if m.EightBit() || m.UTF8Headers() {
		t.Errorf("EightBit=%v UTF8Headers=%v for an ASCII message", m.EightBit(), m.UTF8Headers())
	}
	if m.MessageID() != "20260314150926.abc@client.example.com" {
		t.Errorf("MessageID() = %q", m.MessageID())
	}
}

func fullOptions() Options {
	o := defaultOptions()
	o.From = "Jörg Müller <joerg@example.com>"
	o.To = []string{"Bob <bob@example.org>", `"Doe, Jane" <jane@example.org>`}
	o.Cc = []string{"carol@example.net"}
	o.Subject = "Grüße: the March report"
	o.Body = Text("Hello,\n\nsee the attached report.\n")
	o.HTML = Text("<p>Hello,</p>\n<p><img src=\"cid:logo.png\" alt=\"logo\"></p>\n")
	o.Attachments = []Attachment{
		{Path: "testdata/logo.png", Inline: true},
		{Path: "testdata/report.pdf", Type: "application/pdf"},
		{Path: "testdata/notes.txt", Name: "Notizen für März.txt", Type: "text/plain; charset=utf-8"},
	}
	return o
}

func TestGoldenFull(t *testing.T) {
	m := build(t, fullOptions())
	b := readAll(t, m)
	golden(t, "full.eml", b)
	checkWire(t, m, b)
	if m.EightBit() || m.UTF8Headers() {
		t.Errorf("EightBit=%v UTF8Headers=%v: display names and subject must be encoded", m.EightBit(), m.UTF8Headers())
	}
}

func TestDeterministic(t *testing.T) {
	a := readAll(t, build(t, fullOptions()))
	m := build(t, fullOptions())
	b := readAll(t, m)
	c := readAll(t, m)
	if !bytes.Equal(a, b) || !bytes.Equal(b, c) {
		t.Fatal("the same options or a second Open gave different bytes")
	}
	o := fullOptions()
	o.MessageID = "other@client.example.com"
	d := readAll(t, build(t, o))
	if bytes.Equal(boundaryOf(t, a), boundaryOf(t, d)) {
		t.Error("a different Message-ID gave the same boundary")
	}
}

func boundaryOf(t *testing.T, msg []byte) []byte {
	t.Helper()
	_, after, ok := bytes.Cut(msg, []byte(`boundary="`))
	if !ok {
		t.Fatal("no boundary")
	}
	b, _, _ := bytes.Cut(after, []byte(`"`))
	return b
}

func TestDefaults(t *testing.T) {
	before := time.Now().Add(-time.Second)
	m := build(t, Options{From: "a@example.com", To: []string{"b@example.com"}, Host: "client.example.com"})
	msg, err := mail.ReadMessage(bytes.NewReader(readAll(t, m)))
	if err != nil {
		t.Fatal(err)
	}
	date, err := msg.Header.Date()
	if err != nil || date.Before(before) || date.After(time.Now().Add(time.Second)) {
		t.Errorf("Date = %v, %v; want about now", date, err)
	}
	if want := "smtpx test " + msg.Header.Get("Date"); msg.Header.Get("Subject") != want {
		t.Errorf("Subject = %q, want %q", msg.Header.Get("Subject"), want)
	}
	id := msg.Header.Get("Message-ID")
	if !strings.HasSuffix(id, "@client.example.com>") || len(id) < 30 || "<"+m.MessageID()+">" != id {
		t.Errorf("Message-ID = %q, MessageID() = %q", id, m.MessageID())
	}
	if msg.Header.Get("User-Agent") != "" {
		t.Error("User-Agent without Options.UserAgent")
	}
	body, _ := io.ReadAll(msg.Body)
	if string(body) != DefaultBody+"\r\n" {
		t.Errorf("body = %q", body)
	}
	m2 := build(t, Options{From: "a@example.com"})
	if !strings.HasSuffix(m2.MessageID(), "@localhost") || m2.MessageID() == m.MessageID() {
		t.Errorf("second MessageID() = %q", m2.MessageID())
	}
}

// headerNames lists the header field names of msg in order.
func headerNames(msg []byte) []string {
	head, _, _ := bytes.Cut(msg, []byte("\r\n\r\n"))
	var names []string
	for _, l := range strings.Split(string(head), "\r\n") {
		if l != "" && l[0] != ' ' && l[0] != '\t' {
			n, _, _ := strings.Cut(l, ":")
			names = append(names, n)
		}
	}
	return names
}

func TestHeaderOrderReplaceAddRemove(t *testing.T) {
	o := defaultOptions()
	o.Cc = []string{"c@example.com"}
	o.Headers = []string{"subject: Replaced", "X-Test: one", "User-Agent:", "X-Test: two", "Cc: d@example.com, \"E, F\" <e@example.com>"}
	o.AddHeaders = []string{"Subject: second subject", "X-Empty:", "Received: from x by y; Sat, 14 Mar 2026 15:09:26 +0100",
		"Bcc: undisclosed-recipients:;", "List-Unsubscribe: <https://example.com/" + strings.Repeat("u", 90) + ">"}
	b := readAll(t, build(t, o))
	want := []string{"Date", "From", "To", "Cc", "subject", "Message-ID", "MIME-Version",
		"Content-Type", "Content-Transfer-Encoding", "X-Test", "X-Test", "Subject", "X-Empty", "Received", "Bcc", "List-Unsubscribe"}
	if got := headerNames(b); !slices.Equal(got, want) {
		t.Errorf("header names:\n got %q\nwant %q", got, want)
	}
	for _, s := range []string{"\r\nsubject: Replaced\r\n", "\r\nX-Test: one\r\nX-Test: two\r\n",
		"\r\nCc: d@example.com, \"E, F\" <e@example.com>\r\n", "\r\nSubject: second subject\r\n", "\r\nX-Empty:\r\n",
		"\r\nBcc: undisclosed-recipients:;\r\n", "\r\nList-Unsubscribe: <https://example.com/" + strings.Repeat("u", 90) + ">\r\n"} {
		if !bytes.Contains(b, []byte(s)) {
			t.Errorf("missing %q in\n%s", s, b)
		}
	}
	if bytes.Contains(b, []byte("c@example.com")) && !bytes.Contains(b, []byte("\r\nCc: d@")) {
		t.Error("the default Cc was not replaced")
	}

	// Removing every default leaves only the body's separation.
	o = defaultOptions()
	for _, n := range []string{"Date", "From", "To", "Subject", "Message-ID", "MIME-Version", "User-Agent", "Content-Type", "Content-Transfer-Encoding"} {
		o.Headers = append(o.Headers, n+":")
	}
	m := build(t, o)
	b = readAll(t, m)
	if want := "\r\n" + DefaultBody + "\r\n"; string(b) != want {
		t.Errorf("all headers removed: got %q, want %q", b, want)
	}
	checkWire(t, m, b)
}

func TestEncodedHeadersDecode(t *testing.T) {
	names := []string{
		"Jörg Müller", "Doe, Jane", `Quote "me" \ please`, "李小龍", "=?utf-8?q?not_encoded?=",
		"Ünïcödé " + strings.Repeat("lang ", 30), strings.Repeat("x", 120), "a.b", "Ann",
	}
	subjects := []string{
		"Grüße aus Köln", "plain ASCII subject", "emoji 🎉🎉🎉 party " + strings.Repeat("🎉", 40),
		"tabs\tand  double  spaces", "=?utf-8?q?looks_encoded?=", strings.Repeat("wörd ", 60),
		"ends with space ", "trailing ü ", "\x01control\x7f", strings.Repeat("y", 2000),
	}
	for i, s := range subjects {
		to := []string{}
		for j, n := range names {
			to = append(to, quoteString(n)+" <u"+strconv.Itoa(j)+"@example.org>")
		}
		o := defaultOptions()
		o.Subject = s
		o.From = quoteString(names[i%len(names)]) + " <from@example.com>"
		o.To = to
		m := build(t, o)
		b := readAll(t, m)
		checkWire(t, m, b)
		checkFolding(t, b)
		msg, err := mail.ReadMessage(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		var dec mime.WordDecoder
		got, err := dec.DecodeHeader(msg.Header.Get("Subject"))
		if err != nil || got != strings.TrimLeft(s, " ") && got != strings.TrimRight(s, " ") {
			t.Errorf("Subject %q decodes to %q (%v)", s, got, err)
		}
		list, err := msg.Header.AddressList("To")
		if err != nil {
			t.Fatalf("To does not parse: %v\n%s", err, b)
		}
		for j, a := range list {
			if a.Name != names[j] || a.Address != "u"+strconv.Itoa(j)+"@example.org" {
				t.Errorf("To[%d] = %q <%s>, want %q", j, a.Name, a.Address, names[j])
			}
		}
		from, err := mail.ParseAddress(msg.Header.Get("From"))
		if err != nil || from.Name != names[i%len(names)] {
			t.Errorf("From %q parses to %v, %v", msg.Header.Get("From"), from, err)
		}
		if m.UTF8Headers() {
			t.Errorf("UTF8Headers for encoded names")
		}
	}
}

func TestUTF8Addresses(t *testing.T) {
	o := defaultOptions()
	o.To = []string{"Jürgen <jürgen@bücher.example>"}
	m := build(t, o)
	b := readAll(t, m)
	if !m.UTF8Headers() || !m.EightBit() {
		t.Errorf("UTF8Headers=%v EightBit=%v, want true for a UTF-8 address", m.UTF8Headers(), m.EightBit())
	}
	if !bytes.Contains(b, []byte("To: =?utf-8?q?J=C3=BCrgen?= <jürgen@bücher.example>\r\n")) {
		t.Errorf("address not written as UTF-8:\n%s", b)
	}
	// A structured header given with UTF-8 stays raw too.
	o = defaultOptions()
	o.AddHeaders = []string{"Content-Language: ü"}
	if m := build(t, o); !m.UTF8Headers() {
		t.Error("raw UTF-8 in a structured header not reported")
	}
}

func TestRefusals(t *testing.T) {
	for _, tc := range []struct {
		name  string
		o     func(*Options)
		field string
	}{
		{"from CR", func(o *Options) { o.From = "a@example.com\r\nBcc: x@example.com" }, "From"},
		{"to LF", func(o *Options) { o.To = []string{"b@example.com", "c@example.com\nX: y"} }, "To"},
		{"cc CR", func(o *Options) { o.Cc = []string{"Name\r <c@example.com>"} }, "Cc"},
		{"subject", func(o *Options) { o.Subject = "hi\r\n\r\nbody" }, "Subject"},
		{"user agent", func(o *Options) { o.UserAgent = "x\ny" }, "UserAgent"},
		{"message id CR", func(o *Options) { o.MessageID = "a@b\r" }, "MessageID"},
		{"message id syntax", func(o *Options) { o.MessageID = "no-at-sign" }, "MessageID"},
		{"host", func(o *Options) { o.MessageID, o.Host = "", "bad host" }, "Host"},
		{"header value", func(o *Options) { o.Headers = []string{"X-A: b\r\nX-B: c"} }, "Headers"},
		{"header no colon", func(o *Options) { o.Headers = []string{"X-A b"} }, "Headers"},
		{"header space", func(o *Options) { o.Headers = []string{"X A: b"} }, "Headers"},
		{"header empty name", func(o *Options) { o.AddHeaders = []string{": b"} }, "AddHeaders"},
		{"header non-ASCII name", func(o *Options) { o.AddHeaders = []string{"X-Ä: b"} }, "AddHeaders"},
		{"header long name", func(o *Options) { o.AddHeaders = []string{strings.Repeat("X", 77) + ": b"} }, "AddHeaders"},
		{"add header LF", func(o *Options) { o.AddHeaders = []string{"X-A: b\n"} }, "AddHeaders"},
		{"attachment name", func(o *Options) { o.Attachments = []Attachment{{Path: "testdata/logo.png", Name: "a\r\nb.png"}} }, "Attachments"},
		{"attachment cid", func(o *Options) {
			o.Attachments = []Attachment{{Path: "testdata/logo.png", Inline: true, ContentID: "x\n@y"}}
		}, "Attachments"},
		{"attachment cid chars", func(o *Options) {
			o.Attachments = []Attachment{{Path: "testdata/logo.png", Inline: true, ContentID: "x y"}}
		}, "Attachments"},
		{"attachment type", func(o *Options) { o.Attachments = []Attachment{{Path: "testdata/logo.png", Type: "image/png\r\nX: y"}} }, "Attachments"},
		{"attachment bad type", func(o *Options) { o.Attachments = []Attachment{{Path: "testdata/logo.png", Type: "png"}} }, "Attachments"},
		{"attachment missing", func(o *Options) { o.Attachments = []Attachment{{Path: "testdata/missing.png"}} }, "Attachments"},
		{"attachment dir", func(o *Options) { o.Attachments = []Attachment{{Path: "testdata"}} }, "Attachments"},
		{"address brackets", func(o *Options) { o.To = []string{"a<b@example.com"} }, "To"},
		{"two addresses", func(o *Options) { o.To = []string{"a@example.com, b@example.com"} }, "To"},
		{"empty address", func(o *Options) { o.To = []string{"Name <>"} }, "To"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := defaultOptions()
			tc.o(&o)
			m, err := Build(o)
			var ie *InputError
			if !errors.As(err, &ie) {
				m.Close()
				t.Fatalf("Build = %v, want an *InputError", err)
			}
			if ie.Field != tc.field {
				t.Errorf("Field = %q, want %q (%v)", ie.Field, tc.field, err)
			}
			if strings.ContainsAny(err.Error(), "\r\n") {
				t.Errorf("error text has a raw CR or LF: %q", err.Error())
			}
		})
	}
}

func TestTextEncodings(t *testing.T) {
	long := strings.Repeat("a", 999)
	for _, tc := range []struct {
		name, body string
		multi      bool
		cte        string
	}{
		{"ascii", "hello\nworld\n", false, "7bit"},
		{"ascii 998", strings.Repeat("a", 998), false, "7bit"},
		{"long line", long, false, "quoted-printable"},
		{"utf-8", "Grüße\n", false, "quoted-printable"},
		{"nul", "a\x00b", false, "quoted-printable"},
		{"marker alone", "a=_b", false, "7bit"},
		{"marker in multipart", "a=_b", true, "quoted-printable"},
		{"bare cr", "a\rb\r", false, "7bit"},
		{"empty", "", false, "7bit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := defaultOptions()
			o.Body = Text(tc.body)
			if tc.multi {
				o.HTML = Text("<p>x</p>")
			}
			m := build(t, o)
			b := readAll(t, m)
			checkWire(t, m, b)
			if !bytes.Contains(b, []byte("Content-Transfer-Encoding: "+tc.cte+"\r\n")) {
				t.Errorf("want %s in\n%s", tc.cte, b)
			}
			want := strings.NewReplacer("\r\n", "\r\n", "\r", "\r\n", "\n", "\r\n").Replace(tc.body)
			if !tc.multi && want != "" && !strings.HasSuffix(want, "\r\n") {
				want += "\r\n" // a message ends with a line end
			}
			if got := plainPart(t, b); got != want {
				t.Errorf("text part decodes to %q", got)
			}
		})
	}
}

// plainPart returns the decoded text/plain part of msg, wherever it is.
func plainPart(t *testing.T, msg []byte) string {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	walk(t, textproto.MIMEHeader(m.Header), m.Body, func(h textproto.MIMEHeader, body []byte) {
		if strings.HasPrefix(h.Get("Content-Type"), "text/plain") && h.Get("Content-Disposition") == "" {
			found = append(found, string(body))
		}
	})
	if len(found) != 1 {
		t.Fatalf("found %d text/plain parts", len(found))
	}
	return found[0]
}

// walk calls fn for each leaf of a MIME tree with its decoded body.
func walk(t *testing.T, h textproto.MIMEHeader, body io.Reader, fn func(textproto.MIMEHeader, []byte)) {
	t.Helper()
	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		t.Fatalf("Content-Type %q: %v", h.Get("Content-Type"), err)
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			walk(t, p.Header, p, fn)
		}
	}
	var r io.Reader = body
	switch h.Get("Content-Transfer-Encoding") {
	case "quoted-printable":
		r = quotedprintable.NewReader(body)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, body)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	fn(h, b)
}

func TestFullStructure(t *testing.T) {
	b := readAll(t, build(t, fullOptions()))
	m, err := mail.ReadMessage(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	type leaf struct{ ctype, disp, cid, body string }
	var got []leaf
	walk(t, textproto.MIMEHeader(m.Header), m.Body, func(h textproto.MIMEHeader, body []byte) {
		got = append(got, leaf{h.Get("Content-Type"), h.Get("Content-Disposition"), h.Get("Content-ID"), string(body)})
	})
	file := func(p string) string {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if len(got) != 5 {
		t.Fatalf("%d leaves, want 5: %+v", len(got), got)
	}
	if got[0].body != "Hello,\r\n\r\nsee the attached report.\r\n" || !strings.HasPrefix(got[1].ctype, "text/html") {
		t.Errorf("text parts: %+v", got[:2])
	}
	if got[2].body != file("testdata/logo.png") || got[2].cid != "<logo.png>" || !strings.HasPrefix(got[2].disp, "inline") {
		t.Errorf("inline image: %+v", got[2])
	}
	if got[3].body != file("testdata/report.pdf") || !strings.HasPrefix(got[3].ctype, "application/pdf") {
		t.Errorf("pdf: %+v", got[3])
	}
	_, params, err := mime.ParseMediaType(got[4].disp)
	if got[4].body != file("testdata/notes.txt") || err != nil || params["filename"] != "Notizen für März.txt" {
		t.Errorf("notes: %+v %v %v", got[4], params, err)
	}
}

func TestAttachmentNamesAndTypes(t *testing.T) {
	dir := t.TempDir()
	png, _ := os.ReadFile("testdata/logo.png")
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		at       Attachment
		wantType string
		wantName string
	}{
		{Attachment{Path: write("a.png", png)}, "image/png", "a.png"},
		{Attachment{Path: write("noext", png)}, "image/png", "noext"},
		{Attachment{Path: write("plain", []byte("just text\n"))}, "text/plain", "plain"},
		{Attachment{Path: write("bin", []byte{0, 1, 2, 0xff})}, "application/octet-stream", "bin"},
		{Attachment{Path: write("x.dat", png), Name: "shown.png"}, "image/png", "shown.png"},
		{Attachment{Path: write("y", png), Type: "application/x-custom; a=b"}, "application/x-custom", "y"},
		{Attachment{Path: write("m.eml", []byte("Subject: x\n\nbody\n")), Type: "message/rfc822"}, "application/octet-stream", "m.eml"},
		{Attachment{Path: write("long", png), Name: strings.Repeat("Überlänge ", 20) + ".png"}, "image/png", strings.Repeat("Überlänge ", 20) + ".png"},
		{Attachment{Path: write("long2", png), Name: strings.Repeat("ascii name ", 20) + "\"q\".png"}, "image/png", strings.Repeat("ascii name ", 20) + "\"q\".png"},
		{Attachment{Path: write("ctl", png), Name: "tab\there.png"}, "image/png", "tab\there.png"},
	} {
		o := defaultOptions()
		o.Attachments = []Attachment{tc.at}
		m := build(t, o)
		b := readAll(t, m)
		checkWire(t, m, b)
		msg, err := mail.ReadMessage(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		walk(t, textproto.MIMEHeader(msg.Header), msg.Body, func(h textproto.MIMEHeader, body []byte) {
			if h.Get("Content-Disposition") == "" {
				return
			}
			n++
			mt, cp, err := mime.ParseMediaType(h.Get("Content-Type"))
			if err != nil || mt != tc.wantType || cp["name"] != tc.wantName {
				t.Errorf("%s: Content-Type %q -> %q %v %v", tc.at.Path, h.Get("Content-Type"), mt, cp, err)
			}
			_, dp, err := mime.ParseMediaType(h.Get("Content-Disposition"))
			if err != nil || dp["filename"] != tc.wantName {
				t.Errorf("%s: Content-Disposition %q -> %v %v", tc.at.Path, h.Get("Content-Disposition"), dp, err)
			}
			if want, _ := os.ReadFile(tc.at.Path); !bytes.Equal(body, want) {
				t.Errorf("%s: content differs", tc.at.Path)
			}
		})
		if n != 1 {
			t.Errorf("%s: %d attachments", tc.at.Path, n)
		}
		for _, l := range strings.Split(string(b), "\r\n") {
			if len(l) > softLimit {
				t.Errorf("line over 78: %q", l)
			}
		}
	}
}

func TestInlineWithoutHTML(t *testing.T) {
	o := defaultOptions()
	o.Attachments = []Attachment{{Path: "testdata/logo.png", Inline: true, ContentID: "<img1@example.com>"}}
	b := readAll(t, build(t, o))
	for _, s := range []string{"multipart/mixed", "Content-Disposition: inline; filename=\"logo.png\"", "Content-ID: <img1@example.com>"} {
		if !bytes.Contains(b, []byte(s)) {
			t.Errorf("missing %q", s)
		}
	}
	if bytes.Contains(b, []byte("multipart/related")) {
		t.Error("multipart/related without HTML")
	}
	if got := DefaultContentID("mein Logo (neu).png"); got != "mein_Logo__neu_.png" {
		t.Errorf("DefaultContentID = %q", got)
	}
}

func TestSizeMatchesOpen(t *testing.T) {
	dir := t.TempDir()
	var atts []Attachment
	for _, n := range []int{0, 1, 2, 3, 56, 57, 58, 113, 114, 115, b64Chunk - 1, b64Chunk, b64Chunk + 1, 3*b64Chunk + 7} {
		p := filepath.Join(dir, "f"+strconv.Itoa(n))
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i * 7)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		atts = append(atts, Attachment{Path: p, Type: "application/octet-stream"})
	}
	bodyFile := filepath.Join(dir, "body.txt")
	os.WriteFile(bodyFile, []byte(strings.Repeat("Zeile mit Ümlaut und \r\n. Punkt\r", 5000)), 0o644)
	fileBody, err := File(bodyFile)
	if err != nil {
		t.Fatal(err)
	}
	fileHTML, _ := File(bodyFile)
	bodies := []string{"", "x", "x\n", "\n", "\r", "a\r\nb", strings.Repeat("ü", 5000), strings.Repeat("b ", 3000) + "\n",
		"trailing space \n", "=_ boundary-like", ".\n..\n", strings.Repeat("l", 2000)}
	for i, body := range bodies {
		for _, variant := range []string{"single", "html", "attachments", "all"} {
			o := defaultOptions()
			o.Body = Text(body)
			if variant == "html" || variant == "all" {
				o.HTML = Text(body)
			}
			if variant == "attachments" || variant == "all" {
				o.Attachments = atts
			}
			m := build(t, o)
			checkWire(t, m, readAll(t, m))
			if t.Failed() {
				t.Fatalf("body %d (%q...), %s", i, body[:min(len(body), 20)], variant)
			}
		}
	}
	o := defaultOptions()
	o.Body, o.HTML, o.Attachments = fileBody, fileHTML, atts
	m := build(t, o)
	checkWire(t, m, readAll(t, m))
}

func TestChangedAttachment(t *testing.T) {
	p := filepath.Join(t.TempDir(), "a.bin")
	os.WriteFile(p, []byte("0123456789"), 0o644)
	o := defaultOptions()
	o.Attachments = []Attachment{{Path: p}}
	m := build(t, o)
	size := m.Size()
	for _, content := range []string{"0123456789abc", "0123"} {
		os.WriteFile(p, []byte(content), 0o644)
		r, _ := m.Open()
		n, err := io.Copy(io.Discard, r)
		r.Close()
		if !errors.Is(err, ErrChanged) || n > size {
			t.Errorf("%q: read %d of %d bytes, err %v; want ErrChanged", content, n, size, err)
		}
	}
}

func TestReadArg(t *testing.T) {
	p := filepath.Join(t.TempDir(), "body.txt")
	os.WriteFile(p, []byte("from a file\n"), 0o644)
	for _, tc := range []struct{ arg, stdin, want string }{
		{"literal text", "", "literal text"},
		{"@" + p, "", "from a file\n"},
		{"-", "from stdin\n", "from stdin\n"},
		{"@-", "from stdin\n", "from stdin\n"},
	} {
		c, err := ReadArg(tc.arg, strings.NewReader(tc.stdin))
		if err != nil {
			t.Fatal(err)
		}
		o := defaultOptions()
		o.Body = c
		b := readAll(t, build(t, o))
		if _, body, _ := bytes.Cut(b, []byte("\r\n\r\n")); string(body) != strings.ReplaceAll(strings.TrimSuffix(tc.want, "\n"), "\n", "\r\n")+"\r\n" {
			t.Errorf("%q: body %q", tc.arg, body)
		}
	}
	_, err := ReadArg("@"+p+".missing", nil)
	var ie *InputError
	if !errors.As(err, &ie) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// TestConcurrentOpen reads one message from several goroutines at once,
// as load mode may; run with -race.
func TestConcurrentOpen(t *testing.T) {
	pr, pw, _ := os.Pipe()
	go func() { pw.WriteString("body from a pipe, spooled\n"); pw.Close() }()
	body, err := ReadArg("-", pr)
	if err != nil {
		t.Fatal(err)
	}
	o := fullOptions()
	o.Body = body
	m := build(t, o)
	want := readAll(t, m)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			r, err := m.Open()
			if err != nil {
				t.Error(err)
				return
			}
			defer r.Close()
			if got, err := io.ReadAll(r); err != nil || !bytes.Equal(got, want) {
				t.Errorf("concurrent read differs (%v)", err)
			}
		})
	}
	wg.Wait()
}

// TestAttachPipe attaches a pipe by path, as --attach @<(cmd) does in
// bash: it can be read only once, so it is spooled.
func TestAttachPipe(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	path := fmt.Sprintf("/dev/fd/%d", pr.Fd())
	if _, err := os.Stat(path); err != nil {
		t.Skip("no /dev/fd on this system")
	}
	go func() { pw.WriteString("generated attachment\n"); pw.Close() }()
	o := defaultOptions()
	o.Attachments = []Attachment{{Path: path, Name: "gen.txt"}}
	m := build(t, o)
	a, b := readAll(t, m), readAll(t, m)
	checkWire(t, m, a)
	if !bytes.Equal(a, b) || !bytes.Contains(a, []byte("Z2VuZXJhdGVkIGF0dGFjaG1lbnQK")) {
		t.Errorf("pipe attachment not spooled and re-read:\n%s", a)
	}
}

func TestInputErrorText(t *testing.T) {
	for _, tc := range []struct {
		e    InputError
		want string
	}{
		{InputError{Field: "To", Index: 1, Value: "a\r\nb", Msg: "contains CR or LF"}, `To[1] "a\r\nb": contains CR or LF`},
		{InputError{Field: "Subject", Index: -1, Msg: "m"}, "Subject: m"},
		{InputError{Index: -1, Msg: "cannot read the file", Err: fs.ErrNotExist}, "cannot read the file: file does not exist"},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
}
