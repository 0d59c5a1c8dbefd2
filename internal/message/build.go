package message

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"io"
	"maps"
	"mime"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// DefaultBody is the text of the default test message.
const DefaultBody = "This is a test message sent by smtpx."

// preamble is shown by mail readers that do not understand MIME.
const preamble = "This is a multi-part message in MIME format."

// DefaultSubject returns the subject used when none is given.
func DefaultSubject(date time.Time) string { return "smtpx test " + FormatDate(date) }

// FormatDate formats t as an RFC 5322 §3.3 date-time.
func FormatDate(t time.Time) string { return t.Format(time.RFC1123Z) }

// Options describe a message for Build. Only From and To are usually set;
// everything else has a default that gives the smtpx test message.
type Options struct {
	// From is the From header in header form: "addr", "<addr>" or
	// "Display Name <addr>" (the name may need quoting or be non-ASCII:
	// Build quotes or RFC 2047-encodes it). Empty leaves out From.
	From string
	// To and Cc are the header recipients, one mailbox each in the same
	// form as From. Bcc recipients belong to the envelope only and are
	// never passed here.
	To, Cc []string
	// Subject defaults to DefaultSubject(Date). To send no Subject at all,
	// remove it with Headers: []string{"Subject:"}.
	Subject string
	// Date defaults to the current time; its location is kept.
	Date time.Time
	// MessageID is "local@domain", with or without angle brackets. The
	// default is a random local part at Host.
	MessageID string
	// Host is the domain of a generated Message-ID, normally the client's
	// FQDN; "localhost" when empty.
	Host string
	// UserAgent, e.g. "smtpx/1.2.3", is sent as User-Agent when not empty.
	UserAgent string
	// Headers are "Name: value" fields that replace the default header of
	// that name (case-insensitive) in its place, or are added after the
	// defaults when there is none. Several with one name all go in that
	// place. An empty value ("Name:") removes the default header.
	// Replacing Content-Type or Content-Transfer-Encoding of a built body
	// is allowed (for testing receivers) and may make it unreadable.
	Headers []string
	// AddHeaders are "Name: value" fields always appended, in order, after
	// all others, even when a header of that name exists.
	AddHeaders []string
	// Body is the text/plain part; the zero Content means DefaultBody.
	Body Content
	// HTML, when given, makes the body multipart/alternative: Body, then
	// HTML.
	HTML Content
	// Attachments are added as base64 parts, in order.
	Attachments []Attachment
	// Seed makes the MIME boundaries; the Message-ID when empty, so that
	// fixed options give identical bytes.
	Seed string
}

// Attachment is a file to attach.
type Attachment struct {
	// Path is the file to read; it is read when the message is opened, so
	// it may be of any size. A pipe is spooled to a temporary file.
	Path string
	// Name is the file name shown to the recipient; the base name of Path
	// when empty. Non-ASCII names are encoded per RFC 2231.
	Name string
	// Type is the media type, e.g. "image/png"; detected from the name's
	// extension, then from the content, when empty.
	Type string
	// Inline marks an image the HTML shows through "cid:ContentID". With
	// HTML it goes in a multipart/related part with the HTML; without
	// HTML it is an ordinary part with Content-Disposition: inline.
	Inline bool
	// ContentID identifies an inline part, without angle brackets;
	// DefaultContentID(Name) when empty.
	ContentID string
}

