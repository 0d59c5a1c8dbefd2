package message

import (
	"encoding/base64"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Line limits of RFC 5322 §2.1.1: lines SHOULD fit in 78 characters and
// MUST fit in 998, both without the CRLF.
const (
	softLimit = 78
	hardLimit = 998
	// An encoded-word may not be longer than 75 characters (RFC 2047 §2);
	// "=?utf-8?q?" and "?=" take 12 of them.
	ewMax      = 75
	ewOverhead = len("=?utf-8?q?") + len("?=")
	// maxNameLen keeps "Name:" on one line of at most 78 characters, so
	// every header can be folded within the soft limit.
	maxNameLen = softLimit - 2
)

// fieldKind says how a header value may be rewritten to fit the format.
type fieldKind int

const (
	// kindText is unstructured text (Subject, X-*, ...): words that are not
	// plain printable ASCII become RFC 2047 encoded-words.
	kindText fieldKind = iota
	// kindAddress is a list of mailboxes: display names are quoted or
	// encoded, addresses are written as they are (RFC 6532 allows UTF-8).
	kindAddress
	// kindRaw is a structured value (Message-ID, Content-Type, ...) that no
	// encoding may touch: it is only folded at existing white space.
	kindRaw
)

// structured lists headers whose values have a syntax that RFC 2047
// encoding would break; unknown names are treated as unstructured text,
// which is what X-* headers and most others are.
var structured = map[string]bool{
	"date": true, "message-id": true, "in-reply-to": true, "references": true,
	"resent-date": true, "resent-message-id": true, "mime-version": true,
	"content-type": true, "content-transfer-encoding": true, "content-id": true,
	"content-disposition": true, "content-language": true, "content-location": true,
	"content-md5": true, "content-base": true, "received": true, "return-path": true,
	"dkim-signature": true, "domainkey-signature": true, "authentication-results": true,
	"received-spf": true, "arc-seal": true, "arc-message-signature": true,
	"arc-authentication-results": true, "auto-submitted": true, "autocrypt": true,
	"list-id": true, "list-unsubscribe": true, "list-unsubscribe-post": true,
	"list-help": true, "list-post": true, "list-subscribe": true, "list-owner": true,
	"list-archive": true, "tls-required": true, "mt-priority": true,
	"require-recipient-valid-since": true, "disposition-notification-options": true,
	"original-recipient": true, "archived-at": true, "accept-language": true,
}

// addressHeaders lists headers holding mailbox lists (RFC 5322 §3.6.2,
// §3.6.3, §3.6.6 and RFC 8098).
var addressHeaders = map[string]bool{
	"from": true, "sender": true, "reply-to": true, "to": true, "cc": true, "bcc": true,
	"resent-from": true, "resent-sender": true, "resent-to": true, "resent-cc": true,
	"resent-bcc": true, "disposition-notification-to": true, "mail-followup-to": true,
	"mail-reply-to": true, "errors-to": true,
}

// kindOf returns how a header of this name is encoded.
func kindOf(name string) fieldKind {
	l := strings.ToLower(name)
	switch {
	case addressHeaders[l]:
		return kindAddress
	case structured[l] || strings.HasPrefix(l, "list-") || strings.HasPrefix(l, "arc-"):
		return kindRaw
	}
	return kindText
}

// folder renders one header field, folding greedily before white space so
// that lines stay within softLimit where the content allows it.
type folder struct {
	b     []byte
	line  int  // bytes on the current line
	first bool // still on the first line with nothing after the colon
	utf8  bool // raw (unencoded) non-ASCII was written
	over  bool // some line exceeded hardLimit
}

func (f *folder) reset(name string) {
	f.b = append(f.b[:0], name...)
	f.b = append(f.b, ':')
	f.line = len(name) + 1
	f.first = true
	f.utf8 = false
	f.over = false
}

// fold breaks the line; the next token's white space starts the new line,
// so unfolding (deleting the CRLF) restores the value exactly.
func (f *folder) fold() {
	f.b = append(f.b, '\r', '\n')
	f.line = 0
}

// raw appends s without considering a fold.
func (f *folder) raw(s string) {
	f.b = append(f.b, s...)
	f.line += len(s)
	if f.line > hardLimit {
		f.over = true
	}
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			f.utf8 = true
			break
		}
	}
}

