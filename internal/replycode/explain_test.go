package replycode

import (
	"strings"
	"testing"
)

func one(t *testing.T, args ...string) *Explanation {
	t.Helper()
	exps, err := Lookup(args)
	if err != nil || len(exps) != 1 {
		t.Fatalf("%q: %v (%d)", args, err, len(exps))
	}
	return exps[0]
}

func TestFallbacks(t *testing.T) {
	e := one(t, "559")
	if e.Basic.Fallback != "class_and_category" || e.ClassName != "permanent" || e.Basic.CategoryName != "mail system" || e.ExitClass != 5 {
		t.Errorf("559: %+v", e.Basic)
	}
	if !strings.Contains(e.Basic.Meaning, "No meaning is registered for 559") || e.Action == "" {
		t.Errorf("559 meaning: %q", e.Basic.Meaning)
	}
	e = one(t, "5.1.99")
	if e.Status.Fallback != "subject" || e.Status.SubjectName != "addressing" || e.Status.Action == "" {
		t.Errorf("5.1.99: %+v", e.Status)
	}
	e = one(t, "4.9.1")
	if e.Status.Fallback != "class" || e.Status.ClassName != "persistent transient failure" || e.ExitClass != 4 || e.Retry != "later" {
		t.Errorf("4.9.1: %+v %d %s", e.Status, e.ExitClass, e.Retry)
	}
	e = one(t, "X.9.1")
	if e.Status.Fallback != "class" || e.ExitClass != 0 {
		t.Errorf("X.9.1: %+v", e.Status)
	}
}

func TestMismatch(t *testing.T) {
	e := one(t, "250", "5.1.1")
	if !strings.Contains(e.Mismatch, "success (2xx)") || !strings.Contains(e.Mismatch, "permanent failure (5.x.x)") || e.ExitClass != 0 {
		t.Errorf("250 5.1.1: %q exit %d", e.Mismatch, e.ExitClass)
	}
	if e = one(t, "354", "2.0.0"); !strings.Contains(e.Mismatch, "3xx replies carry no enhanced status code") {
		t.Errorf("354 2.0.0: %q", e.Mismatch)
	}
	if e = one(t, "550", "5.1.1"); e.Mismatch != "" {
		t.Errorf("550 5.1.1: %q", e.Mismatch)
	}
}

func TestExtensionUseFromText(t *testing.T) {
	for _, tt := range []struct{ reply, ext string }{
		{"530 5.7.0 Must issue a STARTTLS command first", "STARTTLS"},
		{"530 5.7.0 Authentication required", "AUTH"},
		{"220 2.0.0 Ready to start TLS", "STARTTLS"},
		{"220 mx.example.org ESMTP Postfix", ""},
		{"454 4.7.0 TLS not available due to local problem", "STARTTLS"},
		{"454 4.7.0 Temporary authentication failure", "AUTH"},
		{"250 2.0.0 Ok: queued as 4bQ2", ""},
		{"501 5.5.4 Syntax: HELO hostname", ""},
		{"235 2.7.0 Authentication successful", "AUTH"},
	} {
		e := one(t, tt.reply)
		if e.Basic.Extension != tt.ext {
			t.Errorf("%q: use %q, want %q", tt.reply, e.Basic.Extension, tt.ext)
		}
	}
	e := one(t, "530")
	if e.Basic.Extension != "" && len(e.Basic.OtherUses) != 1 {
		t.Errorf("530 without text: %+v", e.Basic)
	}
}

func TestExitClass(t *testing.T) {
	for args, want := range map[string]int{"250": 0, "354": 0, "421": 4, "550": 5, "2.1.5": 0, "4.2.2": 4, "5.1.1": 5, "5yz": 5, "4yz": 4, "x5z": 0, "5.XXX.YYY": 5, "X.1.1": 0} {
		if e := one(t, args); e.ExitClass != want {
			t.Errorf("%s: exit class %d, want %d", args, e.ExitClass, want)
		}
	}
}