// DefaultContentID returns the Content-ID an inline attachment named name
// gets when none is given: the name with every character that cannot
// appear in a Content-ID replaced by "_", so "logo.png" stays "logo.png"
// and the HTML can say <img src="cid:logo.png">.
func DefaultContentID(name string) string {
	var b strings.Builder
	for _, r := range name {
		if r < utf8.RuneSelf && cidChar(byte(r)) {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "part"
	}
	return b.String()
}

func cidChar(c byte) bool { return isAtext(c) || c == '.' || c == '@' }

// Message is a built message. It implements Source.
type Message struct {
	segs  []segment
	size  int64
	utf8  bool
	id    string
	owned []*blob
}

// Build validates o and lays out the message. File contents are not read
// beyond what is needed to choose an encoding and count bytes; Open reads
// them. Build takes ownership of o.Body and o.HTML (Close releases them),
// even when it fails. Errors about the options are *InputError.
func Build(o Options) (m *Message, err error) {
	msg := &Message{}
	msg.owned = append(msg.owned, o.Body.b, o.HTML.b)
	defer func() {
		if err != nil {
			msg.Close()
		}
	}()
	m = msg
	if o.Date.IsZero() {
		o.Date = time.Now()
	}
	if o.Subject == "" {
		o.Subject = DefaultSubject(o.Date)
	}
	if m.id, err = messageID(o.MessageID, o.Host); err != nil {
		return nil, err
	}
	if o.Seed == "" {
		o.Seed = m.id
	}
	if o.Body.IsZero() {
		o.Body = Text(DefaultBody)
	}

	// The default header fields, in the order a mail client writes them.
	type slot struct {
		name  string
		lines [][]byte
	}
	slots := []slot{{name: "Date"}, {name: "From"}, {name: "To"}, {name: "Cc"},
		{name: "Subject"}, {name: "Message-ID"}, {name: "MIME-Version"},
		{name: "User-Agent"}, {name: "Content-Type"}, {name: "Content-Transfer-Encoding"}}
	set := func(name string, line []byte) {
		for i := range slots {
			if slots[i].name == name {
				slots[i].lines = [][]byte{line}
			}
		}
	}
	var f folder
	set("Date", rawField(&f, "Date", FormatDate(o.Date)))
	if o.From != "" {
		line, err := addressField(&f, "From", "From", []string{o.From})
		if err != nil {
			return nil, err
		}
		set("From", line)
	}
	for _, h := range []struct {
		name string
		list []string
	}{{"To", o.To}, {"Cc", o.Cc}} {
		if len(h.list) > 0 {
			line, err := addressField(&f, h.name, h.name, h.list)
			if err != nil {
				return nil, err
			}
			set(h.name, line)
		}
	}
	if strings.ContainsAny(o.Subject, "\r\n") {
		return nil, inputErr("Subject", -1, o.Subject, "contains CR or LF")
	}
	line, _ := formatText("Subject", o.Subject)
	set("Subject", line)
	set("Message-ID", rawField(&f, "Message-ID", "<"+m.id+">"))
	set("MIME-Version", rawField(&f, "MIME-Version", "1.0"))
	if o.UserAgent != "" {
		if strings.ContainsAny(o.UserAgent, "\r\n") {
			return nil, inputErr("UserAgent", -1, o.UserAgent, "contains CR or LF")
		}
		line, _ := formatText("User-Agent", o.UserAgent)
		set("User-Agent", line)
	}

	// The body: its top node's Content-Type and Content-Transfer-Encoding
	// go in the slots above.
	top, err := m.body(o)
	if err != nil {
		return nil, err
	}
	a := &assembler{seed: o.Seed}
	a.boundaries(top)
	var ct folder
	ct.reset("Content-Type")
	ct.mediaType(top.ctype, top.params)
	set("Content-Type", ct.bytes())
	if top.cte != "" {
		set("Content-Transfer-Encoding", rawField(&f, "Content-Transfer-Encoding", top.cte))
	}

	// Headers replace a slot's lines; unknown names and AddHeaders follow.
	var extra [][]byte
	replaced := map[int]bool{}
	for i, h := range o.Headers {
		name, value, err := headerArg("Headers", i, h)
		if err != nil {
			return nil, err
		}
		k := slices.IndexFunc(slots, func(s slot) bool { return strings.EqualFold(s.name, name) })
		var line []byte
		if value != "" {
			if line, err = userField(&f, "Headers", i, name, value); err != nil {
				return nil, err
			}
		}
		switch {
		case k < 0 && line != nil:
			extra = append(extra, line)
		case k >= 0:
			if !replaced[k] {
				slots[k].lines = nil
				replaced[k] = true
			}
			if line != nil {
				slots[k].lines = append(slots[k].lines, line)
			}
		}
	}
	for i, h := range o.AddHeaders {
		name, value, err := headerArg("AddHeaders", i, h)
		if err != nil {
			return nil, err
		}
		line := []byte(name + ":\r\n")
		if value != "" {
			if line, err = userField(&f, "AddHeaders", i, name, value); err != nil {
				return nil, err
			}
		}
		extra = append(extra, line)
	}
	for _, s := range slots {
		for _, l := range s.lines {
			a.header(l)
		}
	}
	for _, l := range extra {
		a.header(l)
	}
	a.str("\r\n")
	if err := a.part(top, true); err != nil {
		return nil, err
	}
	a.flush()
	m.segs, m.utf8 = a.segs, a.utf8
	for _, s := range m.segs {
		m.size += s.n
	}
	return m, nil
}

// messageID returns the Message-ID without angle brackets.
func messageID(id, host string) (string, error) {
	if id == "" {
		if host == "" {
			host = "localhost"
		}
		if !msgIDPart(host) {
			return "", inputErr("Host", -1, host, "not usable in a Message-ID")
		}
		var r [15]byte
		rand.Read(r[:])
		return strings.ToLower(base32.StdEncoding.EncodeToString(r[:])) + "@" + host, nil
	}
	if strings.ContainsAny(id, "\r\n") {
		return "", inputErr("MessageID", -1, id, "contains CR or LF")
	}
	id = strings.TrimSuffix(strings.TrimPrefix(id, "<"), ">")
	l, r, ok := strings.Cut(id, "@")
	if !ok || !msgIDPart(l) || !msgIDPart(r) {
		return "", inputErr("MessageID", -1, id, "must look like local@domain (RFC 5322 §3.6.4)")
	}
	return id, nil
}

// msgIDPart accepts a dot-atom or a domain literal's printable contents.
func msgIDPart(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAtext(c) && c != '.' && c != '[' && c != ']' && c != ':' {
			return false
		}
	}
	return true
}

