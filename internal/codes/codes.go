// Package codes runs `smtpx codes`: it looks up what SMTP replies mean
// (through internal/replycode, which holds the RFC 5321 reply codes, the
// RFC 3463 enhanced status codes of the IANA registry and the providers'
// own texts) and writes the explanations for a person or as JSON Lines.
package codes

import (
	"fmt"
	"io"
	"strings"

	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/replycode"
)

// Options say what to explain.
type Options struct {
	// Args are codes ("550", "5.7.1", "550 5.7.26"), a whole reply, or "-".
	Args []string
	// Stdin is read for "-", or when there are no Args and Stdin is set
	// (the caller sets it only when standard input is not a terminal, as
	// filters do).
	Stdin     io.Reader
	List      bool
	Search    string
	ExitClass bool // the exit status is the class of the last reply
}

// Result is what was found: explanations of replies, or the entries of
// --list and --search.
type Result struct {
	Explanations []*replycode.Explanation
	Entries      []replycode.Entry
	// Brief summarises 2xx and 3xx replies in one line: replies read from
	// standard input are mostly the expected answers of a transcript.
	Brief bool
	exit  int
}

// Exit is the status the run ends with: with ExitClass the class of the
// last reply explained (0, 4 or 5), else 0.
func (r *Result) Exit() int { return r.exit }

// Run explains what o asks for. A usage mistake is an *exitcode.Error with
// status 2; --search finding nothing has status 1.
func Run(o Options) (*Result, error) {
	searching := o.Search != ""
	switch {
	case o.List && searching:
		return nil, exitcode.Usagef("use one of --list and --search", "--list and --search cannot be combined")
	case (o.List || searching) && len(o.Args) > 0:
		return nil, exitcode.Usagef("drop the arguments, or drop --list/--search", "--list and --search take no code arguments")
	case (o.List || searching) && o.ExitClass:
		return nil, exitcode.Usagef("use --exit-class with a code or a reply", "--exit-class needs a code or reply to classify")
	case o.List:
		return &Result{Entries: replycode.List()}, nil
	case searching:
		if strings.TrimSpace(o.Search) == "" {
			return nil, exitcode.Usagef("give a word, e.g. --search mailbox", "--search needs a word")
		}
		found := replycode.Search(o.Search)
		if len(found) == 0 {
			return nil, &exitcode.Error{Code: exitcode.Check, Msg: fmt.Sprintf("no code matches %q", o.Search),
				Hint: "try a shorter or different word, or --list to see every code"}
		}
		return &Result{Entries: found}, nil
	case len(o.Args) == 0 && o.Stdin == nil:
		return nil, exitcode.Usagef("give a code (550), an enhanced code (5.7.1), a reply in quotes, or - for standard input", "nothing to explain")
	}

	r := &Result{}
	if len(o.Args) == 0 || len(o.Args) == 1 && o.Args[0] == "-" {
		if err := r.scan(o.Stdin); err != nil {
			return nil, err
		}
	} else {
		exps, err := replycode.Lookup(o.Args)
		if ie, ok := err.(*replycode.InputError); ok {
			return nil, exitcode.Usagef(ie.Hint, "%s", ie.Msg)
		} else if err != nil {
			return nil, err
		}
		r.Explanations = exps
	}
	if o.ExitClass && len(r.Explanations) > 0 {
		r.exit = r.Explanations[len(r.Explanations)-1].ExitClass
	}
	return r, nil
}

// scan explains every reply found in a pasted bounce or transcript.
func (r *Result) scan(in io.Reader) error {
	r.Brief = true
	if in == nil {
		return exitcode.Usagef("pipe in a reply such as '550 5.1.1 User unknown', a bounce or a transcript", "no standard input to read")
	}
	err := replycode.Scan(in, func(rep replycode.Reply) error {
		r.Explanations = append(r.Explanations, replycode.Explain(rep))
		return nil
	})
	if err != nil {
		return exitcode.Usagef("check that standard input is readable text", "reading standard input: %v", err)
	}
	if len(r.Explanations) == 0 {
		return exitcode.Usagef("pipe in a reply such as '550 5.1.1 User unknown', a bounce or a transcript", "no SMTP reply found on standard input")
	}
	return nil
}
