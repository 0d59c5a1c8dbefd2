package verify

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/smtpx/smtpx/internal/address"
	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/session"
	"github.com/smtpx/smtpx/internal/term"
)

func result(local string, v Verdict, code int, enh string) *Result {
	r := &Result{Address: address.Address{Local: local, Domain: "example.test", ASCIIDomain: "example.test"},
		Verdict: v, Reason: "because", Exit: exitFor(v, nil, nil)}
	if code != 0 {
		r.Reply = &session.Reply{Code: code, Enhanced: enh, Lines: []string{enh + " text"}}
		r.Exit = exitFor(v, r.Reply, nil)
	}
	return r
}

// The exit rules of --expect, --strict and --fail-on, without cobra.
func TestPolicyExit(t *testing.T) {
	deliverable := result("bob", Deliverable, 250, "2.1.5")
	unprovable := result("any", Unprovable, 250, "2.1.5")
	unknownUser := result("nobody", Undeliverable, 550, "5.1.1")
	blocked := result("bob", Blocked, 550, "5.7.1")
	grey := result("bob", Tempfail, 450, "4.2.0")
	noAnswer := &Result{Verdict: Unknown, Exit: exitcode.Network}
	for _, tt := range []struct {
		name string
		p    Policy
		r    *Result
		exit int
	}{
		{"plain deliverable", Policy{}, deliverable, 0},
		{"plain unprovable", Policy{}, unprovable, 0},
		{"strict unprovable", Policy{Strict: true}, unprovable, exitcode.Check},
		{"strict deliverable", Policy{Strict: true}, deliverable, 0},
		{"plain undeliverable", Policy{}, unknownUser, exitcode.Permanent},
		{"expect accept, accepted", Policy{Expect: ExpectAccept}, deliverable, 0},
		{"expect accept, catch-all counts as accepted", Policy{Expect: ExpectAccept}, unprovable, 0},
		{"expect accept, refused", Policy{Expect: ExpectAccept}, unknownUser, exitcode.Check},
		{"expect reject, refused", Policy{Expect: ExpectReject}, unknownUser, 0},
		{"expect reject, accepted", Policy{Expect: ExpectReject}, deliverable, exitcode.Check},
		{"expect: blocked proves nothing", Policy{Expect: ExpectReject}, blocked, exitcode.Permanent},
		{"expect: greylisting proves nothing", Policy{Expect: ExpectAccept}, grey, exitcode.Transient},
		{"expect: no answer proves nothing", Policy{Expect: ExpectAccept}, noAnswer, exitcode.Network},
		{"expect wins over strict", Policy{Expect: ExpectAccept, Strict: true}, unprovable, 0},
	} {
		if got := tt.p.Exit(tt.r); got != tt.exit {
			t.Errorf("%s: exit %d, want %d", tt.name, got, tt.exit)
		}
		err := tt.p.Err(tt.r)
		if (err == nil) != (tt.exit == 0) || err != nil && exitcode.For(err) != tt.exit {
			t.Errorf("%s: Err %v, want exit %d", tt.name, err, tt.exit)
		}
	}
}

