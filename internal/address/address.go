// Package address parses e-mail addresses the way an SMTP client must send
// them: the Mailbox of RFC 5321 §4.1.2, extended by RFC 6531 (SMTPUTF8) to
// UTF-8 local parts and by RFC 5890/5891 (IDNA 2008, applied through the UTS
// #46 mapping) to internationalised domain names.
//
// What is accepted:
//
//   - a dot-atom local part (RFC 5321 Dot-string, with RFC 6531's UTF-8
//     atext) or a quoted local part ("john doe"@example.com, with the
//     backslash quoted-pair of RFC 5321);
//   - a domain of letter-digit-hyphen labels, or Unicode labels converted to
//     A-labels; or an address literal, "[192.0.2.1]" or "[IPv6:2001:db8::1]"
//     (RFC 5321 §4.1.3);
//   - optionally the whole address inside angle brackets, as in a path.
//
// What is refused, with an error saying why: CR, LF and other control
// characters anywhere; spaces outside quotes; empty, leading, trailing or
// doubled dots; a local part over 64 octets, a domain over 255 octets, or
// an address over 254 octets (the 256-octet path of RFC 5321 §4.5.3.1.3
// minus its angle brackets); general address literals ("[tag:...]"), which
// no one delivers to.
//
// The send and verify verbs share this parser, so both refuse the same
// addresses before anything is written to a server.
package address

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// Limits from RFC 5321 §4.5.3.1.
const (
	MaxLocal   = 64  // §4.5.3.1.1: octets in a local part
	MaxDomain  = 255 // §4.5.3.1.2: octets in a domain
	MaxAddress = 254 // §4.5.3.1.3: a 256-octet path minus "<" and ">"
	maxInput   = 1024
)

// Address is a parsed mailbox.
type Address struct {
	// Local is the local part exactly as written, quotes included when it
	// was quoted. Local parts are case-sensitive (RFC 5321 §2.4), so it is
	// never folded.
	Local string
	// Quoted is set when Local is a quoted string.
	Quoted bool
	// Domain is the domain in Unicode (U-labels), lower case; for an
	// address literal, the literal with its brackets.
	Domain string
	// ASCIIDomain is the domain as DNS and a server without SMTPUTF8 see it
	// (A-labels, lower case); equal to Domain for ASCII names and literals.
	ASCIIDomain string
	// Literal is set for an address literal; IP then holds the address.
	Literal bool
	IP      netip.Addr
	// UTF8 is set when the local part holds non-ASCII characters, so the
	// address can only be sent to a server that offers SMTPUTF8 (RFC 6531
	// §3.2). A Unicode domain alone does not need it: its A-label form is
	// plain ASCII.
	UTF8 bool
}

// String returns the address in Unicode form, local@domain.
func (a Address) String() string { return a.Local + "@" + a.Domain }

// Mailbox returns the address as it goes into MAIL FROM or RCPT TO, without
// the angle brackets: the domain in A-labels, which every server accepts,
// SMTPUTF8 or not.
func (a Address) Mailbox() string { return a.Local + "@" + a.ASCIIDomain }

// Error is a syntax error in an address.
type Error struct {
	Input string // the address as given, possibly cut short
	Msg   string // what is wrong, lower case
}

func (e *Error) Error() string {
	return fmt.Sprintf("invalid address %q: %s", e.Input, e.Msg)
}

// idnaProfile converts a Unicode domain as a mail client would (UTS #46
// mapping, non-transitional, Bidi rule) and, unlike route's lookup profile,
// holds the labels to the letter-digit-hyphen rule, since RFC 5321 §4.1.2
// allows nothing else in a mail domain.
var idnaProfile = idna.New(
	idna.MapForLookup(),
	idna.BidiRule(),
	idna.Transitional(false),
	idna.StrictDomainName(true),
	idna.VerifyDNSLength(true),
	idna.CheckHyphens(true),
)

