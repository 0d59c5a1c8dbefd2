package send

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/session"
)

// Attr is one XCLIENT or XFORWARD attribute (Postfix's XCLIENT_README and
// XFORWARD_README): a name and its value, not yet xtext-encoded.
type Attr struct {
	Name  string // upper case: NAME, ADDR, PORT, ...
	Value string
}

// The attributes each command knows.
var (
	XClientAttrs  = []string{"NAME", "ADDR", "PORT", "PROTO", "HELO", "LOGIN", "DESTADDR", "DESTPORT"}
	XForwardAttrs = []string{"NAME", "ADDR", "PORT", "PROTO", "HELO", "IDENT", "SOURCE"}
)

// Values Postfix takes in place of a real one for an unknown attribute.
const (
	unavailable = "[UNAVAILABLE]"
	tempUnavail = "[TEMPUNAVAIL]"
)

// maxAttrValue bounds a value; Postfix's own limits are about this (a
// host name is at most 255 bytes, and the command line 512 with all
// attributes).
const maxAttrValue = 255

// ParseAttrs reads the --xclient or --xforward flag values (verb XCLIENT
// or XFORWARD): NAME=VALUE pairs, comma-separated, each flag value
// adding to the list. Each attribute is checked for what Postfix accepts,
// so a typo is a usage error, not a 501 from the server.
func ParseAttrs(verb string, values []string) ([]Attr, error) {
	known := XClientAttrs
	if verb == "XFORWARD" {
		known = XForwardAttrs
	}
	flag := "--" + strings.ToLower(verb)
	hint := fmt.Sprintf("write %s NAME=VALUE,... with NAME one of %s", flag, strings.Join(known, ", "))
	var out []Attr
	for _, v := range values {
		for _, pair := range strings.Split(v, ",") {
			pair = strings.TrimSpace(pair)
			name, value, ok := strings.Cut(pair, "=")
			name = strings.ToUpper(strings.TrimSpace(name))
			switch {
			case pair == "":
				continue
			case !ok:
				return nil, exitcode.Usagef(hint, "%s %q: want NAME=VALUE", flag, pair)
			case !slices.Contains(known, name):
				return nil, exitcode.Usagef(hint, "%s: %q is not a %s attribute", flag, name, verb)
			case slices.ContainsFunc(out, func(a Attr) bool { return a.Name == name }):
				return nil, exitcode.Usagef("give each attribute once", "%s: %s is given twice", flag, name)
			}
			value, err := checkAttr(verb, name, value)
			if err != nil {
				return nil, exitcode.Usagef(hint, "%s %s: %v", flag, name, err)
			}
			out = append(out, Attr{Name: name, Value: value})
		}
	}
	return out, nil
}

// checkAttr validates one value and returns it as it goes on the wire
// (before xtext).
func checkAttr(verb, name, v string) (string, error) {
	if v == unavailable || (v == tempUnavail && name != "SOURCE") {
		return v, nil
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] == 0x7f {
			return "", fmt.Errorf("a value has no control characters")
		}
	}
	switch {
	case v == "":
		return "", fmt.Errorf("the value is empty (use %s for an unknown one)", unavailable)
	case len(v) > maxAttrValue:
		return "", fmt.Errorf("the value is longer than %d bytes", maxAttrValue)
	}
	switch name {
	case "ADDR", "DESTADDR":
		a, err := netip.ParseAddr(strings.TrimPrefix(strings.TrimPrefix(v, "IPV6:"), "ipv6:"))
		if err != nil || a.Zone() != "" {
			return "", fmt.Errorf("%q is not an IPv4 or IPv6 address", v)
		}
		if a.Is4() || a.Is4In6() {
			return a.Unmap().String(), nil
		}
		return "IPV6:" + a.String(), nil // Postfix's form for IPv6
	case "PORT", "DESTPORT":
		if n, err := strconv.ParseUint(v, 10, 16); err != nil || strconv.FormatUint(n, 10) != v {
			return "", fmt.Errorf("%q is not a port number", v)
		}
	case "PROTO":
		if u := strings.ToUpper(v); u == "SMTP" || u == "ESMTP" {
			return u, nil
		}
		return "", fmt.Errorf("%q is not SMTP or ESMTP", v)
	case "SOURCE":
		if u := strings.ToUpper(v); u == "LOCAL" || u == "REMOTE" {
			return u, nil
		}
		return "", fmt.Errorf("%q is not LOCAL or REMOTE", v)
	case "NAME", "HELO":
		if strings.ContainsAny(v, " \t") {
			return "", fmt.Errorf("%q is not one word", v)
		}
	}
	return v, nil
}