// Explanations of a bare code carry stable, non-nil slices for JSON.
func TestStableShape(t *testing.T) {
	for _, a := range []string{"550", "5.1.1", "x5z", "550 5.1.1 text"} {
		e := one(t, a)
		if e.ProviderUses == nil || e.Notes == nil || (e.Basic != nil && e.Basic.OtherUses == nil) {
			t.Errorf("%s: nil slice in %+v", a, e)
		}
	}
}

func TestHint(t *testing.T) {
	for _, tt := range []struct {
		code      int
		enh, text string
		want      string
	}{
		{550, "5.1.1", "User unknown", "recipient mailbox does not exist: Check the address for typos"},
		{550, "5.1.1", "", "recipient mailbox does not exist: Check the address for typos"},
		{550, "", "User unknown", "recipient does not exist: Check the address for typos and confirm it with the recipient another way"},
		{550, "", "mailbox unavailable", "recipient does not exist: Check the address for typos and confirm it with the recipient another way"},
		{550, "", "no", "mailbox unavailable or refused: Do not retry unchanged"},
		{451, "4.7.1", "greylisted", "greylisted: Nothing to fix: retry from the same server after a few minutes (a mail queue does it by itself)"},
		{451, "4.7.1", "whatever", "not authorised, message refused: Read the text for the reason"},
		{559, "", "", "permanent failure: Do not retry unchanged"},
		{421, "4.7.0", "[TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume", "Yahoo: deferred: unexpected volume or user complaints; Let the queue retry later"},
		{530, "5.7.0", "Must issue a STARTTLS command first", "TLS required: Turn on STARTTLS in the sending client or MTA (smtpx does it by default when the server offers it), and make sure the TLS handshake succeeds"},
		{530, "5.7.0", "", "security or policy status: Read the text: authenticate, use TLS, or check the sender's reputation as it indicates"},
		{554, "5.7.1", "Service unavailable; Client host [192.0.2.7] blocked using zen.spamhaus.org", "listed on Spamhaus ZEN: Look the address up on the list's own page, fix what caused the listing (secure accounts, stop the abuse, send from a proper mail server), then ask that list for removal"},
		{554, "5.3.0", "", "mail system problem: Do not retry unchanged"},
		{451, "4.3.0", "", "mail system problem: Retry later"},
		{250, "", "ok", ""},
		{354, "", "go ahead", ""},
	} {
		if got := Hint(tt.code, tt.enh, tt.text); got != tt.want {
			t.Errorf("Hint(%d, %q, %q) = %q, want %q", tt.code, tt.enh, tt.text, got, tt.want)
		}
	}
}

func BenchmarkHint(b *testing.B) {
	text := "This mail has been blocked because the sender is unauthenticated. Gmail requires all senders to authenticate with either SPF or DKIM. - gsmtp"
	for i := 0; i < b.N; i++ {
		_ = Hint(550, "5.7.26", text)
	}
}

func BenchmarkExplainReply(b *testing.B) {
	r := Reply{Code: 550, Enhanced: "5.1.1", Lines: []string{"<bob@example.org>: Recipient address rejected: User unknown"}}
	for i := 0; i < b.N; i++ {
		_ = Explain(r)
	}
}

func TestGreylisting(t *testing.T) {
	e := one(t, "451 4.7.1 <alice@example.org>: Sender address rejected: greylisted, try again later")
	if e.Category != "greylisting" || !strings.Contains(e.Action, "retry from the same server") || e.Retry != "later" {
		t.Errorf("greylisting: %q %q %q", e.Category, e.Action, e.Retry)
	}
	if e = one(t, "550 5.7.1 greylisted forever"); e.Category == "greylisting" || strings.Contains(e.Action, "retry from the same server") {
		t.Errorf("a 5xx is no greylisting: %q %q", e.Category, e.Action)
	}
}
