package verify

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/session"
)

// Verdict is what the evidence says about an address.
type Verdict string

// The verdicts, in the order the summary lists them.
const (
	// Deliverable: accepted at RCPT (or VRFY 250/251) by a domain that
	// refuses random addresses. Acceptance at RCPT does not prove delivery.
	Deliverable Verdict = "deliverable"
	// Unprovable: the server would accept anything (a catch-all domain, or
	// VRFY 252 "cannot verify"), so acceptance proves nothing.
	Unprovable Verdict = "unprovable"
	// Undeliverable: refused for a reason about the address (5.1.x unknown
	// user or domain, 5.1.10 null MX, 5.2.1 disabled).
	Undeliverable Verdict = "undeliverable"
	// Full: the mailbox exists but is over quota (4.2.2 / 5.2.2).
	Full Verdict = "full"
	// Blocked: the server refused the prober (5.7.x policy, a blocklist,
	// the sender or HELO refused). It says nothing about the address.
	Blocked Verdict = "blocked"
	// Tempfail: a 4xx reply, greylisting among them; try again later.
	Tempfail Verdict = "tempfail"
	// Unknown: no reply to classify (DNS, connect or session failure).
	Unknown Verdict = "unknown"
	// BadSyntax: not an RFC 5321 mailbox; nothing was sent. Only bulk runs
	// report it as a row; a single bad address is a usage error.
	BadSyntax Verdict = "bad_syntax"
)

// Verdicts lists every verdict, for --fail-on and the summary.
var Verdicts = []Verdict{Deliverable, Unprovable, Undeliverable, Full, Blocked, Tempfail, Unknown, BadSyntax}

// VerdictNames lists the verdicts' names, for completion.
func VerdictNames() []string {
	out := make([]string, len(Verdicts))
	for i, v := range Verdicts {
		out[i] = string(v)
	}
	return out
}

// ParseVerdict accepts a verdict name.
func ParseVerdict(s string) (Verdict, bool) {
	for _, v := range Verdicts {
		if string(v) == strings.ToLower(strings.TrimSpace(s)) {
			return v, true
		}
	}
	return "", false
}

// class is the outcome of classifying one reply.
type class struct {
	verdict    Verdict
	reason     string
	greylisted bool
	retryAfter time.Duration
	// stop is set when the reply asks the prober to leave the domain alone
	// (421, or an X.7.x policy refusal): the remaining addresses of the
	// domain are not tried.
	stop bool
}

// Texts that tell what a reply is about when the enhanced code does not
// (absent, or X.0.0). Lower case; matched as substrings.
var (
	blockTexts = []string{
		"block", "blacklist", "black list", "spamhaus", "spamcop", "barracuda", "sorbs", "dnsbl", "rbl",
		"listed", "reputation", "policy", "not authorized", "not authorised", "not permitted", "relay",
		"client host", "sender address rejected", "helo", "reverse dns", "ptr record", "spam",
		"rate limit", "too many connections", "banned", "denied by", "abuse",
	}
	unknownUserTexts = []string{
		"user unknown", "unknown user", "no such user", "no such recipient", "unknown recipient",
		"recipient unknown", "does not exist", "doesn't exist", "not exist", "no mailbox", "mailbox not found",
		"mailbox unavailable", "mailbox is unavailable", "invalid recipient", "invalid mailbox", "recipient not found",
		"user not found", "address not found", "unrouteable address", "undeliverable address", "no such account",
		"account disabled", "account has been disabled", "mailbox disabled", "is disabled", "inactive",
		"doesn't have a", "not a valid mailbox", "recipient address rejected", "unknown or illegal alias", "not our customer",
	}
	fullTexts = []string{
		"mailbox full", "mailbox is full", "over quota", "quota exceeded", "exceeded storage", "exceeds quota",
		"insufficient storage", "out of storage", "storage allocation", "mailbox size limit", "full mailbox",
	}
	greyTexts = []string{
		"greylist", "graylist", "grey list", "gray list", "grey-list", "gray-list", "postgrey", "sqlgrey",
		"greylisted", "graylisted",
	}
)

