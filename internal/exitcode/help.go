package exitcode

import (
	"strconv"
	"strings"
)

// Status is one row of the exit-status table (DESIGN §4).
type Status struct {
	Code    int
	Name    string // one word: success, check, usage, ...
	Meaning string // what the status means, whichever verb returns it
}

// Table is the one exit-status table, in the order it is documented. The
// README shows it whole (a test keeps the two in step); each verb's help
// and man page show the rows that verb can return (HelpSection).
var Table = []Status{
	{OK, "success", "the final reply was 2xx, or the requested stop point was reached"},
	{Check, "check", "a check or expectation failed (probe checks, verify --expect, --strict and --fail-on, send --auth without a usable mechanism, sink --exit-after not reached, codes --search without a match)"},
	{Usage, "usage", "bad flag, argument, address, header or input file; nothing was sent"},
	{Network, "network", "DNS failure, connect refused or timed out, connection lost, no reply to classify"},
	{Transient, "transient", "the final reply was 4xx: retry later"},
	{Permanent, "permanent", "the final reply was 5xx; also NXDOMAIN or a null MX for the recipient's domain"},
	{TLS, "TLS", "the handshake or certificate verification failed, STARTTLS was refused, or TLS was required and not offered"},
	{Protocol, "protocol", "the server's reply was malformed, out of sequence or over a limit"},
	{Interrupted, "interrupted", "Ctrl-C or SIGTERM ended the run before it finished (128 + SIGINT, as a shell reports it)"},
}

// Case is one status a verb can return. When says, in the verb's own
// words, when it returns it; empty, the table's meaning says it.
type Case struct {
	Code int
	When string
}

// helpWidth is where HelpSection wraps its lines, as the rest of the help.
const helpWidth = 78

// HelpSection returns the EXIT STATUS section of a help text. With no
// cases it is the whole table; with a verb's cases, only the statuses that
// verb can return, in table order, each as the verb words it. Every verb
// builds its help on every run, so this is one allocation.
func HelpSection(cases ...Case) string {
	var b strings.Builder
	b.Grow(2048)
	b.WriteString("EXIT STATUS\n")
	for _, r := range Table {
		what := r.Meaning
		if len(cases) > 0 {
			found := false
			for _, c := range cases {
				if c.Code == r.Code {
					found = true
					if c.When != "" {
						what = c.When
					}
				}
			}
			if !found {
				continue
			}
		}
		writeWrapped(&b, "  "+strconv.Itoa(r.Code)+"  "+r.Name+": "+what)
	}
	return b.String()
}

// writeWrapped writes line, broken at spaces before helpWidth, with each
// continuation indented under the text after the status.
func writeWrapped(b *strings.Builder, line string) {
	const indent = "     "
	for len(line) > helpWidth {
		cut := strings.LastIndexByte(line[:helpWidth+1], ' ')
		if cut <= len(indent) {
			break
		}
		b.WriteString(line[:cut])
		b.WriteString("\n")
		line = indent + line[cut+1:]
	}
	b.WriteString(line)
	b.WriteString("\n")
}