// Parse reads one mailbox, e.g. "bob@example.com", "\"john doe\"@example.com",
// "jürgen@bücher.example" or "postmaster@[192.0.2.1]", optionally inside
// angle brackets. The error is an *Error.
func Parse(s string) (Address, error) {
	shown := s
	if len(shown) > 80 {
		shown = shown[:80] + "..."
	}
	fail := func(format string, a ...any) (Address, error) {
		return Address{}, &Error{Input: shown, Msg: fmt.Sprintf(format, a...)}
	}
	if len(s) > maxInput {
		return fail("longer than %d octets", MaxAddress)
	}
	if !utf8.ValidString(s) {
		return fail("not valid UTF-8")
	}
	if i := strings.IndexFunc(s, isControl); i >= 0 {
		r, _ := utf8.DecodeRuneInString(s[i:])
		switch r {
		case '\r', '\n':
			return fail("contains a line break")
		}
		return fail("contains the control character %U", r)
	}
	if s == "" {
		return fail("empty")
	}
	if strings.HasPrefix(s, "<") && strings.HasSuffix(s, ">") && len(s) >= 2 {
		s = s[1 : len(s)-1]
	}
	at, err := splitAt(s)
	if err != nil {
		return fail("%v", err)
	}
	local, domain := s[:at], s[at+1:]
	var a Address
	if err := parseLocal(local, &a); err != nil {
		return fail("%v", err)
	}
	if err := parseDomain(domain, &a); err != nil {
		return fail("%v", err)
	}
	if n := len(a.Mailbox()); n > MaxAddress {
		return fail("%d octets long, over the limit of %d", n, MaxAddress)
	}
	return a, nil
}

// isControl reports C0 and C1 controls and DEL, which no address may hold
// even inside quotes: they could rewrite a terminal or split a command.
func isControl(r rune) bool {
	return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0)
}

// splitAt finds the "@" that separates local part and domain: the last one
// outside a quoted string.
func splitAt(s string) (int, error) {
	inQuote, esc := false, false
	at := -1
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case esc:
			esc = false
		case inQuote && c == '\\':
			esc = true
		case c == '"':
			inQuote = !inQuote
		case !inQuote && c == '@':
			at = i
		}
	}
	if inQuote {
		return 0, errors.New("unterminated quoted string")
	}
	if at < 0 {
		return 0, errors.New("no @ between local part and domain")
	}
	return at, nil
}

// parseLocal checks a Dot-string or Quoted-string (RFC 5321 §4.1.2) with the
// UTF-8 extension of RFC 6531 §3.3.
func parseLocal(l string, a *Address) error {
	switch {
	case l == "":
		return errors.New("empty local part")
	case len(l) > MaxLocal:
		return fmt.Errorf("local part is %d octets long, over the limit of %d", len(l), MaxLocal)
	}
	a.Local = l
	for _, r := range l {
		if r >= utf8.RuneSelf {
			a.UTF8 = true
			break
		}
	}
	if l[0] == '"' {
		a.Quoted = true
		return parseQuoted(l)
	}
	if l[0] == '.' || l[len(l)-1] == '.' {
		return errors.New("local part starts or ends with a dot")
	}
	if strings.Contains(l, "..") {
		return errors.New("local part has two dots in a row")
	}
	for _, r := range l {
		if r == '.' || isAtext(r) {
			continue
		}
		switch {
		case r == ' ':
			return errors.New("space in local part (quote it: \"a b\"@example.com)")
		case r == '@':
			return errors.New("more than one @ (quote the local part if it holds one)")
		}
		return fmt.Errorf("character %q not allowed in an unquoted local part", r)
	}
	return nil
}

// parseQuoted checks a Quoted-string that spans the whole local part.
func parseQuoted(l string) error {
	if len(l) < 2 || l[len(l)-1] != '"' {
		return errors.New("text after the closing quote of the local part")
	}
	body := l[1 : len(l)-1]
	if body == "" {
		return errors.New("empty quoted local part")
	}
	esc := false
	for _, r := range body {
		switch {
		case esc:
			// quoted-pairSMTP: backslash then %d32-126; RFC 6531 keeps it ASCII.
			if r < 32 || r > 126 {
				return fmt.Errorf("cannot escape %q in a quoted local part", r)
			}
			esc = false
		case r == '\\':
			esc = true
		case r == '"':
			return errors.New("text after the closing quote of the local part")
		case r >= 32 && r <= 126, r >= utf8.RuneSelf:
			// qtextSMTP, or RFC 6531's UTF8-non-ascii
		default:
			return fmt.Errorf("character %q not allowed in a quoted local part", r)
		}
	}
	if esc {
		return errors.New("quoted local part ends with a lone backslash")
	}
	return nil
}

// isAtext is RFC 5322 atext plus RFC 6531's UTF8-non-ascii, limited to
// characters that print: an invisible or formatting character in an
// address is a spoofing device, not a name.
func isAtext(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	case r < utf8.RuneSelf:
		return strings.ContainsRune("!#$%&'*+-/=?^_`{|}~", r)
	}
	return unicode.IsGraphic(r) && !unicode.IsSpace(r) && !unicode.Is(unicode.Cf, r)
}