// AttrCmd builds an XCLIENT or XFORWARD command, each value xtext-encoded.
func AttrCmd(verb string, attrs []Attr) string {
	var b strings.Builder
	b.WriteString(verb)
	for _, a := range attrs {
		b.WriteByte(' ')
		b.WriteString(a.Name)
		b.WriteByte('=')
		b.WriteString(session.XText(a.Value))
	}
	return b.String()
}

// unoffered returns the attributes of attrs the server's EHLO keyword
// for verb does not list, and whether the keyword is there at all.
func unoffered(ext session.Extensions, verb string, attrs []Attr) (missing []string, offered bool) {
	x, ok := ext.Get(verb)
	if !ok {
		return nil, false
	}
	for _, a := range attrs {
		if !slices.ContainsFunc(x.Params, func(p string) bool { return strings.EqualFold(p, a.Name) }) {
			missing = append(missing, a.Name)
		}
	}
	return missing, true
}

// notOffered is the local refusal of XCLIENT or XFORWARD (or some of its
// attributes) that the server does not offer: nothing is sent that the
// server would have to refuse. It reports nil when optional, after an
// info line saying that the command was left out.
func (o *Options) notOffered(ext session.Extensions, verb string, attrs []Attr, optional bool) (skip bool, err error) {
	missing, offered := unoffered(ext, verb, attrs)
	if offered && len(missing) == 0 {
		return false, nil
	}
	flag := "--" + strings.ToLower(verb)
	msg := "the server does not offer " + verb
	if offered {
		msg = fmt.Sprintf("the server's %s does not take %s", verb, strings.Join(missing, ", "))
	}
	if optional {
		o.info(msg + ": sent without it (" + flag + "-optional)")
		return true, nil
	}
	hint := fmt.Sprintf("add %s-optional to go on without it", flag)
	if !offered {
		hint = fmt.Sprintf("check that this client is in the server's %s_hosts list (Postfix: smtpd_authorized_%s_hosts), or add %s-optional",
			strings.ToLower(verb), strings.ToLower(verb), flag)
	}
	return false, &exitcode.Error{Code: exitcode.Check, Msg: msg, Hint: hint}
}

// xclient sends XCLIENT and says EHLO again, as the server now stands for
// the client it was told of (Postfix answers with a fresh 220 greeting).
// It reports false when the dialogue ended.
func (o *Options) xclient(s *session.Session, tx *Transaction, helo string) bool {
	skip, err := o.notOffered(s.Ext, "XCLIENT", o.XClient, o.XClientOptional)
	if err != nil {
		tx.fail(err)
		return false
	}
	if skip {
		return true
	}
	cmd := AttrCmd("XCLIENT", o.XClient)
	if o.dropSend("xclient") {
		return o.writeAndDrop(s, tx, "xclient", cmd)
	}
	r, err := s.Cmd(cmd)
	tx.note(r)
	if err != nil {
		tx.fail(err)
		return false
	}
	if r.Class() != 2 {
		tx.replyFail("XCLIENT", r)
		return false
	}
	tx.XClient = r
	r, err = s.Hello(helo)
	tx.note(r)
	if err != nil {
		tx.fail(err)
		return false
	}
	return true
}

// xforward sends XFORWARD before a transaction; its attributes last until
// the transaction ends. It reports false when the transaction cannot go on.
func (o *Options) xforward(s *session.Session, tx *Transaction) bool {
	skip, err := o.notOffered(s.Ext, "XFORWARD", o.XForward, o.XForwardOptional)
	if err != nil {
		tx.fail(err)
		return false
	}
	if skip {
		return true
	}
	r, err := s.Cmd(AttrCmd("XFORWARD", o.XForward))
	if err != nil {
		tx.fail(err)
		return false
	}
	tx.note(r)
	if r.Class() != 2 {
		tx.replyFail("XFORWARD", r)
		return false
	}
	return true
}
