package sink

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/textproto"
	"strings"
	"time"
	"unicode/utf8"
)

// Record describes one accepted message: what --json prints, one per line.
// Field names are stable; docs/json.md documents them.
type Record struct {
	Seq         int          `json:"seq"`         // 1, 2, ... in order of acceptance
	Received    time.Time    `json:"received"`    // when the message was accepted (UTC)
	Conn        int          `json:"conn"`        // connection number, as in the [N] of the human output
	Remote      string       `json:"remote"`      // client address (empty for unix sockets)
	Local       string       `json:"local"`       // address the sink accepted on
	Helo        string       `json:"helo"`        // name the client gave in EHLO/HELO/LHLO
	Protocol    string       `json:"protocol"`    // RFC 3848 name: SMTP, ESMTP, ESMTPS, ESMTPSA, LMTP...
	TLS         bool         `json:"tls"`         // the message arrived inside TLS
	TLSVersion  string       `json:"tls_version"` // e.g. "TLS 1.3"; empty without TLS
	TLSCipher   string       `json:"tls_cipher"`  // e.g. "TLS_AES_128_GCM_SHA256"
	AuthUser    string       `json:"auth_user"`   // authenticated user; empty if none
	MailFrom    string       `json:"mail_from"`   // envelope sender; empty for the null sender <>
	RcptTo      []string     `json:"rcpt_to"`     // accepted envelope recipients
	Body        string       `json:"body"`        // BODY= parameter: 7BIT, 8BITMIME, BINARYMIME or empty
	SMTPUTF8    bool         `json:"smtputf8"`    // the client sent MAIL ... SMTPUTF8
	Chunking    bool         `json:"chunking"`    // the message came with BDAT instead of DATA
	Size        int64        `json:"size"`        // bytes stored (after dot-unstuffing)
	SHA256      string       `json:"sha256"`      // hex SHA-256 of those bytes
	Path        string       `json:"path"`        // stored file; empty when nothing is stored
	Headers     Headers      `json:"headers"`     // a few decoded header fields
	Attachments []Attachment `json:"attachments"` // MIME parts with a file name or attachment disposition
}

// Headers holds the header fields a summary shows, RFC 2047 words decoded.
// A field that is absent is empty; repeated fields are joined with ", ".
type Headers struct {
	Subject   string `json:"subject"`
	From      string `json:"from"`
	To        string `json:"to"`
	Cc        string `json:"cc"`
	Date      string `json:"date"`
	MessageID string `json:"message_id"`
}

// Attachment is one attached file.
type Attachment struct {
	Filename    string `json:"filename"`     // decoded file name; may be empty
	ContentType string `json:"content_type"` // e.g. application/pdf
	Size        int64  `json:"size"`         // decoded size in bytes
}

// maxMIMEDepth bounds nesting so a hostile message cannot recurse forever.
const maxMIMEDepth = 20

// maxAttachments and maxAttachmentField bound the attachment list a
// record holds, which would otherwise grow with the message: a 64 MiB
// message has room for a million tiny parts, or for file names of
// megabytes.
const (
	maxAttachments     = 1000
	maxAttachmentField = 1024
)

var wordDecoder = &mime.WordDecoder{CharsetReader: func(charset string, input io.Reader) (io.Reader, error) {
	// Unknown charsets stay undecoded rather than failing the header:
	// this is for display only and the stored bytes are untouched.
	return nil, errUnknownCharset
}}

type charsetErr struct{}

func (charsetErr) Error() string { return "unknown charset" }

var errUnknownCharset = charsetErr{}

func decodeHeader(s string) string {
	d, err := wordDecoder.DecodeHeader(s)
	if err != nil {
		return s
	}
	return d
}

// maxHeaderSection bounds the part of a message's header section that
// the summary parses (Postfix's header_size_limit is 100 KiB). A longer
// section is stored as it came; the summary shows the fields that fit.
const maxHeaderSection = 256 << 10

