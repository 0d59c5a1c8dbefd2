package verify

import (
	"fmt"
	"strings"

	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/route"
	"github.com/smtpx/smtpx/internal/session"
)

// The --expect values.
const (
	ExpectAccept = "accept"
	ExpectReject = "reject"
)

// Policy is what the user asks of the verdicts (--expect, --strict,
// --fail-on): it turns a result into the exit status, the error line and
// the hint, for one address and for a bulk run.
type Policy struct {
	// Expect is "", ExpectAccept or ExpectReject: the answer the user
	// asserts; a judged answer that differs is exit 1.
	Expect string
	// Strict makes unprovable (catch-all, VRFY 252) a failure: exit 1.
	Strict bool
	// FailOn names the verdicts that make a bulk run exit 1.
	FailOn []Verdict
	// ErrHint, if set, suggests a fix for a result's error when the result
	// itself has no better hint (the hints of the session's typed causes).
	ErrHint func(error) string
}

// NewPolicy checks --expect and --fail-on and builds the policy.
func NewPolicy(expect string, strict bool, failOn []string) (Policy, error) {
	p := Policy{Expect: expect, Strict: strict}
	if expect != "" && expect != ExpectAccept && expect != ExpectReject {
		return p, exitcode.Usagef("use --expect accept or --expect reject", "--expect %q is not accept or reject", expect)
	}
	for _, s := range failOn {
		v, ok := ParseVerdict(s)
		if !ok {
			return p, exitcode.Usagef("name verdicts: deliverable, unprovable, undeliverable, full, blocked, tempfail, unknown, bad_syntax", "--fail-on %q is not a verdict", s)
		}
		p.FailOn = append(p.FailOn, v)
	}
	return p, nil
}

// expectation reports whether a result meets Expect, and whether it can
// be judged at all (a network failure or a greylisting proves nothing
// either way).
func (p Policy) expectation(r *Result) (met, judged bool) {
	switch r.Verdict {
	case Unknown, Tempfail, BadSyntax:
		return false, false
	}
	if p.Expect == ExpectAccept {
		return r.Verdict == Deliverable || r.Verdict == Unprovable, true
	}
	return r.Verdict == Undeliverable, true
}

// Exit is the status for one result after Expect and Strict.
func (p Policy) Exit(r *Result) int {
	if p.Expect != "" {
		met, judged := p.expectation(r)
		switch {
		case met:
			return exitcode.OK
		case judged && r.Verdict != Blocked:
			return exitcode.Check
		}
		return r.Exit
	}
	if r.Verdict == Unprovable && p.Strict {
		return exitcode.Check
	}
	return r.Exit
}

// unmet reports an exit that is Expect's failure.
func (p Policy) unmet(exit int) bool { return p.Expect != "" && exit == exitcode.Check }

// Message is the error line for a result whose exit is not 0.
func (p Policy) Message(r *Result, exit int) string {
	who := r.Address.String()
	reply := ""
	if l := r.ReplyLine(); l != "" {
		reply = " (" + l + ")"
	}
	if p.unmet(exit) {
		return fmt.Sprintf("expected %s, but %s is %s%s", p.Expect, who, r.Verdict, reply)
	}
	switch r.Verdict {
	case Unprovable:
		return fmt.Sprintf("cannot prove %s exists: %s", who, r.Reason)
	case Undeliverable:
		return fmt.Sprintf("%s is undeliverable%s", who, reply)
	case Blocked:
		return fmt.Sprintf("blocked: the server refused the prober, which says nothing about %s%s", who, reply)
	case Full:
		return fmt.Sprintf("%s exists but its mailbox is full%s", who, reply)
	case Tempfail:
		return fmt.Sprintf("temporary failure for %s: %s", who, r.Reason)
	}
	return fmt.Sprintf("could not verify %s: %s", who, r.Reason)
}

// Hint says what to do about a result whose exit is not 0.
func (p Policy) Hint(r *Result, exit int) string {
	if p.unmet(exit) {
		if p.Expect == ExpectReject {
			return "the MX accepts unknown users at RCPT time, so it must bounce them later (backscatter); reject them at RCPT"
		}
		if strings.EqualFold(r.Address.Local, "postmaster") {
			return "RFC 5321 §4.5.1 requires every mail domain to accept postmaster"
		}
		return "check that the mailbox exists and the MX accepts it"
	}
	if h := r.Hint(); h != "" {
		return h
	}
	if route.KindOf(r.Err) == route.KindTemporary && r.Source == "dns" {
		return "the DNS server did not answer; try again, or name another with --dns-server"
	}
	if r.Err != nil && p.ErrHint != nil {
		return p.ErrHint(r.Err)
	}
	return ""
}

// Err is the failure a single-address run ends with: nil when the exit
// is 0.
func (p Policy) Err(r *Result) error {
	exit := p.Exit(r)
	if exit == exitcode.OK {
		return nil
	}
	return &exitcode.Error{Code: exit, Msg: p.Message(r, exit), Hint: p.Hint(r, exit)}
}

// JSON is a result's JSON with its exit after the policy, and error and
// hint in the words of the stderr lines. events are the transcript of a
// single-address run, nil in bulk.
func (p Policy) JSON(r *Result, events []session.Event) JSON {
	exit := p.Exit(r)
	j := r.ToJSON(exit, events)
	if exit != exitcode.OK {
		j.Error, j.Hint = p.Message(r, exit), p.Hint(r, exit)
	}
	return j
}

// Tally counts the rows of a bulk run that fail the policy.
type Tally struct {
	p            Policy
	failed       map[Verdict]int
	expectFailed int
}

// NewTally starts counting a bulk run.
func (p Policy) NewTally() *Tally { return &Tally{p: p, failed: map[Verdict]int{}} }

// Add counts one row.
func (t *Tally) Add(r *Result) {
	if t.p.Strict && r.Verdict == Unprovable || t.p.failsOn(r.Verdict) {
		t.failed[r.Verdict]++
	}
	if t.p.unmet(t.p.Exit(r)) {
		t.expectFailed++
	}
}

func (p Policy) failsOn(v Verdict) bool {
	for _, f := range p.FailOn {
		if f == v {
			return true
		}
	}
	return false
}

// Err is the failure the run ends with: exit 1 naming what failed, nil
// when nothing did.
func (t *Tally) Err() error {
	var parts []string
	for _, v := range Verdicts {
		if n := t.failed[v]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, v))
		}
	}
	if t.expectFailed > 0 {
		parts = append(parts, fmt.Sprintf("%d not as expected (--expect %s)", t.expectFailed, t.p.Expect))
	}
	if len(parts) == 0 {
		return nil
	}
	return &exitcode.Error{Code: exitcode.Check, Msg: "failed the check: " + strings.Join(parts, ", "),
		Hint: "see the rows for the addresses and reasons"}
}