func rawField(f *folder, name, value string) []byte {
	f.reset(name)
	f.rawValue(value)
	return slices.Clone(f.bytes())
}

// addressField formats a mailbox list. field names the option for errors.
func addressField(f *folder, field, name string, list []string) ([]byte, error) {
	mbs := make([]mailbox, 0, len(list))
	for i, s := range list {
		mb, problem := parseMailbox(s)
		if problem != "" {
			idx := i
			if field == "From" {
				idx = -1
			}
			return nil, inputErr(field, idx, s, problem)
		}
		mbs = append(mbs, mb)
	}
	f.reset(name)
	f.mailboxes(mbs)
	if f.over {
		return nil, inputErr(field, -1, "", "an address is longer than the 998-character line limit")
	}
	return slices.Clone(f.bytes()), nil
}

// headerArg splits and checks a "Name: value" option.
func headerArg(field string, i int, h string) (name, value string, err error) {
	if strings.ContainsAny(h, "\r\n") {
		return "", "", inputErr(field, i, h, "contains CR or LF")
	}
	name, value, ok := strings.Cut(h, ":")
	if !ok || name == "" {
		return "", "", inputErr(field, i, h, `must be "Name: value"`)
	}
	for j := 0; j < len(name); j++ {
		if c := name[j]; c <= ' ' || c >= 0x7f {
			return "", "", inputErr(field, i, h, "header name must be printable ASCII without spaces")
		}
	}
	if len(name) > maxNameLen {
		return "", "", inputErr(field, i, h, "header name longer than "+strconv.Itoa(maxNameLen)+" characters")
	}
	return name, strings.Trim(value, " \t"), nil
}

// userField formats a header given by the user according to its kind.
func userField(f *folder, field string, i int, name, value string) ([]byte, error) {
	switch kindOf(name) {
	case kindAddress:
		if list, ok := splitList(value); ok {
			mbs := make([]mailbox, 0, len(list))
			for _, s := range list {
				mb, problem := parseMailbox(s)
				if problem != "" {
					ok = false
					break
				}
				mbs = append(mbs, mb)
			}
			if ok {
				f.reset(name)
				f.mailboxes(mbs)
				if !f.over {
					return slices.Clone(f.bytes()), nil
				}
			}
		}
		// A group, a comment or something unusual: written as given.
		fallthrough
	case kindRaw:
		f.reset(name)
		f.rawValue(value)
		if f.over {
			return nil, inputErr(field, i, name, "value has a word too long for the 998-character line limit")
		}
		return slices.Clone(f.bytes()), nil
	}
	line, _ := formatText(name, value)
	return line, nil
}

// node is a MIME entity: a leaf with encoded content or a multipart.
type node struct {
	ctype    string
	params   []param
	cte      string   // empty for multipart
	extra    [][]byte // more part headers (Content-Disposition, Content-ID)
	content  segment
	lastEOL  bool // content ends with a line end
	children []*node
	boundary string
}

