package replycode

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/smtpx/smtpx/internal/session"
)

// InputError is input that is not a code, a reply or a pattern. Hint says
// how to give one.
type InputError struct {
	Msg  string
	Hint string
}

func (e *InputError) Error() string { return e.Msg }

const (
	hintBasic    = "reply codes have three digits, the first 2-5 (RFC 5321 §4.2); 'smtpx codes --list' shows the known ones"
	hintEnhanced = "enhanced status codes are class.subject.detail: class 2, 4 or 5, then up to three digits each (RFC 3463 §2)"
	hintGeneral  = "give a reply code (550), an enhanced code (5.7.1), both, a whole reply in quotes, or - to read replies from standard input; --search WORD finds codes by word"
)

// Markers that start received lines in swaks-style transcripts (smtpx's
// own included): plain, TLS, failure and TLS failure.
var recvMarkers = [...]string{"<-  ", "<** ", "<~  ", "<~* "}

// Markers of lines that are not replies: sent commands, info and errors.
var otherMarkers = [...]string{" -> ", " ~> ", "=== ", "*** "}

// Lead-ins after which bounces and logs quote a remote server's reply.
var leadIns = [...]string{"said: ", "returned '", "reason: ", "response: ", "reply: ", "smtp; ", "SMTP; ", "]: "}

// piece is one reply line found in the input.
type piece struct {
	code int
	sep  byte // '-' continues the reply, ' ' ends it
	text string
	raw  string
}

// scanner assembles reply lines into replies, leniently: pasted text mixes
// replies with anything else, may be cut short, and may quote replies inside
// other lines (Postfix and Exchange bounces).
type scanner struct {
	cur    *Reply
	open   bool // the last line of cur was "NNN-"
	bounce strings.Builder
	inBnc  bool
	emit   func(Reply) error
	err    error
	// rcpt is the recipient the lines being read are about, as a pasted
	// bounce says it; a blank line ends its paragraph.
	rcpt string
	// seen holds the bounce replies already passed on, per recipient: a
	// Postfix bounce gives each reply twice (its text and its DSN).
	seen map[string]bool
}

// maxSeen bounds the memory that recognising repeated bounce replies takes.
const maxSeen = 4096

// Scan finds SMTP replies in r, one per call of fn, in order: lines such as
// "550-5.7.1 text", optionally after swaks markers ("<-  ", "<** ", "<~  ",
// "<~* ") or indentation, and replies quoted in bounces after "said: " or
// "returned '". Multi-line replies are joined; a reply that never gets its
// final line is passed on with a note. Lines longer than the reply reader's
// limit are cut. Scan stops at the first error fn returns.
func Scan(r io.Reader, fn func(Reply) error) error {
	s := &scanner{emit: fn}
	br := bufio.NewReaderSize(r, 64*1024)
	for s.err == nil {
		line, err := readLine(br, session.DefaultMaxLineLen)
		if err != nil && line == "" {
			if err != io.EOF {
				return err
			}
			break
		}
		s.line(line)
		if err == io.EOF {
			break
		}
	}
	s.flushBounce()
	s.close("the reply has no final line (code followed by a space); it may be cut short")
	return s.err
}