func TestPolicyMessages(t *testing.T) {
	errHint := func(err error) string { return "from the cause" }
	for _, tt := range []struct {
		p          Policy
		r          *Result
		msg, hint  string
		jsonErrSet bool
	}{
		{Policy{Expect: ExpectReject}, result("ghost", Deliverable, 250, "2.1.5"),
			"expected reject, but ghost@example.test is deliverable (250 2.1.5 text)", "backscatter", true},
		{Policy{Expect: ExpectAccept}, result("postmaster", Undeliverable, 550, "5.1.1"),
			"expected accept, but postmaster@example.test is undeliverable (550 5.1.1 text)", "RFC 5321 §4.5.1", true},
		{Policy{Expect: ExpectAccept}, result("bob", Undeliverable, 550, "5.1.1"),
			"expected accept", "check that the mailbox exists", true},
		{Policy{}, result("bob", Undeliverable, 550, "5.1.1"), "bob@example.test is undeliverable (550 5.1.1 text)", "", true},
		{Policy{}, result("bob", Blocked, 550, "5.7.1"), "blocked: the server refused the prober", "not the address", true},
		{Policy{Strict: true}, result("any", Unprovable, 250, "2.1.5"), "cannot prove any@example.test exists: because", "", true},
		{Policy{ErrHint: errHint}, &Result{Address: address.Address{Local: "bob", Domain: "x.test"}, Verdict: Unknown, Reason: "no MX answered",
			Err: errors.New("boom"), Exit: exitcode.Network}, "could not verify bob@x.test: no MX answered", "from the cause", true},
		{Policy{}, result("bob", Deliverable, 250, "2.1.5"), "", "", false},
	} {
		exit := tt.p.Exit(tt.r)
		if exit == 0 {
			if tt.jsonErrSet {
				t.Errorf("%s: exit 0", tt.msg)
			}
			if j := tt.p.JSON(tt.r, nil); j.Error != "" || j.Exit != 0 {
				t.Errorf("JSON of a success: %+v", j.Final)
			}
			continue
		}
		if got := tt.p.Message(tt.r, exit); !strings.HasPrefix(got, tt.msg) {
			t.Errorf("message %q, want it to start %q", got, tt.msg)
		}
		if got := tt.p.Hint(tt.r, exit); !strings.Contains(got, tt.hint) {
			t.Errorf("hint %q, want it to contain %q", got, tt.hint)
		}
		j := tt.p.JSON(tt.r, nil)
		if j.Exit != exit || j.Error != tt.p.Message(tt.r, exit) || j.Hint != tt.p.Hint(tt.r, exit) {
			t.Errorf("JSON %+v: not the words of the error line", j.Final)
		}
	}
}

func TestNewPolicy(t *testing.T) {
	p, err := NewPolicy("accept", true, []string{"undeliverable", " Blocked "})
	if err != nil || p.Expect != ExpectAccept || !p.Strict || len(p.FailOn) != 2 || p.FailOn[1] != Blocked {
		t.Errorf("%+v %v", p, err)
	}
	for _, bad := range [][2]any{{"maybe", []string(nil)}, {"", []string{"deliverable", "nope"}}} {
		_, err := NewPolicy(bad[0].(string), false, bad[1].([]string))
		if exitcode.For(err) != exitcode.Usage {
			t.Errorf("%v: %v, want a usage error", bad, err)
		}
	}
}

// A bulk run's tally: --fail-on verdicts, --strict and --expect, in one
// line naming each.
func TestTally(t *testing.T) {
	tl := Policy{FailOn: []Verdict{Undeliverable, Blocked}, Strict: true}.NewTally()
	for _, r := range []*Result{result("a", Deliverable, 250, ""), result("b", Undeliverable, 550, "5.1.1"),
		result("c", Undeliverable, 550, "5.1.1"), result("d", Unprovable, 250, ""), result("e", Tempfail, 450, "")} {
		tl.Add(r)
	}
	err := tl.Err()
	if exitcode.For(err) != exitcode.Check || err.Error() != "failed the check: 1 unprovable, 2 undeliverable" {
		t.Errorf("%v", err)
	}
	tl = Policy{Expect: ExpectReject}.NewTally()
	tl.Add(result("a", Deliverable, 250, ""))
	tl.Add(result("b", Undeliverable, 550, "5.1.1"))
	if err := tl.Err(); err == nil || err.Error() != "failed the check: 1 not as expected (--expect reject)" {
		t.Errorf("%v", err)
	}
	tl = Policy{}.NewTally()
	tl.Add(result("b", Undeliverable, 550, "5.1.1"))
	if err := tl.Err(); err != nil {
		t.Errorf("no policy, yet %v", err)
	}
}