// body builds the MIME tree:
//
//	mixed( alternative( text, related( html, inline... ) ), attachment... )
//
// with each multipart left out when it would have one child.
func (m *Message) body(o Options) (*node, error) {
	var inline, attach []*node
	hasHTML := !o.HTML.IsZero()
	for i, at := range o.Attachments {
		n, b, err := attachment(i, at, hasHTML)
		if b != nil {
			m.owned = append(m.owned, b)
		}
		if err != nil {
			return nil, err
		}
		if at.Inline && hasHTML {
			inline = append(inline, n)
		} else {
			attach = append(attach, n)
		}
	}
	multi := hasHTML || len(attach) > 0
	text, err := textNode("Body", o.Body.b, "plain", multi)
	if err != nil {
		return nil, err
	}
	body := text
	if hasHTML {
		html, err := textNode("HTML", o.HTML.b, "html", true)
		if err != nil {
			return nil, err
		}
		if len(inline) > 0 {
			html = &node{ctype: "multipart/related", params: []param{{"type", "text/html"}},
				children: append([]*node{html}, inline...)}
		}
		body = &node{ctype: "multipart/alternative", children: []*node{text, html}}
	}
	if len(attach) > 0 {
		body = &node{ctype: "multipart/mixed", children: append([]*node{body}, attach...)}
	}
	return body, nil
}

// textInfo is what a scan of text content finds.
type textInfo struct {
	qp      bool  // 8-bit, NUL or a line over 998: needs quoted-printable
	marker  bool  // contains "=_", which starts every boundary
	lastEOL bool  // ends with a line end
	size7   int64 // length with CRLF line ends
}

func scanText(b *blob) (textInfo, error) {
	var ti textInfo
	r, err := b.open()
	if err != nil {
		return ti, err
	}
	defer r.Close()
	buf := make([]byte, bufSize(b.n))
	var line int
	var prev byte
	for {
		n, err := r.Read(buf)
		for _, c := range buf[:n] {
			switch {
			case c == '\n' && prev == '\r':
			case c == '\r' || c == '\n':
				ti.size7 += 2
				line = 0
			default:
				ti.size7++
				line++
				if line > hardLimit || c >= 0x80 || c == 0 {
					ti.qp = true
				}
				if c == '_' && prev == '=' {
					ti.marker = true
				}
			}
			prev = c
		}
		if err == io.EOF {
			ti.lastEOL = prev == '\r' || prev == '\n'
			return ti, nil
		}
		if err != nil {
			return ti, err
		}
	}
}

// textNode makes a text/SUBTYPE leaf: 7bit when the text allows it, else
// UTF-8 quoted-printable. 8bit is never used, so the bytes do not depend
// on whether the server offers 8BITMIME. In a multipart, text containing
// "=_" is quoted-printable too, which turns "=" into "=3D" and so makes a
// boundary collision impossible whatever the text.
func textNode(field string, b *blob, subtype string, multipart bool) (*node, error) {
	ti, err := scanText(b)
	if err != nil {
		return nil, &InputError{Field: field, Index: -1, Msg: "cannot read it", Err: err}
	}
	n := &node{ctype: "text/" + subtype, params: []param{{"charset", "utf-8"}}, lastEOL: ti.lastEOL}
	n.content.name = field
	if ti.qp || (multipart && ti.marker) {
		n.cte = "quoted-printable"
		n.content.open = func() (io.ReadCloser, error) {
			r, err := b.open()
			if err != nil {
				return nil, err
			}
			return newQPReader(r, b.n), nil
		}
		r, err := n.content.open()
		if err != nil {
			return nil, &InputError{Field: field, Index: -1, Msg: "cannot read it", Err: err}
		}
		n.content.n, err = io.Copy(io.Discard, r)
		r.Close()
		if err != nil {
			return nil, &InputError{Field: field, Index: -1, Msg: "cannot read it", Err: err}
		}
		return n, nil
	}
	n.cte = "7bit"
	n.content.n = ti.size7
	n.content.open = func() (io.ReadCloser, error) {
		r, err := b.open()
		if err != nil {
			return nil, err
		}
		return newCRLFReader(r, b.n, false), nil
	}
	return n, nil
}