// word appends sep and text, folding before sep when the line would get
// longer than softLimit. A token that cannot fit a fresh line either stays
// right after the colon unless that would break the hard limit.
func (f *folder) word(sep, text string) {
	n := len(sep) + len(text)
	if sep != "" && f.line+n > softLimit {
		if !f.first || n <= softLimit || f.line+n > hardLimit {
			f.fold()
		}
	}
	f.raw(sep)
	f.raw(text)
	f.first = false
}

// encoded appends s as a run of encoded-words, the first preceded by sep
// and the others by a space, which decoders drop between encoded-words
// (RFC 2047 §6.2). Each word is sized to the room left on the line.
func (f *folder) encoded(sep, s string) {
	q := qLen(s) <= bLen(len(s))
	for len(s) > 0 {
		room := min(softLimit-f.line-len(sep)-ewOverhead, ewMax-ewOverhead)
		n := ewFit(s, room, q)
		// Start a new line rather than leave a sliver of a word at the end
		// of this one.
		if n < len(s) && n < 12 && f.line > 0 {
			f.fold()
			room = min(softLimit-len(sep)-ewOverhead, ewMax-ewOverhead)
			n = ewFit(s, room, q)
		}
		if n == 0 {
			_, n = utf8.DecodeRuneInString(s)
		}
		f.raw(sep)
		f.raw(encodeWord(s[:n], q))
		f.first = false
		s = s[n:]
		sep = " "
	}
}

// text appends an unstructured value (RFC 5322 §3.2.5). Words of plain
// printable ASCII stay readable; runs of words that need encoding become
// one group of encoded-words together with the white space between them,
// since white space between two encoded-words would be lost.
func (f *folder) text(value string) {
	sep := " "
	group, gsep := "", ""
	flush := func() {
		if group != "" {
			f.encoded(gsep, group)
			group = ""
		}
	}
	for len(value) > 0 {
		ws := leadingWSP(value)
		value = value[len(ws):]
		if value == "" {
			flush()
			// Trailing white space: never fold before it, so that no line
			// consists of white space only.
			f.raw(sep + ws)
			break
		}
		w := value[:wordEnd(value)]
		value = value[len(w):]
		if needsEncoding(w) {
			if group == "" {
				gsep = sep + ws
			} else {
				group += sep + ws
			}
			group += w
		} else {
			flush()
			f.word(sep+ws, w)
		}
		sep = ""
	}
	flush()
}

// rawValue appends a structured value, folded at white space only.
func (f *folder) rawValue(value string) { f.words(" ", value) }

// words appends value's words as they are, the first preceded by sep.
func (f *folder) words(sep, value string) {
	for len(value) > 0 {
		ws := leadingWSP(value)
		value = value[len(ws):]
		if value == "" {
			f.raw(sep + ws)
			break
		}
		w := value[:wordEnd(value)]
		value = value[len(w):]
		f.word(sep+ws, w)
		sep = ""
	}
}

// phrase appends a display name (RFC 5322 §3.2.5 phrase): atoms as they
// are, other printable ASCII as a quoted-string, anything else as
// encoded-words (RFC 2047 §5(3)).
func (f *folder) phrase(sep, name string) {
	switch {
	case needsEncoding(name):
		f.encoded(sep, name)
	case isAtomPhrase(name):
		f.words(sep, name)
	default:
		q := quoteString(name)
		if len(sep)+len(q) > softLimit {
			// Too long for one line: encoded-words can be folded.
			f.encoded(sep, name)
			return
		}
		f.word(sep, q)
	}
}

// mailboxes appends an address list.
func (f *folder) mailboxes(list []mailbox) {
	for i, m := range list {
		if m.name != "" {
			f.phrase(" ", m.name)
			f.word(" ", "<"+m.addr+">")
		} else {
			f.word(" ", m.addr)
		}
		if i < len(list)-1 {
			f.raw(",")
		}
	}
}

// mediaType appends "type/subtype; k=v; ..." with RFC 2231 parameters,
// folding between parameters.
func (f *folder) mediaType(mt string, params []param) {
	if len(params) == 0 {
		f.word(" ", mt)
		return
	}
	f.word(" ", mt+";")
	for i, p := range params {
		pieces := paramPieces(p.key, p.value)
		for j, s := range pieces {
			if i < len(params)-1 || j < len(pieces)-1 {
				s += ";"
			}
			f.word(" ", s)
		}
	}
}