func TestReader(t *testing.T) {
	long := strings.Repeat("x", maxInputLine+100)
	in := "\uFEFFbob@a.test\r\n\n# comment\n  carol@b.test  \n" + long + "\nlast@c.test"
	got, err := NewReader(strings.NewReader(in)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := []Input{{1, "bob@a.test"}, {4, "carol@b.test"}, {5, long[:maxInputLine]}, {6, "last@c.test"}}
	if len(got) != len(want) {
		t.Fatalf("%d inputs: %+v", len(got), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("input %d: %.40q line %d, want %.40q line %d", i, got[i].Text, got[i].Line, want[i].Text, want[i].Line)
		}
	}
	// A megabyte line is no address list (a wrong path such as /dev/zero).
	_, err = NewReader(io.LimitReader(zeros{}, 2<<20)).ReadAll()
	if exitcode.For(err) != exitcode.Usage || !strings.Contains(err.Error(), "not an address list") {
		t.Errorf("endless line: %v", err)
	}
	_, err = NewReader(iotest.ErrReader(errors.New("disk on fire"))).ReadAll()
	if exitcode.For(err) != exitcode.Usage || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("read error: %v", err)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func TestOpenList(t *testing.T) {
	if _, err := OpenList(t.TempDir(), nil); exitcode.For(err) != exitcode.Usage || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("directory: %v", err)
	}
	if _, err := OpenList(t.TempDir()+"/none", nil); exitcode.For(err) != exitcode.Usage ||
		err.Error() != "cannot read the address list: no such file or directory" {
		t.Errorf("missing: %v", err)
	}
}

func TestWriteHuman(t *testing.T) {
	r := result("bob", Deliverable, 250, "2.1.5")
	r.Reason, r.MX, r.MXAddress = "accepted at RCPT", "mx.example.test", "127.0.0.1:25"
	r.TLS, r.TLSVerified = &tls.ConnectionState{Version: tls.VersionTLS13}, true
	var b bytes.Buffer
	if err := r.WriteHuman(&b, term.NewPalette(false)); err != nil {
		t.Fatal(err)
	}
	want := `
Address   bob@example.test
Verdict   deliverable
Reason    accepted at RCPT
Reply     250 2.1.5 text
MX        mx.example.test (127.0.0.1:25)
TLS       1.3, certificate verified
Note      accepted at RCPT does not prove a message would be delivered
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	// --insecure is said once, in the transcript's words.
	r.TLSVerified, r.TLSUnchecked, r.TLSError = false, true, session.NotVerified+" (--insecure)"
	b.Reset()
	_ = r.WriteHuman(&b, term.NewPalette(true))
	if !strings.Contains(b.String(), "TLS       1.3, certificate not verified (--insecure)\n") {
		t.Errorf("insecure:\n%s", b.String())
	}
	if !strings.Contains(b.String(), "Verdict   \x1b[32mdeliverable\x1b[0m") {
		t.Errorf("the verdict is not in the palette's 2xx colour:\n%q", b.String())
	}
}

// Rows in each format, with the policy's exit, and a failed write stops
// the output and is reported as exit 3.
func TestRowWriter(t *testing.T) {
	rows := []*Result{result("bob", Deliverable, 250, "2.1.5"), result("any", Unprovable, 250, "2.1.5")}
	rows[0].Line, rows[1].Line = 1, 2
	pol := Policy{Strict: true}
	for f, want := range map[Format]string{
		FormatTable: "bob@example.test                     deliverable   because\nany@example.test                     unprovable    because\n",
		FormatNone:  "",
	} {
		var b bytes.Buffer
		rw := NewRowWriter(&b, f, pol, term.NewPalette(false))
		for _, r := range rows {
			rw.Write(r)
		}
		if err := rw.Close(); b.String() != want || err != nil {
			t.Errorf("format %d: %q %v", f, b.String(), err)
		}
		if err := rw.Check(); err == nil || err.Error() != "failed the check: 1 unprovable" {
			t.Errorf("format %d: check %v", f, err)
		}
	}
	var b bytes.Buffer
	rw := NewRowWriter(&b, FormatJSON, pol, nil)
	rw.Write(rows[1])
	rw.Close()
	if !strings.Contains(b.String(), `"verdict":"unprovable"`) || !strings.Contains(b.String(), `"exit":1,"error":"cannot prove`) {
		t.Errorf("JSON row %s", b.String())
	}
	b.Reset()
	rw = NewRowWriter(&b, FormatCSV, pol, nil)
	rw.Write(rows[1])
	rw.Close()
	if lines := strings.Split(strings.TrimSpace(b.String()), "\n"); len(lines) != 2 || !strings.HasSuffix(lines[1], ",1") {
		t.Errorf("CSV %q", b.String())
	}
	// A failed write is exit 3.
	rw = NewRowWriter(failWriter{}, FormatJSON, pol, nil)
	rw.Write(rows[0])
	rw.Write(rows[1])
	if err := rw.Close(); exitcode.For(err) != exitcode.Network {
		t.Errorf("write error: %v", err)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("closed") }
