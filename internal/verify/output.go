package verify

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/smtpx/smtpx/internal/replycode"
	"github.com/smtpx/smtpx/internal/route"
	"github.com/smtpx/smtpx/internal/session"
	"github.com/smtpx/smtpx/internal/term"
	"github.com/smtpx/smtpx/internal/transcript"
)

// JSON is the --json form of a Result: one object for a single address,
// one line each (JSON Lines) for a bulk run. Field names are stable and
// documented in docs/json.md.
type JSON struct {
	Line          int             `json:"line,omitempty"`
	Input         string          `json:"input"`
	Address       string          `json:"address"`
	Mailbox       string          `json:"mailbox"`
	Domain        string          `json:"domain"`
	Verdict       Verdict         `json:"verdict"`
	Reason        string          `json:"reason"`
	Source        string          `json:"source"`
	CatchAll      *bool           `json:"catch_all"`
	Greylisted    bool            `json:"greylisted"`
	RetryAfterS   float64         `json:"retry_after_s,omitempty"`
	Skipped       bool            `json:"skipped"`
	SMTPUTF8      bool            `json:"smtputf8"`
	MX            string          `json:"mx"`
	MXAddress     string          `json:"mx_address"`
	MXTried       []Attempt       `json:"mx_tried"`
	TLS           *transcript.TLS `json:"tls"`
	TLSError      string          `json:"tls_error,omitempty"`
	TLSFallback   bool            `json:"tls_fallback"`
	Port25Blocked bool            `json:"port25_blocked"`
	Session       int             `json:"session"`
	transcript.Final
	TimingsMS map[string]float64     `json:"timings_ms"`
	Events    []transcript.JSONEvent `json:"events,omitempty"`
}

// ToJSON builds the JSON form. exit is the status to report (the verdict's
// own, or what --strict or --expect made of it); events are the transcript
// of a single-address run, nil in bulk.
func (r *Result) ToJSON(exit int, events []session.Event) JSON {
	j := JSON{
		Line:          r.Line,
		Input:         r.Input,
		Verdict:       r.Verdict,
		Reason:        r.Reason,
		Source:        r.Source,
		CatchAll:      r.CatchAll,
		Greylisted:    r.Greylisted,
		RetryAfterS:   r.RetryAfter.Seconds(),
		Skipped:       r.Skipped,
		SMTPUTF8:      r.SMTPUTF8,
		MX:            r.MX,
		MXAddress:     r.MXAddress,
		MXTried:       r.Tried,
		TLS:           transcript.FromTLS(r.TLS, r.TLSVerified),
		TLSError:      r.TLSError,
		TLSFallback:   r.TLSFallback,
		Port25Blocked: r.PortBlocked,
		Session:       r.Session,
		TimingsMS:     transcript.Timings(r.Timings),
	}
	if j.MXTried == nil {
		j.MXTried = []Attempt{}
	}
	if r.Verdict != BadSyntax {
		j.Address, j.Mailbox, j.Domain = r.Address.String(), r.Address.Mailbox(), r.Address.ASCIIDomain
	}
	if events != nil {
		j.Events = transcript.ToJSON(events, false)
	}
	j.SetReply(r.Reply)
	j.Exit = exit
	if r.Err != nil {
		j.Error = r.Err.Error()
	}
	j.Hint = r.Hint()
	return j
}

// Hint suggests what to do about a result, "" when there is nothing to do.
func (r *Result) Hint() string {
	switch {
	case r.PortBlocked:
		return "outbound port 25 looks blocked here (common on home and cloud networks); run from a host allowed to send mail, or ask the provider to open port 25"
	case r.Verdict == Blocked:
		h := "the refusal is about the prober (its IP address, HELO name or sender), not the address; try from a host with a good reputation and a real --helo and --from"
		if r.Reply != nil && r.Reply.Code >= 400 {
			if rh := replycode.Hint(r.Reply.Code, r.Reply.Enhanced, r.Reply.Text()); rh != "" {
				h += "; " + rh
			}
		}
		return h
	case r.Greylisted:
		if r.RetryAfter > 0 {
			return fmt.Sprintf("greylisted: retry after %s, or let smtpx wait with --wait-greylist %s", r.RetryAfter, (r.RetryAfter + time.Minute).Round(time.Minute))
		}
		return "greylisted: retry in a few minutes, or let smtpx wait with --wait-greylist 5m"
	case r.Verdict == Unprovable && r.CatchAll != nil && *r.CatchAll:
		return "the domain accepts any address at RCPT; only a delivered message and a reply would prove this one exists"
	case r.Verdict == BadSyntax:
		return "write the address as local@domain, e.g. bob@example.com"
	case r.Source == "dns":
		switch route.KindOf(r.Err) {
		case route.KindNXDomain:
			return "the domain does not exist: check its spelling (after the @)"
		case route.KindNoData:
			return "the domain exists but has no MX and no address records, so it cannot receive mail: check its spelling, or ask its owner to publish an MX"
		case route.KindNullMX:
			return "the domain publishes a null MX (RFC 7505): it receives no mail at any address; use another address"
		}
	}
	if r.Reply != nil && r.Reply.Code >= 400 {
		return replycode.Hint(r.Reply.Code, r.Reply.Enhanced, r.Reply.Text())
	}
	return ""
}