func (f *folder) bytes() []byte {
	return append(f.b, '\r', '\n')
}

// formatText renders an unstructured header field. It falls back to
// encoding the whole value when plain words would break the 998 limit.
func formatText(name, value string) (line []byte, utf8 bool) {
	var f folder
	f.reset(name)
	f.text(value)
	if f.over {
		f.reset(name)
		if value != "" {
			f.encoded(" ", value)
		}
	}
	return f.bytes(), f.utf8
}

func leadingWSP(s string) string {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return s[:i]
}

func wordEnd(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' || s[i] == '\t' {
			return i
		}
	}
	return len(s)
}

// needsEncoding reports whether a word of unstructured text must be an
// encoded-word: it has non-ASCII or control bytes, or it contains "=?",
// which a decoder could take for the start of an encoded-word.
func needsEncoding(w string) bool {
	for i := 0; i < len(w); i++ {
		c := w[i]
		if (c < ' ' && c != '\t') || c >= 0x7f {
			return true
		}
	}
	return strings.Contains(w, "=?")
}

func isAtext(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

// isAtomPhrase reports whether name is atoms separated by white space, so
// that it needs no quoting.
func isAtomPhrase(name string) bool {
	if name == "" || name[0] == ' ' || name[0] == '\t' {
		return false
	}
	last := name[len(name)-1]
	if last == ' ' || last == '\t' {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c != ' ' && c != '\t' && !isAtext(c) {
			return false
		}
	}
	return true
}

// quoteString returns s as an RFC 5322 quoted-string.
func quoteString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}

// qSafe reports whether c may appear literally in a Q-encoded word that
// stands for a phrase word (RFC 2047 §5(3)); using the strictest of the
// three sets everywhere keeps one encoder correct in every position.
func qSafe(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return c == '!' || c == '*' || c == '+' || c == '-' || c == '/'
}

func qLen(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if qSafe(s[i]) || s[i] == ' ' {
			n++
		} else {
			n += 3
		}
	}
	return n
}

func bLen(n int) int { return (n + 2) / 3 * 4 }

// ewFit returns how many bytes of s, ending on a rune boundary, fit in an
// encoded text of at most room characters.
func ewFit(s string, room int, q bool) int {
	if room <= 0 {
		return 0
	}
	n, enc := 0, 0
	for n < len(s) {
		_, size := utf8.DecodeRuneInString(s[n:])
		if q {
			c := qLen(s[n : n+size])
			if enc+c > room {
				break
			}
			enc += c
		} else if bLen(n+size) > room {
			break
		}
		n += size
	}
	return n
}

const upperhex = "0123456789ABCDEF"

func encodeWord(s string, q bool) string {
	var b strings.Builder
	if !q {
		b.WriteString("=?utf-8?b?")
		b.WriteString(base64.StdEncoding.EncodeToString([]byte(s)))
		b.WriteString("?=")
		return b.String()
	}
	b.WriteString("=?utf-8?q?")
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ':
			b.WriteByte('_')
		case qSafe(c):
			b.WriteByte(c)
		default:
			b.WriteByte('=')
			b.WriteByte(upperhex[c>>4])
			b.WriteByte(upperhex[c&0x0f])
		}
	}
	b.WriteString("?=")
	return b.String()
}

// param is one MIME parameter; order is kept so output is deterministic.
type param struct{ key, value string }

func isTokenChar(c byte) bool {
	return c > ' ' && c < 0x7f && strings.IndexByte(`()<>@,;:\"/[]?=`, c) < 0
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}

// attrChar is RFC 2231 attribute-char: a token character other than
// "*", "'" and "%".
func attrChar(c byte) bool {
	return isTokenChar(c) && c != '*' && c != '\'' && c != '%'
}

// paramChunk is how much of a value goes in one continuation section, so
// that "key*N*=value" stays well inside a 78-character line.
const paramChunk = 56