func containsAny(s string, subs []string) bool {
	for _, x := range subs {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}

// IsGreylisting reports whether a 4xx reply's text names greylisting.
func IsGreylisting(text string) bool {
	return containsAny(strings.ToLower(text), greyTexts)
}

// The patterns are compiled on first use: every smtpx run links this
// package, and package-level compilation would cost each start-up.
var (
	retryUnit = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?i)\b(?:in|after|wait|retry|again|back)\b\D{0,20}?(\d{1,6})\s*(seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h)\b`)
	})
	retryClock = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\b(\d{1,2}):(\d{2}):(\d{2})\b`) })
)

// RetryAfter reads the wait a greylisting server asks for from its text:
// "retry in 300 seconds", "come back in 5 minutes", "try again in 00:05:00".
// It returns 0 when the text gives none.
func RetryAfter(text string) time.Duration {
	if m := retryClock().FindStringSubmatch(text); m != nil {
		h, _ := strconv.Atoi(m[1])
		mi, _ := strconv.Atoi(m[2])
		s, _ := strconv.Atoi(m[3])
		return time.Duration(h)*time.Hour + time.Duration(mi)*time.Minute + time.Duration(s)*time.Second
	}
	if m := retryUnit().FindStringSubmatch(text); m != nil {
		n, _ := strconv.Atoi(m[1])
		switch u := strings.ToLower(m[2]); {
		case strings.HasPrefix(u, "h"):
			return time.Duration(n) * time.Hour
		case strings.HasPrefix(u, "m"):
			return time.Duration(n) * time.Minute
		default:
			return time.Duration(n) * time.Second
		}
	}
	return 0
}

// ClassifyRcpt decides what a non-2xx reply to RCPT TO says about the
// address: by the enhanced status code first (RFC 3463), by the basic code
// and the text second. A refusal that is about the prober (policy,
// reputation, the sender) is never reported as undeliverable.
func ClassifyRcpt(r *session.Reply) (Verdict, string) {
	c := classifyRcpt(r)
	return c.verdict, c.reason
}