// CSVHeader is the first row of --csv output.
var CSVHeader = []string{"line", "input", "address", "verdict", "code", "enhanced", "text", "reason", "catch_all", "greylisted", "mx", "smtputf8", "exit"}

// CSVRecord is one row of --csv output, in the columns of CSVHeader. Every
// cell goes through csvCell, whatever its column: most of them carry text
// a peer chose (the input line, the address, the server's reply, the MX
// name from DNS), and guarding all of them means a column added later
// cannot be forgotten.
func (r *Result) CSVRecord(exit int) []string {
	code, enh, text := "", "", ""
	if r.Reply != nil {
		if r.Reply.Code != 0 {
			code = strconv.Itoa(r.Reply.Code)
		}
		enh, text = r.Reply.Enhanced, strings.ReplaceAll(r.Reply.Text(), "\n", " ")
	}
	catch := ""
	if r.CatchAll != nil {
		catch = strconv.FormatBool(*r.CatchAll)
	}
	addr := ""
	if r.Verdict != BadSyntax {
		addr = r.Address.String()
	}
	line := ""
	if r.Line > 0 {
		line = strconv.Itoa(r.Line)
	}
	rec := []string{line, r.Input, addr, string(r.Verdict), code, enh, text,
		r.Reason, catch, strconv.FormatBool(r.Greylisted), r.MX, strconv.FormatBool(r.SMTPUTF8), strconv.Itoa(exit)}
	for i, v := range rec {
		rec[i] = csvCell(v)
	}
	return rec
}

// formulaLead holds the first characters that make a spreadsheet read a
// cell as a formula (Excel, LibreOffice and Google Sheets; OWASP "CSV
// Injection"): = + - @, and tab and CR, which some of them skip before
// looking at the next character.
const formulaLead = "=+-@\t\r"

// csvCell makes one CSV cell safe to open: control characters escaped as
// for a terminal, and a cell that a spreadsheet would run as a formula put
// behind a quote, which spreadsheets take as "this is text". A valid
// address such as =cmd|'/Ccalc'!A0@b.example and a DNS name such as
// -2+3.g.example both start that way.
func csvCell(s string) string {
	s = transcript.Escape(s)
	if s != "" && strings.ContainsRune(formulaLead, rune(s[0])) {
		return "'" + s
	}
	return s
}

// NewCSV returns a CSV writer with the header written.
func NewCSV(w io.Writer) (*csv.Writer, error) {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return nil, err
	}
	cw.Flush()
	return cw, cw.Error()
}

// ReplyLine renders the deciding reply on one line, escaped: "550 5.1.1 no
// such user".
func (r *Result) ReplyLine() string {
	if r.Reply == nil {
		return ""
	}
	line := r.Reply.Line()
	if r.Reply.Code == 0 { // decided by DNS: an enhanced code, no reply code
		line = strings.TrimPrefix(strings.TrimPrefix(line, "0"), " ")
	}
	return transcript.Escape(line)
}

// tableLine renders a result as one line of the human bulk table, its
// verdict in colour when the palette is on.
func (r *Result) tableLine(p *term.Palette) string {
	who := r.Input
	if r.Verdict != BadSyntax {
		who = r.Address.String()
	}
	who = fmt.Sprintf("%-36s ", transcript.Escape(who))
	reason := transcript.Escape(r.Reason)
	if reason == "" {
		return who + verdictColor(p, r).Sprint(r.Verdict)
	}
	return strings.TrimRight(who+verdictColor(p, r).Sprint(fmt.Sprintf("%-13s", r.Verdict))+" "+reason, " ")
}

// String summarises a Summary in one line: counts by verdict, sessions,
// elapsed time and rate.
func (s Summary) String() string {
	var parts []string
	for _, v := range Verdicts {
		if n := s.ByVerdict[v]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, v))
		}
	}
	if len(parts) == 0 {
		parts = []string{"nothing to verify"}
	}
	rate := 0.0
	if s.Elapsed > 0 {
		rate = float64(s.Rows) / s.Elapsed.Seconds()
	}
	return fmt.Sprintf("%s in %s (%.0f/s), %s: %s", fmt.Sprintf("%d %s", s.Rows, transcript.Plural(s.Rows, "address", "addresses")),
		s.Elapsed.Round(time.Millisecond), rate, fmt.Sprintf("%d %s", s.Sessions, transcript.Plural(s.Sessions, "session", "sessions")), strings.Join(parts, ", "))
}

// Meter counts the rows of a bulk run for its progress line.
type Meter struct {
	total int
	start time.Time
	done  atomic.Int64
}

// NewMeter starts counting; total is the number of rows when known, else
// 0.
func NewMeter(total int) *Meter { return &Meter{total: total, start: time.Now()} }

// Count records the rows done so far (Options.Progress).
func (m *Meter) Count(done int) { m.done.Store(int64(done)) }

// Line is the progress line: rows done (of the total when known) and the
// rate.
func (m *Meter) Line() string {
	n := m.done.Load()
	of := ""
	if m.total > 0 {
		of = "/" + strconv.Itoa(m.total)
	}
	return fmt.Sprintf("verifying %d%s  %.0f addr/s", n, of, float64(n)/max(time.Since(m.start).Seconds(), 1e-3))
}