// inspect reads a stored message and fills the header fields and the
// attachment list of rec. Malformed messages are not an error: the sink
// stores whatever it was sent and reports what it could understand.
// Memory is bounded whatever the message: the header section through
// readHeaderSection, MIME parts by mime/multipart's own limits.
func inspect(r io.Reader, rec *Record) {
	rec.Attachments = []Attachment{}
	br := bufio.NewReader(r)
	raw := readHeaderSection(br, maxHeaderSection)
	hdr, err := textproto.NewReader(bufio.NewReader(io.MultiReader(bytes.NewReader(raw), strings.NewReader("\r\n")))).ReadMIMEHeader()
	if err != nil && len(hdr) == 0 {
		return
	}
	get := func(k string) string {
		vs := hdr[textproto.CanonicalMIMEHeaderKey(k)]
		for i := range vs {
			vs[i] = decodeHeader(strings.TrimSpace(vs[i]))
		}
		return strings.Join(vs, ", ")
	}
	rec.Headers = Headers{
		Subject:   get("Subject"),
		From:      get("From"),
		To:        get("To"),
		Cc:        get("Cc"),
		Date:      get("Date"),
		MessageID: get("Message-Id"),
	}
	walkPart(hdr, br, 0, &rec.Attachments)
}

// readHeaderSection reads br up to and including the empty line that ends
// a message's header section (or to the end of input) and returns the
// section's first complete lines, at most limit bytes of them. The rest
// of the section is read and dropped, without holding a long line whole,
// so br is left at the body in bounded memory.
func readHeaderSection(br *bufio.Reader, limit int) []byte {
	var hdr []byte
	lineLen := 0   // bytes of the current line read so far
	lineStart := 0 // where the current line starts in hdr
	full := false  // a line did not fit: keep nothing more
	for {
		frag, err := br.ReadSlice('\n')
		if lineLen == 0 && (string(frag) == "\r\n" || string(frag) == "\n") {
			return hdr
		}
		lineLen += len(frag)
		if !full {
			if len(hdr)+len(frag) <= limit {
				hdr = append(hdr, frag...)
			} else {
				full = true
				hdr = hdr[:lineStart]
			}
		}
		if err == bufio.ErrBufferFull {
			continue // the same line goes on
		}
		if err != nil {
			if !full {
				// A last line without its end is still a field.
				return hdr
			}
			return hdr[:lineStart]
		}
		lineLen, lineStart = 0, len(hdr)
	}
}

func walkPart(h textproto.MIMEHeader, body io.Reader, depth int, out *[]Attachment) {
	if len(*out) >= maxAttachments {
		return
	}
	ctype := h.Get("Content-Type")
	mediatype, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		mediatype, params = "text/plain", nil
	}
	if strings.HasPrefix(mediatype, "multipart/") {
		if params["boundary"] == "" || depth >= maxMIMEDepth {
			return
		}
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err != nil {
				return
			}
			walkPart(p.Header, p, depth+1, out)
		}
	}
	disp, dparams, _ := mime.ParseMediaType(h.Get("Content-Disposition"))
	name := dparams["filename"]
	if name == "" {
		name = params["name"]
	}
	if disp != "attachment" && name == "" {
		return
	}
	var dec io.Reader = body
	switch strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding"))) {
	case "base64":
		dec = base64.NewDecoder(base64.StdEncoding, body)
	case "quoted-printable":
		dec = quotedprintable.NewReader(body)
	}
	n, _ := io.Copy(io.Discard, dec)
	*out = append(*out, Attachment{Filename: clipField(decodeHeader(name)), ContentType: clipField(mediatype), Size: n})
}

// clipField shortens an attachment's name or type to maxAttachmentField
// bytes, on a UTF-8 boundary.
func clipField(s string) string {
	if len(s) <= maxAttachmentField {
		return s
	}
	s = s[:maxAttachmentField]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