func classifyRcpt(r *session.Reply) class {
	text := strings.ToLower(r.Text())
	code, hasEnh := session.ParseEnhanced(r.Enhanced)
	ec, subj, det := code[0], code[1], code[2]
	codeStr := fmt.Sprint(r.Code)
	if r.Enhanced != "" {
		codeStr += " " + r.Enhanced
	}
	c := class{}
	if r.Code == 421 {
		return class{verdict: Tempfail, reason: "the server is closing the connection (" + codeStr + ")", stop: true,
			retryAfter: RetryAfter(r.Text())}
	}
	if r.Class() == 4 {
		c = class{verdict: Tempfail, reason: "temporary failure (" + codeStr + ")", retryAfter: RetryAfter(r.Text())}
		switch {
		case hasEnh && subj == 2 && det == 2, !hasEnh && containsAny(text, fullTexts):
			c.verdict, c.reason = Full, "mailbox full ("+codeStr+"): the mailbox exists"
		case containsAny(text, greyTexts):
			c.greylisted = true
			c.reason = "greylisted (" + codeStr + "): the server wants a retry later from the same sender"
		case hasEnh && subj == 7:
			c.reason = "temporary policy refusal of the prober (" + codeStr + ")"
			c.stop = true
		case hasEnh && subj == 5 && det == 3:
			c.reason = "too many recipients (" + codeStr + ")"
		}
		return c
	}
	if r.Class() != 5 {
		return class{verdict: Unknown, reason: "unexpected reply (" + codeStr + ")"}
	}
	if hasEnh && ec == 5 && subj != 0 {
		switch subj {
		case 1:
			switch det {
			case 7, 8:
				return class{verdict: Blocked, reason: "the sender address was refused (" + codeStr + "), which says nothing about the recipient", stop: true}
			case 10:
				return class{verdict: Undeliverable, reason: "the domain accepts no mail: null MX (" + codeStr + ")"}
			case 2:
				return class{verdict: Undeliverable, reason: "bad destination domain (" + codeStr + ")"}
			}
			return class{verdict: Undeliverable, reason: "unknown or bad address (" + codeStr + ")"}
		case 2:
			switch det {
			case 2:
				return class{verdict: Full, reason: "mailbox full (" + codeStr + "): the mailbox exists"}
			case 3:
				return class{verdict: Unknown, reason: "message size refused (" + codeStr + "), which says nothing about the address"}
			}
			return class{verdict: Undeliverable, reason: "mailbox disabled or unavailable (" + codeStr + ")"}
		case 4:
			return class{verdict: Undeliverable, reason: "the address cannot be routed (" + codeStr + ")"}
		case 5:
			return class{verdict: Unknown, reason: "the server refused the command (" + codeStr + "), which says nothing about the address"}
		case 6:
			if det == 7 {
				return class{verdict: Undeliverable, reason: "non-ASCII address refused (" + codeStr + ")"}
			}
			return class{verdict: Unknown, reason: "content refusal (" + codeStr + "), which says nothing about the address"}
		case 7:
			if det == 17 || det == 18 {
				return class{verdict: Undeliverable, reason: "the mailbox or domain changed owner (" + codeStr + ")"}
			}
			return class{verdict: Blocked, reason: "the server refused the prober by policy (" + codeStr + "), which says nothing about the address", stop: true}
		}
		// X.3.x (mail system status) and unknown subjects fall through to
		// the text.
	}
	switch {
	case containsAny(text, fullTexts) || r.Code == 552 && !containsAny(text, unknownUserTexts):
		return class{verdict: Full, reason: "mailbox full (" + codeStr + "): the mailbox exists"}
	case strings.Contains(text, "sender") && (strings.Contains(text, "reject") || strings.Contains(text, "refused") || strings.Contains(text, "denied")):
		return class{verdict: Blocked, reason: "the sender was refused (" + codeStr + "), which says nothing about the recipient", stop: true}
	case containsAny(text, unknownUserTexts):
		return class{verdict: Undeliverable, reason: "unknown or disabled address (" + codeStr + ")"}
	case containsAny(text, blockTexts):
		return class{verdict: Blocked, reason: "the server refused the prober (" + codeStr + "), which says nothing about the address", stop: true}
	case r.Code == 554:
		// 554 at RCPT is nearly always a policy refusal ("transaction
		// failed"); without words saying the user is unknown, calling it
		// undeliverable would repeat the anchors' worst mistake.
		return class{verdict: Blocked, reason: "refused (" + codeStr + ") without saying the address is unknown: likely a policy refusal of the prober", stop: true}
	case r.Code == 500 || r.Code == 501 || r.Code == 502 || r.Code == 503 || r.Code == 504:
		return class{verdict: Unknown, reason: "the server refused the command (" + codeStr + "), which says nothing about the address"}
	}
	return class{verdict: Undeliverable, reason: "refused (" + codeStr + ")"}
}

// classifySession decides what a refusal before RCPT (banner, EHLO, MAIL
// FROM) means: the prober was refused, never the address.
func classifySession(op string, r *session.Reply) class {
	codeStr := fmt.Sprint(r.Code)
	if r.Enhanced != "" {
		codeStr += " " + r.Enhanced
	}
	if r.Class() == 4 {
		return class{verdict: Tempfail, reason: op + " deferred (" + codeStr + ")", retryAfter: RetryAfter(r.Text()),
			greylisted: IsGreylisting(r.Text()), stop: r.Code == 421}
	}
	return class{verdict: Blocked, reason: op + " refused (" + codeStr + "): the server refused the prober, which says nothing about the address", stop: true}
}

// exitFor maps a verdict to the exit status table (DESIGN §4).
func exitFor(v Verdict, r *session.Reply, err error) int {
	switch v {
	case Deliverable, Unprovable:
		return exitcode.OK
	case Undeliverable, Blocked:
		return exitcode.Permanent
	case Tempfail:
		return exitcode.Transient
	case Full:
		if r != nil && r.Class() == 4 {
			return exitcode.Transient
		}
		return exitcode.Permanent
	case BadSyntax:
		return exitcode.Usage
	}
	if err != nil {
		return exitcode.For(err)
	}
	if r != nil && r.Code >= 400 {
		return exitcode.FromReply(r.Code)
	}
	if r != nil {
		// A 2xx or 3xx that decided nothing is out of sequence.
		return exitcode.Protocol
	}
	return exitcode.Network
}
