package probe

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/smtpx/smtpx/internal/session"
	"github.com/smtpx/smtpx/internal/term"
	"github.com/smtpx/smtpx/internal/transcript"
)

// HumanOptions control the human report.
type HumanOptions struct {
	Palette *term.Palette // the colours; nil prints none
	Verbose bool          // add each endpoint's transcript
	// TimeLapse adds the transcript too, each reply ending with how long
	// it took (--show-time-lapse).
	TimeLapse bool
}

// WriteHuman writes the report for people: the domain's checks, then one
// block per endpoint, then a summary line. Everything that came from a
// server or from DNS is escaped.
func (r *Result) WriteHuman(w io.Writer, o HumanOptions) {
	if o.Palette == nil {
		o.Palette = term.NewPalette(false)
	}
	pal := palette{o.Palette}
	fmt.Fprintln(w, transcript.Escape(r.headline()))
	for _, c := range r.Checks {
		fmt.Fprintln(w)
		pal.check(w, c)
	}
	if d := r.Domain; d != nil {
		fmt.Fprintf(w, "\n%s\n", pal.Bold.Sprint(transcript.Escape(d.Name)))
		for _, c := range d.Checks {
			pal.check(w, c)
		}
	}
	for _, ep := range r.Endpoints {
		title := ep.Label()
		switch {
		case r.Domain != nil && r.Domain.Route.Implicit:
			title += " (implicit MX)"
		case ep.Preference >= 0:
			title += fmt.Sprintf(" (MX %d)", ep.Preference)
		}
		if !ep.noIP() && ep.Dial != ep.Address() {
			title += " via " + ep.Dial
		}
		fmt.Fprintf(w, "\n%s\n", pal.Bold.Sprint(transcript.Escape(title)))
		pal.checks(w, ep.Checks, o.Verbose)
		if t := ep.timingsLine(); t != "" {
			fmt.Fprintf(w, "  %s\n", t)
		}
		if (o.Verbose || o.TimeLapse) && len(ep.Events) > 0 {
			var b bytes.Buffer
			h := transcript.NewHuman(&b, transcript.Options{Color: o.Palette.On(), TimeLapse: o.TimeLapse})
			for _, e := range ep.Events {
				h.Event(e)
			}
			fmt.Fprintln(w, "  transcript:")
			for _, l := range strings.SplitAfter(b.String(), "\n") {
				if l != "" {
					fmt.Fprint(w, "    "+l)
				}
			}
		}
	}
	c := r.Counts()
	fmt.Fprintf(w, "\n%s %d %s: %d pass, %d warn, %d fail, %d info; exit %d\n",
		pal.Bold.Sprint("result:"), len(r.Endpoints), transcript.Plural(len(r.Endpoints), "endpoint", "endpoints"),
		c[Pass], c[Warn], c[Fail], c[Info], r.Exit)
}

// headline says what was probed.
func (r *Result) headline() string {
	s := "probe " + r.Target
	switch {
	case r.Domain != nil:
		n := len(r.Domain.Route.Hosts)
		s += fmt.Sprintf(": mail domain, %d MX %s", n, transcript.Plural(n, "host", "hosts"))
		if r.Domain.Route.Implicit {
			s = "probe " + r.Target + ": mail domain, implicit MX"
		}
	case r.Mode == ModeSocket:
		s += ": unix socket"
	case r.Mode == ModePipe:
		s += ": pipe"
	default:
		s += ": host"
	}
	s += fmt.Sprintf(", %d %s", len(r.Endpoints), transcript.Plural(len(r.Endpoints), "endpoint", "endpoints"))
	if r.DNS > 0 {
		s += ", dns " + session.FormatDuration(r.DNS)
	}
	return s
}

// timingsLine lists the phases that happened.
func (ep *Endpoint) timingsLine() string {
	m := ep.timingsMS()
	var parts []string
	for _, ph := range Phases {
		if v, ok := m[ph]; ok {
			parts = append(parts, fmt.Sprintf("%s %.2f", ph, v))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "timings (ms): " + strings.Join(parts, ", ")
}

// palette paints the report with the one palette (term.Palette).
type palette struct{ *term.Palette }

// checks writes an endpoint's checks. Unless verbose, the notable
// extensions that are not advertised share one line: they are facts, not
// findings, and a dozen of them would drown the rest.
func (p palette) checks(w io.Writer, cs []*Check, verbose bool) {
	var absent []string
	for _, c := range cs {
		if !verbose && isAbsentKeyword(c) {
			absent = append(absent, strings.TrimSuffix(c.Summary, " is not advertised"))
		}
	}
	seen := 0
	for _, c := range cs {
		if len(absent) > 0 && isAbsentKeyword(c) && !verbose {
			// The group takes the place of the last of its members, so it
			// closes the block of extension checks.
			if seen++; seen == len(absent) {
				p.check(w, &Check{ID: "ehlo.*", Status: Info, Summary: "not advertised: " + strings.Join(absent, ", ")})
			}
			continue
		}
		p.check(w, c)
	}
}

func isAbsentKeyword(c *Check) bool {
	adv, ok := c.Evidence["advertised"].(bool)
	return c.Status == Info && strings.HasPrefix(c.ID, "ehlo.") && ok && !adv
}

func (p palette) check(w io.Writer, c *Check) {
	word := strings.ToUpper(string(c.Status))
	col := p.Inter
	switch c.Status {
	case Pass:
		col = p.OK
	case Warn:
		col = p.Temp
	case Fail:
		col = p.Fail
	}
	sum := transcript.Escape(c.Summary)
	if c.Ignored {
		sum += " (ignored)"
	}
	fmt.Fprintf(w, "  %s  %-24s %s\n", col.Sprint(word), c.ID, sum)
	for _, d := range c.Details {
		fmt.Fprintf(w, "          %s\n", transcript.Escape(d))
	}
	if c.Hint != "" && (c.Exit != 0 || c.Status == Warn || c.Status == Fail) {
		fmt.Fprintf(w, "          hint: %s\n", transcript.Escape(c.Hint))
	}
}