// attachment makes a base64 leaf for at. The blob is returned for
// closing even when there is an error.
func attachment(i int, at Attachment, hasHTML bool) (*node, *blob, error) {
	const field = "Attachments"
	if at.Path == "" {
		return nil, nil, inputErr(field, i, "", "no file given")
	}
	if strings.ContainsAny(at.Path, "\r\n") {
		return nil, nil, inputErr(field, i, at.Path, "file name contains CR or LF")
	}
	name := at.Name
	if name == "" {
		name = filepath.Base(at.Path)
	}
	if strings.ContainsAny(name, "\r\n") {
		return nil, nil, inputErr(field, i, name, "name contains CR or LF")
	}
	if strings.ContainsAny(at.Type, "\r\n") {
		return nil, nil, inputErr(field, i, at.Type, "type contains CR or LF")
	}
	if strings.ContainsAny(at.ContentID, "\r\n") {
		return nil, nil, inputErr(field, i, at.ContentID, "content id contains CR or LF")
	}
	b, err := fileBlob(at.Path)
	if err != nil {
		return nil, nil, &InputError{Field: field, Index: i, Msg: "cannot read the file", Err: err}
	}
	typ := at.Type
	if typ == "" {
		if typ = mime.TypeByExtension(filepath.Ext(name)); typ == "" {
			typ = mime.TypeByExtension(filepath.Ext(at.Path))
		}
		if typ == "" {
			if typ, err = sniff(b); err != nil {
				return nil, b, &InputError{Field: field, Index: i, Msg: "cannot read the file", Err: err}
			}
		}
	}
	mt, ps, err := mime.ParseMediaType(typ)
	if err != nil || !strings.Contains(mt, "/") {
		return nil, b, inputErr(field, i, typ, "not a media type like image/png")
	}
	if strings.HasPrefix(mt, "multipart/") || mt == "message/rfc822" {
		// Those would need their own structure rules (RFC 2046 §5); a
		// file of that kind is sent as opaque data instead.
		mt, ps = "application/octet-stream", nil
	}
	n := &node{ctype: mt, cte: "base64"}
	for _, k := range slices.Sorted(maps.Keys(ps)) {
		if k != "name" {
			n.params = append(n.params, param{k, ps[k]})
		}
	}
	n.params = append(n.params, param{"name", name})
	disp := "attachment"
	if at.Inline {
		disp = "inline"
	}
	var f folder
	f.reset("Content-Disposition")
	f.mediaType(disp, []param{{"filename", name}})
	n.extra = append(n.extra, slices.Clone(f.bytes()))
	if at.Inline || at.ContentID != "" {
		cid := strings.TrimSuffix(strings.TrimPrefix(at.ContentID, "<"), ">")
		if cid == "" {
			cid = DefaultContentID(name)
		}
		for j := 0; j < len(cid); j++ {
			if !cidChar(cid[j]) {
				return nil, b, inputErr(field, i, cid, "content id may only have letters, digits, \".\", \"@\" and !#$%&'*+-/=?^_`{|}~")
			}
		}
		n.extra = append(n.extra, rawField(&f, "Content-ID", "<"+cid+">"))
	}
	n.content = segment{n: b64Size(b.n), name: name, open: func() (io.ReadCloser, error) {
		r, err := b.open()
		if err != nil {
			return nil, err
		}
		return newB64Reader(r, b.n), nil
	}}
	return n, b, nil
}

// sniff detects a media type from the first 512 bytes, for an
// attachment whose name has no known extension: the signatures of the
// formats most often attached (the same bytes the WHATWG MIME Sniffing
// Standard matches), then text if the bytes are UTF-8 without the control
// characters of binary data, else application/octet-stream. It replaces
// net/http's DetectContentType, which linked the whole HTTP stack into
// every command's start-up.
func sniff(b *blob) (string, error) {
	r, err := b.open()
	if err != nil {
		return "", err
	}
	defer r.Close()
	buf := make([]byte, 512)
	n, err := io.ReadFull(r, buf)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return "", err
	}
	return sniffBytes(buf[:n]), nil
}

// signatures are leading bytes and the media type they mean.
var signatures = []struct{ prefix, typ string }{
	{"%PDF-", "application/pdf"},
	{"\x89PNG\r\n\x1a\n", "image/png"},
	{"\xff\xd8\xff", "image/jpeg"},
	{"GIF87a", "image/gif"},
	{"GIF89a", "image/gif"},
	{"PK\x03\x04", "application/zip"},
	{"\x1f\x8b\x08", "application/x-gzip"},
	{"%!PS-Adobe-", "application/postscript"},
}

func sniffBytes(data []byte) string {
	for _, s := range signatures {
		if bytes.HasPrefix(data, []byte(s.prefix)) {
			return s.typ
		}
	}
	if len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP" {
		return "image/webp"
	}
	// A multi-byte character cut at 512 bytes is still text.
	text := data
	for i := 0; i < 3 && len(text) > 0 && !utf8.Valid(text); i++ {
		text = text[:len(text)-1]
	}
	if !utf8.Valid(text) {
		return "application/octet-stream"
	}
	for _, c := range text {
		// The WHATWG's binary data bytes: controls other than TAB, LF,
		// FF, CR and ESC.
		if c < 0x20 && c != '\t' && c != '\n' && c != '\f' && c != '\r' && c != 0x1b {
			return "application/octet-stream"
		}
	}
	return "text/plain; charset=utf-8"
}