// parseDomain checks a Domain or address-literal (RFC 5321 §4.1.2, §4.1.3).
func parseDomain(d string, a *Address) error {
	switch {
	case d == "":
		return errors.New("empty domain")
	case len(d) > MaxDomain:
		return fmt.Errorf("domain is %d octets long, over the limit of %d", len(d), MaxDomain)
	case d[0] == '[':
		return parseLiteral(d, a)
	case strings.HasSuffix(d, "."):
		return errors.New("domain ends with a dot")
	case strings.HasPrefix(d, "."):
		return errors.New("domain starts with a dot")
	case strings.Contains(d, ".."):
		return errors.New("domain has two dots in a row")
	}
	if strings.ContainsFunc(d, unicode.IsSpace) {
		return errors.New("space in domain")
	}
	if i := strings.IndexFunc(d, func(r rune) bool { return unicode.Is(unicode.Cf, r) }); i >= 0 {
		// UTS #46 would silently drop a zero-width character; an address
		// that looks like one domain and is another is refused instead.
		r, _ := utf8.DecodeRuneInString(d[i:])
		return fmt.Errorf("invisible character %U in domain", r)
	}
	ascii := strings.ToLower(d)
	if !isASCII(d) {
		var err error
		ascii, err = idnaProfile.ToASCII(d)
		if err != nil {
			return fmt.Errorf("not a valid internationalised domain name: %v", trimIDNAError(err))
		}
		ascii = strings.ToLower(ascii)
	}
	if err := checkLDH(ascii); err != nil {
		return err
	}
	a.ASCIIDomain = ascii
	a.Domain = ascii
	if strings.Contains(ascii, "xn--") {
		// Show the U-label form; a bad A-label given by the user (one that
		// does not decode) is refused here rather than sent.
		u, err := idnaProfile.ToUnicode(ascii)
		if err == nil {
			var back string
			back, err = idnaProfile.ToASCII(u)
			if err == nil && back != ascii {
				err = fmt.Errorf("A-label does not round-trip (%s)", back)
			}
		}
		if err != nil {
			return fmt.Errorf("not a valid internationalised domain name: %v", trimIDNAError(err))
		}
		a.Domain = u
	}
	return nil
}

func trimIDNAError(err error) string {
	return strings.TrimPrefix(err.Error(), "idna: ")
}

// checkLDH applies the sub-domain rule (Let-dig [Ldh-str]) to each label and
// the DNS length limits.
func checkLDH(d string) error {
	if len(d) > 253 {
		return fmt.Errorf("domain is %d characters long in DNS form, over the limit of 253", len(d))
	}
	for label := range strings.SplitSeq(d, ".") {
		switch {
		case label == "":
			return errors.New("empty label in domain")
		case len(label) > 63:
			return fmt.Errorf("domain label %q is longer than 63 characters", label)
		case label[0] == '-' || label[len(label)-1] == '-':
			return fmt.Errorf("domain label %q starts or ends with a hyphen", label)
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return fmt.Errorf("character %q not allowed in a domain", c)
			}
		}
	}
	return nil
}

// parseLiteral reads "[IPv4]" or "[IPv6:addr]".
func parseLiteral(d string, a *Address) error {
	if !strings.HasSuffix(d, "]") {
		return errors.New("address literal without closing ]")
	}
	body := d[1 : len(d)-1]
	var ip netip.Addr
	var err error
	if v6, ok := cutPrefixFold(body, "IPv6:"); ok {
		ip, err = netip.ParseAddr(v6)
		if err != nil || !ip.Is6() || ip.Zone() != "" {
			return fmt.Errorf("bad IPv6 address literal %q", body)
		}
		a.Domain = "[IPv6:" + ip.String() + "]"
	} else {
		if strings.Contains(body, ":") {
			return fmt.Errorf("unsupported address literal %q (use [192.0.2.1] or [IPv6:2001:db8::1])", body)
		}
		ip, err = netip.ParseAddr(body)
		if err != nil || !ip.Is4() {
			return fmt.Errorf("bad IPv4 address literal %q", body)
		}
		a.Domain = "[" + ip.String() + "]"
	}
	a.Literal, a.IP, a.ASCIIDomain = true, ip, a.Domain
	return nil
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
