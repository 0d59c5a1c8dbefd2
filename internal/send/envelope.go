package send

import (
	"strings"

	"github.com/smtpx/smtpx/internal/address"
	"github.com/smtpx/smtpx/internal/exitcode"
)

// Envelope is who a send is from and to: the reverse path and the
// recipients as they go into MAIL FROM and RCPT TO, and the same people as
// the From, To and Cc headers show them (display names kept). Recipients
// travel on this one track, from the command line to each transaction.
type Envelope struct {
	From     string // reverse-path mailbox; "" is the null sender
	FromUTF8 bool   // the sender's local part needs SMTPUTF8
	Rcpts    []Rcpt // To, Cc and Bcc, each mailbox once, in order

	HeaderFrom         string   // "" for the null sender
	HeaderTo, HeaderCc []string // Bcc never appears in a header
}

// EnvelopeInput is what the user gave, one list entry per flag use; each
// may be a comma list, and each address may carry a display name the way
// swaks and mail clients accept it: "Alice <alice@example.com>".
type EnvelopeInput struct {
	From        string // "<>" for the null sender
	DefaultFrom string // used when From is empty
	To, Cc, Bcc []string
	// Origin names where a flag's value came from when not the command
	// line ("$SMTPX_FROM", `profile "work"`), for error messages.
	Origin map[string]string
}

// NewEnvelope parses the sender and recipients. An address that is not
// valid is a usage error naming the flag (and where its value came from).
func NewEnvelope(in EnvelopeInput) (*Envelope, error) {
	env := &Envelope{}
	switch in.From {
	case "<>":
	default:
		from := in.From
		if from == "" {
			from = in.DefaultFrom
		}
		list := splitList(from)
		if len(list) != 1 {
			return nil, exitcode.Usagef("give one sender to --from; recipients go to --to, --cc and --bcc", "%s: a message has one sender", where(in, "from"))
		}
		p, header, err := parseEntry(list[0])
		if err != nil {
			return nil, addrErr(in, "from", "give --from as local@domain or \"Name <local@domain>\", or <> for the null sender", err)
		}
		env.From, env.FromUTF8, env.HeaderFrom = mailbox(p), p.UTF8, header
	}
	seen := map[string]bool{}
	for _, fl := range []struct {
		flag   string
		list   []string
		header *[]string
	}{{"to", in.To, &env.HeaderTo}, {"cc", in.Cc, &env.HeaderCc}, {"bcc", in.Bcc, nil}} {
		for _, v := range fl.list {
			for _, e := range splitList(v) {
				p, header, err := parseEntry(e)
				if err != nil {
					return nil, addrErr(in, fl.flag, "check the address given to --"+fl.flag, err)
				}
				if fl.header != nil {
					*fl.header = append(*fl.header, header)
				}
				key := strings.ToLower(p.Mailbox())
				if seen[key] {
					continue
				}
				seen[key] = true
				env.Rcpts = append(env.Rcpts, Rcpt{Mailbox: mailbox(p), UTF8: p.UTF8, Domain: p.ASCIIDomain})
			}
		}
	}
	return env, nil
}

// where names a flag, and where its value came from when not argv.
func where(in EnvelopeInput, flag string) string {
	if o := in.Origin[flag]; o != "" {
		return "--" + flag + " (from " + o + ")"
	}
	return "--" + flag
}

func addrErr(in EnvelopeInput, flag, hint string, err error) error {
	return exitcode.Usagef(hint, "%s: %v", where(in, flag), err)
}

// mailbox is the address as it goes on the wire: A-labels for the domain,
// unless the local part already needs SMTPUTF8 (then the Unicode form,
// which such a server takes as it is).
func mailbox(p address.Address) string {
	if p.UTF8 {
		return p.Local + "@" + p.Domain
	}
	return p.Mailbox()
}

// parseEntry reads one address, bare ("bob@example.com", "<bob@…>") or
// with a display name ("Bob <bob@example.com>", "\"Doe, J\" <j@…>"). It
// returns the mailbox and the header form: the address in Unicode form,
// with the display name as given (message building quotes or RFC
// 2047-encodes it).
func parseEntry(e string) (address.Address, string, error) {
	name, addr := e, e
	if strings.HasSuffix(e, ">") {
		if i := strings.LastIndexByte(e, '<'); i > 0 {
			name, addr = strings.TrimSpace(e[:i]), e[i:]
		} else {
			name = ""
		}
	} else {
		name = ""
	}
	p, err := address.Parse(addr)
	if err != nil {
		return p, "", err
	}
	if name == "" {
		return p, p.String(), nil
	}
	return p, name + " <" + p.String() + ">", nil
}

// splitList splits a comma list ("a@x, Bob <b@y>") while keeping commas
// inside quotes (a quoted local part or display name) and inside angle
// brackets, and trims the blanks around each entry. Line breaks are left
// in place for the address parser to refuse.
func splitList(v string) []string {
	var out []string
	start, quoted, angle := 0, false, false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '\\' && quoted:
			i++
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '<':
			angle = true
		case c == '>':
			angle = false
		case c == ',' && !angle:
			out = append(out, strings.Trim(v[start:i], " \t"))
			start = i + 1
		}
	}
	return append(out, strings.Trim(v[start:], " \t"))
}