// readLine returns the next line without its end, cut to max bytes.
func readLine(br *bufio.Reader, max int) (string, error) {
	var buf []byte
	for {
		frag, err := br.ReadSlice('\n')
		if len(buf) < max {
			room := max - len(buf)
			if len(frag) > room {
				buf = append(buf, frag[:room]...)
			} else {
				buf = append(buf, frag...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		s := strings.TrimRight(string(buf), "\r\n")
		if err != nil {
			return s, err
		}
		return s, nil
	}
}

func (s *scanner) line(l string) {
	if s.inBnc {
		if l != "" && (l[0] == ' ' || l[0] == '\t') {
			// A bounce wraps the quoted reply onto indented lines.
			s.bounce.WriteByte(' ')
			s.bounce.WriteString(strings.TrimSpace(l))
			return
		}
		s.flushBounce()
	}
	if strings.TrimSpace(l) == "" {
		s.close("the reply has no final line (code followed by a space); it may be cut short")
		s.rcpt = ""
		return
	}
	if a, ok := recipientLine(l); ok {
		s.close("the reply has no final line (code followed by a space); it may be cut short")
		s.rcpt = a
		if !strings.Contains(l, "said:") && !strings.Contains(l, "]: ") {
			return
		}
	}
	for _, m := range otherMarkers {
		if strings.HasPrefix(l, m) {
			s.close("the reply has no final line before the next command")
			return
		}
	}
	body, marked := l, false
	for _, m := range recvMarkers {
		if strings.HasPrefix(l, m) {
			body, marked = l[len(m):], true
			break
		}
	}
	if !marked {
		body = strings.TrimLeft(l, " \t")
	}
	if _, _, _, ok := replyStart(body); ok {
		s.pieces(body)
		return
	}
	if !marked {
		if t := strings.TrimRight(body, " \t"); strings.HasSuffix(t, "said:") {
			// Postfix puts the quoted reply on the following, indented lines.
			s.close("the reply has no final line (code followed by a space); it may be cut short")
			s.inBnc = true
			s.bounce.Reset()
			return
		}
		if i, quoted := embedded(body); i >= 0 {
			rest := body[i:]
			if quoted {
				rest = strings.TrimSuffix(strings.TrimRight(rest, " "), "'")
			}
			s.inBnc = true
			s.bounce.Reset()
			s.bounce.WriteString(rest)
			return
		}
	}
	if strings.TrimSpace(l) == "" || s.open {
		s.close("the reply has no final line (code followed by a space); it may be cut short")
	}
}

func (s *scanner) flushBounce() {
	if !s.inBnc {
		return
	}
	s.inBnc = false
	b := strings.TrimSpace(s.bounce.String())
	if _, _, _, ok := replyStart(b); !ok {
		i, _ := embedded(b)
		if i < 0 {
			return
		}
		b = b[i:]
	}
	s.pieces(b)
	s.close("the reply has no final line (code followed by a space); it may be cut short")
}

// pieces feeds one reply line, splitting it where a bounce has run several
// lines of a multi-line reply together ("550-5.7.1 a 550-5.7.1 b 550 5.7.1 c").
func (s *scanner) pieces(body string) {
	code, sep, text, _ := replyStart(body)
	enh, _, _ := session.SplitEnhanced(text)
	for enh != "" {
		cut, next := splitMerged(text, code, enh)
		if cut < 0 {
			break
		}
		s.add(piece{code: code, sep: '-', text: strings.TrimRight(text[:cut], " "), raw: fmt.Sprintf("%d-%s", code, strings.TrimRight(text[:cut], " "))})
		code, sep, text, _ = replyStart(text[next:])
	}
	s.add(piece{code: code, sep: sep, text: text, raw: body})
}

// splitMerged finds " NNN-E " or " NNN E " (same code, same enhanced code)
// inside text: the start of the next merged line.
func splitMerged(text string, code int, enh string) (cut, next int) {
	cs := strconv.Itoa(code)
	from := len(enh)
	for {
		i := strings.Index(text[from:], " "+cs)
		if i < 0 {
			return -1, 0
		}
		at := from + i + 1
		rest := text[at+3:]
		if len(rest) > 0 && (rest[0] == '-' || rest[0] == ' ') && strings.HasPrefix(rest[1:], enh) {
			after := rest[1+len(enh):]
			if after == "" || after[0] == ' ' {
				return at - 1, at
			}
		}
		from = at + 3
	}
}

func (s *scanner) add(p piece) {
	if s.err != nil {
		return
	}
	if s.cur != nil && s.cur.Code != p.code {
		s.close("the reply has no final line; the next line carries another code")
	}
	if s.cur == nil {
		s.cur = &Reply{Code: p.code}
	}
	switch n := len(s.cur.Lines); {
	case n < session.DefaultMaxLines:
		txt := p.text
		if e, rest, ok := session.SplitEnhanced(txt); ok {
			if s.cur.Enhanced == "" {
				s.cur.Enhanced = e
			}
			txt = rest
		}
		s.cur.Lines = append(s.cur.Lines, txt)
		s.cur.Raw = append(s.cur.Raw, p.raw)
	case n == session.DefaultMaxLines:
		// Keep memory bounded: a reply that never ends stops growing here.
		s.cur.Notes = append(s.cur.Notes, fmt.Sprintf("the reply has more than %d lines; the rest is left out", session.DefaultMaxLines))
		s.cur.Lines = append(s.cur.Lines, "...")
	}
	s.open = p.sep == '-'
	if !s.open {
		s.finish()
	}
}

// close ends a reply still waiting for its final line, with a note.
func (s *scanner) close(note string) {
	if s.cur == nil {
		return
	}
	if s.open {
		s.cur.Notes = append(s.cur.Notes, note)
	}
	s.finish()
}

func (s *scanner) finish() {
	r := *s.cur
	s.cur, s.open = nil, false
	r.Recipient = s.rcpt
	if r.Recipient != "" {
		k := bounceKey(r)
		if s.seen[k] {
			return
		}
		if s.seen == nil {
			s.seen = map[string]bool{}
		}
		if len(s.seen) < maxSeen {
			s.seen[k] = true
		}
	}
	if s.err == nil {
		s.err = s.emit(r)
	}
}

// bounceKey identifies a reply for one recipient whatever the wrapping:
// the text's words, without Postfix's "(in reply to ... command)" tail.
func bounceKey(r Reply) string {
	t := strings.ToLower(strings.Join(strings.Fields(r.Text()), " "))
	if i := strings.LastIndex(t, " (in reply to "); i >= 0 {
		t = t[:i]
	}
	return fmt.Sprintf("%s\x00%d\x00%s\x00%s", strings.ToLower(r.Recipient), r.Code, r.Enhanced, t)
}

// recipientLine reports a line that names the recipient of what follows in
// a pasted bounce: a DSN "Final-Recipient: rfc822; addr", Postfix's
// "<addr>: host ... said:" (or "<addr> (expanded from <alias>): ..."),
// Exim's indented bare address, or "... after RCPT TO:<addr>:".
func recipientLine(l string) (string, bool) {
	for _, m := range recvMarkers {
		if strings.HasPrefix(l, m) {
			return "", false
		}
	}
	for _, m := range otherMarkers {
		if strings.HasPrefix(l, m) {
			return "", false
		}
	}
	t := strings.TrimSpace(l)
	if len(t) > 15 && strings.EqualFold(t[:15], "final-recipient") {
		rest := strings.TrimLeft(t[15:], " \t")
		if !strings.HasPrefix(rest, ":") {
			return "", false
		}
		rest = rest[1:]
		if _, after, ok := strings.Cut(rest, ";"); ok {
			rest = after
		}
		return plainAddress(rest)
	}
	if i := strings.Index(strings.ToUpper(t), "AFTER RCPT TO:<"); i >= 0 {
		if a, _, ok := strings.Cut(t[i+15:], ">"); ok {
			return plainAddress(a)
		}
	}
	if strings.HasPrefix(t, "<") {
		if a, rest, ok := strings.Cut(t[1:], ">"); ok && (strings.HasPrefix(rest, ":") || strings.HasPrefix(rest, " (expanded from")) {
			return plainAddress(a)
		}
	}
	if l != t && !strings.ContainsAny(t, " \t") {
		return plainAddress(strings.TrimSuffix(strings.TrimPrefix(t, "<"), ">"))
	}
	return "", false
}

// plainAddress accepts local@domain with nothing else around it.
func plainAddress(s string) (string, bool) {
	s = strings.TrimSpace(s)
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 || len(s) > 320 || strings.ContainsAny(s, " \t<>()[],;\"") || !strings.Contains(s[at:], ".") {
		return "", false
	}
	return s, true
}

// replyStart parses "NNN-text", "NNN text" or "NNN" with a code that RFC
// 5321's grammar allows: first digit 2-5, second 0-5.
func replyStart(l string) (code int, sep byte, text string, ok bool) {
	if len(l) < 3 || !validBasic(l[:3]) {
		return 0, 0, "", false
	}
	code, _ = strconv.Atoi(l[:3])
	if len(l) == 3 {
		return code, ' ', "", true
	}
	if l[3] != ' ' && l[3] != '-' {
		return 0, 0, "", false
	}
	return code, l[3], l[4:], true
}

// validBasic accepts a code whose first digit is a class (2-5). A second
// digit above 5 is outside RFC 5321's grammar, but §4.2 has clients read an
// unknown code by its first digit, so such a code is explained by class.
func validBasic(s string) bool {
	return len(s) == 3 && s[0] >= '2' && s[0] <= '5' && s[1] >= '0' && s[1] <= '9' && s[2] >= '0' && s[2] <= '9'
}

// embedded finds a reply quoted inside a line: after a lead-in such as
// "said: ", or anywhere a word-bounded "NNN-E"/"NNN E" has an enhanced code
// of the same class. quoted reports a "returned '" lead-in.
func embedded(l string) (at int, quoted bool) {
	for _, li := range leadIns {
		if i := strings.Index(l, li); i >= 0 {
			j := i + len(li)
			if _, _, _, ok := replyStart(l[j:]); ok {
				return j, li == "returned '"
			}
		}
	}
	for i := 1; i+5 < len(l); i++ {
		if !strings.ContainsRune(" '\"(:[", rune(l[i-1])) {
			continue
		}
		code, _, text, ok := replyStart(l[i:])
		if !ok || text == "" {
			continue
		}
		if e, _, ok := session.SplitEnhanced(text); ok && int(e[0]-'0') == code/100 {
			return i, false
		}
	}
	return -1, false
}

// Lookup explains what the command-line arguments give: a reply code, an
// enhanced code, both (in either order), a pattern such as "5yz" or
// "X.7.YYY", or a whole reply (single or multi-line). Input that is none of
// these is an *InputError.
func Lookup(args []string) ([]*Explanation, error) {
	s := strings.TrimSpace(strings.Join(args, " "))
	if s == "" {
		return nil, &InputError{"nothing to explain", hintGeneral}
	}
	if strings.ContainsAny(s, "\r\n") {
		return scanString(s)
	}
	f := strings.Fields(s)
	if len(f) == 1 {
		if e := lookupPattern(f[0]); e != nil {
			return []*Explanation{e}, nil
		}
	}
	switch {
	case looksEnhanced(f[0]):
		enh, err := checkEnhanced(f[0])
		if err != nil {
			return nil, err
		}
		r := Reply{Enhanced: enh}
		if len(f) == 2 && allDigits(f[1]) {
			code, err := checkBasic(f[1])
			if err != nil {
				return nil, err
			}
			r.Code = code
		} else if len(f) > 1 {
			r.Lines = []string{strings.Join(f[1:], " ")}
			r.Raw = []string{s}
		}
		return []*Explanation{Explain(r)}, nil
	case allDigits(f[0]):
		code, err := checkBasic(f[0])
		if err != nil {
			return nil, err
		}
		if len(f) == 2 && looksEnhanced(f[1]) {
			enh, err := checkEnhanced(f[1])
			if err != nil {
				return nil, err
			}
			return []*Explanation{Explain(Reply{Code: code, Enhanced: enh})}, nil
		}
		if len(f) == 1 {
			return []*Explanation{Explain(Reply{Code: code})}, nil
		}
		return scanString(s)
	case len(f[0]) > 3 && f[0][3] == '-' && allDigits(f[0][:3]):
		if _, err := checkBasic(f[0][:3]); err != nil {
			return nil, err
		}
		return scanString(s)
	}
	out, err := scanString(s)
	if err != nil {
		return nil, &InputError{fmt.Sprintf("no reply code in %q", clip(s)), hintGeneral}
	}
	return out, nil
}

func scanString(s string) ([]*Explanation, error) {
	var out []*Explanation
	err := Scan(strings.NewReader(s), func(r Reply) error {
		out = append(out, Explain(r))
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, &InputError{fmt.Sprintf("no SMTP reply found in %q", clip(s)), hintGeneral}
	}
	return out, nil
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// looksEnhanced: digits and dots with at least one dot, i.e. an attempt at
// an enhanced code, valid or not.
func looksEnhanced(s string) bool {
	if !strings.Contains(s, ".") || s[0] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if (s[i] < '0' || s[i] > '9') && s[i] != '.' {
			return false
		}
	}
	return true
}

func checkBasic(s string) (int, error) {
	switch {
	case len(s) != 3:
		return 0, &InputError{fmt.Sprintf("%s is not an SMTP reply code", clip(s)), hintBasic}
	case s[0] == '1':
		return 0, &InputError{fmt.Sprintf("%s is not an SMTP reply code: SMTP never uses a first digit of 1", s), "1yz replies belong to other protocols such as FTP; " + hintBasic}
	case !validBasic(s):
		return 0, &InputError{fmt.Sprintf("%s is not an SMTP reply code", s), hintBasic}
	}
	n, _ := strconv.Atoi(s)
	return n, nil
}

// checkEnhanced validates and canonicalises ("5.01.1" becomes "5.1.1").
func checkEnhanced(s string) (string, error) {
	class, subject, detail, ok := parseEnhanced(s)
	parts := strings.Split(s, ".")
	if !ok || class == 0 || len(parts) != 3 || len(parts[1]) > 3 || len(parts[2]) > 3 || parts[1] == "" || parts[2] == "" {
		return "", &InputError{fmt.Sprintf("%s is not an enhanced status code", clip(s)), hintEnhanced}
	}
	return fmt.Sprintf("%d.%d.%d", class, subject, detail), nil
}

// lookupPattern explains a class or category pattern, or a code with any
// class ("X.1.1"); nil when s is none of those.
func lookupPattern(s string) *Explanation {
	u := strings.ToUpper(s)
	var key, kind string
	switch {
	case len(u) == 3 && u[0] >= '1' && u[0] <= '5' && (u[1:] == "YZ" || u[1:] == "XX"):
		key, kind = u[:1]+"yz", "class"
	case len(u) == 3 && u[0] == 'X' && u[1] >= '0' && u[1] <= '5' && (u[2] == 'Z' || u[2] == 'X'):
		key, kind = "x"+u[1:2]+"z", "category"
	case u == "XYZ":
		key, kind = "xyz", "detail"
	}
	if key != "" {
		f, _ := basicFactFor(key)
		w, _ := basicWordsFor(key, "")
		e := newPatternExplanation(s, &Pattern{Code: key, Kind: kind, Name: w.Name, Meaning: w.Meaning, Action: w.Action, Commands: f.Commands, Reference: f.Ref})
		if kind == "class" {
			e.Class = int(key[0] - '0')
			if e.Class >= 2 {
				e.ClassName, e.Retry = classNames[e.Class], retryByClass[e.Class]
			}
			e.ExitClass = exitClass(e.Class)
		}
		return e
	}
	c, sub, det, ok := split3(u)
	if !ok {
		return nil
	}
	wild := func(x string) bool { return x == "X" || x == "XXX" || x == "Y" || x == "YYY" }
	switch {
	case (c == "2" || c == "4" || c == "5") && wild(sub) && wild(det):
		key, kind = c+".XXX.YYY", "enhanced_class"
	case c == "X" && allDigits(sub) && wild(det):
		n, _ := strconv.Atoi(sub)
		key, kind = fmt.Sprintf("X.%d.YYY", n), "enhanced_subject"
	case c == "X" && allDigits(sub) && allDigits(det) && len(sub) <= 3 && len(det) <= 3:
		_, subject, detail, _ := parseEnhanced(u)
		e := Explain(Reply{Enhanced: fmt.Sprintf("X.%d.%d", subject, detail)})
		e.Input = s
		return e
	default:
		return nil
	}
	f, ok := enhancedFactFor(key)
	if !ok {
		return nil
	}
	w, _ := enhancedWordsFor(key)
	e := newPatternExplanation(s, &Pattern{Code: key, Kind: kind, Name: w.Name, Meaning: w.Meaning, Action: w.Action, Commands: f.Basic, Reference: f.Ref})
	if kind == "enhanced_class" {
		e.Class = int(key[0] - '0')
		e.ClassName, e.Retry = classNames[e.Class], retryByClass[e.Class]
		e.ExitClass = exitClass(e.Class)
	}
	return e
}

func newPatternExplanation(input string, p *Pattern) *Explanation {
	return &Explanation{Input: input, Pattern: p, Action: p.Action, ProviderUses: []ProviderUse{}, Notes: []string{}}
}