// paramPieces formats one parameter, splitting it into RFC 2231 §3
// continuations when it is too long for a line, and using the RFC 2231 §4
// extended form (utf-8, percent-encoded) when it is not printable ASCII.
func paramPieces(key, value string) []string {
	printable := true
	for i := 0; i < len(value); i++ {
		if value[i] < ' ' || value[i] >= 0x7f {
			printable = false
			break
		}
	}
	if printable {
		one := key + "=" + value
		// File names are quoted even when they need not be: some
		// readers only understand filename="...".
		if !isToken(value) || key == "name" || key == "filename" {
			one = key + "=" + quoteString(value)
		}
		if len(one) <= softLimit-2 {
			return []string{one}
		}
		var out []string
		for i := 0; len(value) > 0; i++ {
			n := min(len(value), paramChunk)
			out = append(out, key+"*"+strconv.Itoa(i)+"="+quoteString(value[:n]))
			value = value[n:]
		}
		return out
	}
	pct := func(s string) string {
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			if attrChar(s[i]) {
				b.WriteByte(s[i])
			} else {
				b.WriteByte('%')
				b.WriteByte(upperhex[s[i]>>4])
				b.WriteByte(upperhex[s[i]&0x0f])
			}
		}
		return b.String()
	}
	one := key + "*=utf-8''" + pct(value)
	if len(one) <= softLimit-2 {
		return []string{one}
	}
	var out []string
	for i := 0; len(value) > 0; i++ {
		// Split on rune boundaries so each section decodes on its own.
		n, enc := 0, 0
		for n < len(value) {
			_, size := utf8.DecodeRuneInString(value[n:])
			c := len(pct(value[n : n+size]))
			if n > 0 && enc+c > paramChunk {
				break
			}
			enc += c
			n += size
		}
		s := key + "*" + strconv.Itoa(i) + "*="
		if i == 0 {
			s += "utf-8''"
		}
		out = append(out, s+pct(value[:n]))
		value = value[n:]
	}
	return out
}

// mailbox is one address with an optional display name.
type mailbox struct{ name, addr string }

// parseMailbox reads "addr", "<addr>", "Name <addr>" or "\"Name\" <addr>".
// It checks only what the header needs; the envelope syntax is the
// caller's business. It returns a problem description, or "".
func parseMailbox(s string) (mailbox, string) {
	if strings.ContainsAny(s, "\r\n") {
		return mailbox{}, "contains CR or LF"
	}
	s = strings.TrimSpace(s)
	var m mailbox
	if strings.HasSuffix(s, ">") {
		i := strings.LastIndexByte(s, '<')
		if i < 0 {
			return m, "unbalanced angle brackets"
		}
		m.addr = s[i+1 : len(s)-1]
		m.name = strings.TrimSpace(s[:i])
		if len(m.name) >= 2 && m.name[0] == '"' && m.name[len(m.name)-1] == '"' {
			m.name = unquote(m.name[1 : len(m.name)-1])
		}
	} else {
		m.addr = s
	}
	if m.addr == "" {
		return m, "empty address"
	}
	inQuote := false
	for i := 0; i < len(m.addr); i++ {
		c := m.addr[i]
		switch {
		case c < ' ' || c == 0x7f:
			return m, "control character in the address"
		case c == '"':
			inQuote = !inQuote
		case c == '\\' && inQuote:
			i++
		case inQuote:
		case c == '<' || c == '>':
			return m, "unbalanced angle brackets"
		case c == ' ' || c == ',':
			return m, "more than one address; give one per value"
		}
	}
	if inQuote {
		return m, "unbalanced quotes in the address"
	}
	return m, ""
}

func unquote(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// splitList splits an address list at commas outside quotes and angle
// brackets. ok is false for forms this package does not rewrite (groups,
// comments), which are then written as they are.
func splitList(s string) (parts []string, ok bool) {
	inQuote, angle, start := false, 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inQuote && c == '\\':
			i++
		case c == '"':
			inQuote = !inQuote
		case inQuote:
		case c == '<':
			angle++
		case c == '>':
			angle--
		case angle > 0:
		case c == ':' || c == ';' || c == '(':
			return nil, false
		case c == ',':
			if p := strings.TrimSpace(s[start:i]); p != "" {
				parts = append(parts, p)
			}
			start = i + 1
		}
	}
	if inQuote || angle != 0 {
		return nil, false
	}
	if p := strings.TrimSpace(s[start:]); p != "" {
		parts = append(parts, p)
	}
	return parts, len(parts) > 0
}