// assembler lays out header and boundary bytes as literal segments between
// the content segments.
type assembler struct {
	seed  string
	segs  []segment
	lit   []byte
	utf8  bool
	count int
}

// boundaries gives each multipart a boundary derived from the seed and the
// part's position, so equal options give equal bytes. Every boundary
// starts with "=_", which cannot occur in quoted-printable or base64 and
// which 7bit parts in a multipart never contain (see textNode).
func (a *assembler) boundaries(n *node) {
	if n.children == nil {
		return
	}
	sum := sha256.Sum256([]byte("smtpx boundary\x00" + a.seed + "\x00" + strconv.Itoa(a.count)))
	a.count++
	n.boundary = "=_smtpx_" + hex.EncodeToString(sum[:12])
	n.params = append(n.params, param{"boundary", n.boundary})
	for _, c := range n.children {
		a.boundaries(c)
	}
}

func (a *assembler) str(s string) { a.lit = append(a.lit, s...) }

func (a *assembler) header(line []byte) {
	for _, c := range line {
		if c >= utf8.RuneSelf {
			a.utf8 = true
			break
		}
	}
	a.lit = append(a.lit, line...)
}

func (a *assembler) flush() {
	if len(a.lit) > 0 {
		a.segs = append(a.segs, segment{n: int64(len(a.lit)), lit: a.lit})
		a.lit = nil
	}
}

// part writes n's headers (unless it is the top, whose headers are the
// message's) and its body.
func (a *assembler) part(n *node, top bool) error {
	if !top {
		var f folder
		f.reset("Content-Type")
		f.mediaType(n.ctype, n.params)
		a.header(f.bytes())
		if n.cte != "" {
			a.header(rawField(&f, "Content-Transfer-Encoding", n.cte))
		}
		for _, l := range n.extra {
			a.header(l)
		}
		a.str("\r\n")
	}
	if n.children == nil {
		if n.content.n > 0 {
			a.flush()
			a.segs = append(a.segs, n.content)
		}
		if top && n.content.n > 0 && !n.lastEOL {
			a.str("\r\n")
		}
		return nil
	}
	if top {
		a.str(preamble + "\r\n")
	}
	for i, c := range n.children {
		if i > 0 {
			a.str("\r\n")
		}
		a.str("--" + n.boundary + "\r\n")
		if err := a.part(c, false); err != nil {
			return err
		}
	}
	a.str("\r\n--" + n.boundary + "--")
	if top {
		a.str("\r\n")
	}
	return nil
}

// Size is the exact number of bytes Open yields.
func (m *Message) Size() int64 { return m.size }

// EightBit reports whether the content has bytes >= 0x80. Bodies are
// always 7bit, quoted-printable or base64, so only UTF-8 addresses in the
// headers make a built message 8-bit.
func (m *Message) EightBit() bool { return m.utf8 }

// UTF8Headers reports whether a header carries raw UTF-8 (a non-ASCII
// address, or a structured header given with non-ASCII), which needs
// SMTPUTF8 (RFC 6531). Encoded display names and subjects do not count.
func (m *Message) UTF8Headers() bool { return m.utf8 }

// MessageID returns the Message-ID, without angle brackets, that Build
// used (generated when Options.MessageID was empty). A Headers entry that
// replaces Message-ID does not change it.
func (m *Message) MessageID() string { return m.id }

// Open returns a reader of the whole message with CRLF line ends, not
// dot-stuffed. It may be called any number of times, also concurrently;
// each reader yields the same bytes, Size of them, or fails with an error
// wrapping ErrChanged if a file changed since Build.
func (m *Message) Open() (io.ReadCloser, error) { return &segReader{segs: m.segs}, nil }

// WriteTo writes the message to w (for --dump-mail).
func (m *Message) WriteTo(w io.Writer) (int64, error) { return writeSource(m, w) }

// Close releases spool files of the body, the HTML and the attachments.
func (m *Message) Close() error {
	if m == nil {
		return nil
	}
	var first error
	for _, b := range m.owned {
		if err := b.close(); err != nil && first == nil {
			first = err
		}
	}
	m.owned = nil
	return first
}
