package verify

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/smtpx/smtpx/internal/session"
)

func reply(code int, enh, text string) *session.Reply {
	line := text
	if enh != "" {
		line = enh + " " + text
	}
	return &session.Reply{Code: code, Enhanced: enh, Lines: []string{line}}
}

// Real-world refusals, classified by the enhanced code first and the text
// second. The blocked rows are the anchors' classic mistakes: a policy or
// reputation refusal reported as "invalid address".
func TestClassifyRcpt(t *testing.T) {
	tests := []struct {
		code    int
		enh     string
		text    string
		verdict Verdict
		stop    bool
	}{
		{550, "5.1.1", "The email account that you tried to reach does not exist.", Undeliverable, false},
		{550, "5.1.1", "<bob@example.com>: Recipient address rejected: User unknown in local recipient table", Undeliverable, false},
		{553, "5.1.3", "bad address syntax", Undeliverable, false},
		{550, "5.1.10", "null MX", Undeliverable, false},
		{550, "5.2.1", "mailbox disabled", Undeliverable, false},
		{550, "5.4.1", "Recipient address rejected: Access denied. AS(201806281)", Undeliverable, false},
		{552, "5.2.2", "mailbox full", Full, false},
		{452, "4.2.2", "The email account that you tried to reach is over quota.", Full, false},
		{452, "", "Mailbox full", Full, false},
		{552, "", "Requested mail action aborted: exceeded storage allocation", Full, false},
		{550, "5.7.1", "Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org", Blocked, true},
		{554, "5.7.1", "<bob@example.com>: Relay access denied", Blocked, true},
		{550, "5.7.606", "Access denied, banned sending IP [192.0.2.1]", Blocked, true},
		{553, "5.7.2", "[TSS09] All messages from 192.0.2.1 will be permanently deferred", Blocked, true},
		{550, "5.7.13", "user account disabled", Blocked, true},
		{550, "5.7.17", "mailbox owner has changed", Undeliverable, false},
		{550, "5.1.8", "sender domain does not exist", Blocked, true},
		{550, "", "5.7.1 looks like an enhanced code but is text", Undeliverable, false},
		{554, "", "Transaction failed", Blocked, true},
		{554, "", "delivery error: dd This user doesn't have a yahoo.com account", Undeliverable, false},
		{550, "", "Sender address rejected: Domain not found", Blocked, true},
		{550, "", "Client host rejected: cannot find your hostname", Blocked, true},
		{550, "", "No such user here", Undeliverable, false},
		{550, "", "Requested action not taken: mailbox unavailable", Undeliverable, false},
		{550, "5.0.0", "Your IP is listed at dnsbl.example", Blocked, true},
		{550, "5.0.0", "unknown user", Undeliverable, false},
		{550, "", "some words no one recognises", Undeliverable, false},
		{502, "5.5.1", "command not implemented", Unknown, false},
		{501, "", "syntax error", Unknown, false},
		{450, "4.2.0", "<bob@example.com>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/example.com.html", Tempfail, false},
		{451, "4.7.1", "Please try again later", Tempfail, true},
		{452, "4.5.3", "Too many recipients", Tempfail, false},
		{421, "4.7.0", "Try again later, closing connection.", Tempfail, true},
		{450, "", "Requested mail action not taken: mailbox unavailable", Tempfail, false},
	}
	for _, tt := range tests {
		c := classifyRcpt(reply(tt.code, tt.enh, tt.text))
		if c.verdict != tt.verdict || c.stop != tt.stop {
			t.Errorf("%d %s %q: %s stop=%v (%s), want %s stop=%v", tt.code, tt.enh, tt.text, c.verdict, c.stop, c.reason, tt.verdict, tt.stop)
		}
		if v, reason := ClassifyRcpt(reply(tt.code, tt.enh, tt.text)); v != c.verdict || reason == "" {
			t.Errorf("ClassifyRcpt disagrees: %s %q", v, reason)
		}
	}
	// "blocked" must never come out as undeliverable: every 5.7.x except
	// the owner-changed codes is about the prober.
	for det := range 30 {
		if det == 17 || det == 18 {
			continue
		}
		enh := "5.7." + strconv.Itoa(det)
		if c := classifyRcpt(reply(550, enh, "no such user")); c.verdict != Blocked {
			t.Errorf("550 %s: %s", enh, c.verdict)
		}
	}
}

func TestGreylistTexts(t *testing.T) {
	tests := []struct {
		text  string
		grey  bool
		after time.Duration
	}{
		{"Greylisted, see http://postgrey.schweikert.ch/help/example.com.html", true, 0},
		{"Greylisted, please try again in 300 seconds", true, 300 * time.Second},
		{"Greylisting in action, please come back in 00:05:00", true, 5 * time.Minute},
		{"greylisted: retry in 5 minutes", true, 5 * time.Minute},
		{"You have been graylisted; try again after 2m", true, 2 * time.Minute},
		{"Temporary local problem, please try later", false, 0},
		{"Mailbox busy, retry in 1 hour", false, time.Hour},
		{"4.2.0 try again", false, 0},
	}
	for _, tt := range tests {
		if got := IsGreylisting(tt.text); got != tt.grey {
			t.Errorf("IsGreylisting(%q) = %v", tt.text, got)
		}
		if got := RetryAfter(tt.text); got != tt.after {
			t.Errorf("RetryAfter(%q) = %s, want %s", tt.text, got, tt.after)
		}
	}
}

func TestClassifySession(t *testing.T) {
	if c := classifySession("banner", reply(554, "5.7.1", "go away")); c.verdict != Blocked || !c.stop {
		t.Errorf("banner 554: %+v", c)
	}
	if c := classifySession("MAIL FROM", reply(550, "5.1.8", "bad sender")); c.verdict != Blocked {
		t.Errorf("MAIL 550: %+v", c)
	}
	if c := classifySession("banner", reply(421, "4.3.2", "busy")); c.verdict != Tempfail || !c.stop {
		t.Errorf("banner 421: %+v", c)
	}
	if c := classifySession("EHLO", reply(450, "", "later")); c.verdict != Tempfail || c.stop {
		t.Errorf("EHLO 450: %+v", c)
	}
}

func TestExitFor(t *testing.T) {
	tests := []struct {
		v    Verdict
		r    *session.Reply
		want int
	}{
		{Deliverable, nil, 0}, {Unprovable, nil, 0}, {Undeliverable, nil, 5}, {Blocked, nil, 5},
		{Tempfail, nil, 4}, {Full, reply(452, "4.2.2", ""), 4}, {Full, reply(552, "5.2.2", ""), 5},
		{Unknown, nil, 3}, {Unknown, reply(502, "5.5.1", ""), 5}, {BadSyntax, nil, 2},
	}
	for _, tt := range tests {
		if got := exitFor(tt.v, tt.r, nil); got != tt.want {
			t.Errorf("exitFor(%s) = %d, want %d", tt.v, got, tt.want)
		}
	}
	for _, v := range Verdicts {
		if got, ok := ParseVerdict(" " + strings.ToUpper(string(v))); !ok || got != v {
			t.Errorf("ParseVerdict(%s) = %s %v", v, got, ok)
		}
	}
	if _, ok := ParseVerdict("invalid"); ok {
		t.Error("ParseVerdict accepted invalid")
	}
}
