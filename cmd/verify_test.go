package cmd

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/session"
	"github.com/smtpx/smtpx/internal/term"
	"github.com/smtpx/smtpx/internal/verify"
)

// argv -> verify options, policy and output: what each flag sets, without
// a network.
func TestVerifyOptions(t *testing.T) {
	for _, tt := range []struct {
		args  []string
		check func(t *testing.T, p *verifyPlan)
	}{
		{[]string{"bob@example.com"}, func(t *testing.T, p *verifyPlan) {
			o := p.opts
			if p.bulk || o.Method != verify.MethodRcpt || !o.CatchAll || o.Port != 25 || o.PerSession != verify.DefaultPerSession ||
				o.Concurrency != verify.DefaultConcurrency || o.PerMX != verify.DefaultPerMX || o.Delay != verify.DefaultDelay ||
				o.From != nil || o.Resolver == nil || o.Session.Timeout != 30*time.Second || o.Session.TLSVerdict != nil {
				t.Errorf("defaults: bulk %v %+v", p.bulk, o)
			}
			if p.policy.Expect != "" || p.policy.Strict || len(p.policy.FailOn) != 0 || p.policy.ErrHint == nil {
				t.Errorf("policy %+v", p.policy)
			}
		}},
		{[]string{"--helo", "me.example", "--from", "me@example.org", "--mx", "127.0.0.1:2525", "--port", "2526",
			"--method", "vrfy", "--no-starttls", "--wait-greylist", "1m", "--timeout", "3s", "-k", "a@example.com"},
			func(t *testing.T, p *verifyPlan) {
				o := p.opts
				if o.Helo != "me.example" || o.From == nil || o.From.Mailbox() != "me@example.org" || o.MX != "127.0.0.1:2525" ||
					o.Port != 2526 || o.Method != verify.MethodVrfy || o.CatchAll || !o.NoStartTLS || o.WaitGreylist != time.Minute ||
					o.Session.Timeout != 3*time.Second || !o.Session.TLSConfig.InsecureSkipVerify {
					t.Errorf("%+v", o)
				}
				if o.Session.TLSVerdict == nil || o.Session.TLSVerdict(nil) != session.NotVerified+" (--insecure)" {
					t.Errorf("--insecure verdict missing")
				}
			}},
		{[]string{"--expect", "reject", "--strict", "--fail-on", "undeliverable,blocked", "--csv", "a@example.com"},
			func(t *testing.T, p *verifyPlan) {
				if !p.bulk || p.format != verify.FormatCSV || p.policy.Expect != verify.ExpectReject || !p.policy.Strict ||
					len(p.policy.FailOn) != 2 || p.policy.FailOn[1] != verify.Blocked {
					t.Errorf("bulk %v format %v policy %+v", p.bulk, p.format, p.policy)
				}
			}},
		{[]string{"--file", "list.txt", "--per-session", "5", "--concurrency", "3", "--per-mx", "2", "--delay", "0", "--json"},
			func(t *testing.T, p *verifyPlan) {
				o := p.opts
				if !p.bulk || p.list != "list.txt" || p.format != verify.FormatJSON || o.PerSession != 5 || o.Concurrency != 3 ||
					o.PerMX != 2 || o.Delay != 0 {
					t.Errorf("bulk %v list %q format %v %+v", p.bulk, p.list, p.format, o)
				}
			}},
		{[]string{"-q", "-"}, func(t *testing.T, p *verifyPlan) {
			if !p.bulk || p.list != "-" || len(p.args) != 0 || p.format != verify.FormatNone {
				t.Errorf("bulk %v list %q args %q format %v", p.bulk, p.list, p.args, p.format)
			}
		}},
		{[]string{"a@example.com", "b@example.com"}, func(t *testing.T, p *verifyPlan) {
			if !p.bulk || p.list != "" || len(p.args) != 2 || p.format != verify.FormatTable {
				t.Errorf("bulk %v list %q args %q format %v", p.bulk, p.list, p.args, p.format)
			}
		}},
	} {
		var got *verifyPlan
		parseVerb(t, nil, func(e *Env) *cobra.Command {
			return newVerifyCmd(e, func(p *verifyPlan) error { got = p; return nil })
		}, append([]string{"verify"}, tt.args...)...)
		if got == nil {
			t.Fatalf("%q: runF not called", tt.args)
		}
		tt.check(t, got)
	}
}

// Bad flags never reach runF: a usage error in the project's voice.
func TestVerifyUsage(t *testing.T) {
	for _, tt := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--file", "x", "a@example.com"}, "both addresses and --file were given"},
		{nil, "verify needs an ADDRESS or --file"},
		{[]string{"--json", "--csv", "a@example.com"}, "--json and --csv cannot be combined"},
		{[]string{"--method", "ask", "a@example.com"}, `--method "ask" is not a method`},
		{[]string{"--expect", "yes", "a@example.com"}, `--expect "yes" is not accept or reject`},
		{[]string{"--per-mx", "0", "a@example.com"}, "--per-session, --concurrency and --per-mx must be at least 1"},
		{[]string{"--delay", "-1s", "a@example.com"}, "--delay and --wait-greylist cannot be negative"},
		{[]string{"--port", "70000", "a@example.com"}, "--port 70000 is out of range"},
		{[]string{"--helo", "a b", "a@example.com"}, "--helo must not contain spaces or line breaks"},
		{[]string{"--fail-on", "gone", "a@example.com"}, `--fail-on "gone" is not a verdict`},
		{[]string{"--from", "nope", "a@example.com"}, "--from: "},
		{[]string{"not-an-address"}, ""},
	} {
		var out, errb bytes.Buffer
		env := &Env{IO: &term.IO{In: strings.NewReader(""), Out: &out, Err: &errb, Getenv: func(string) string { return "" }},
			G: &Globals{}, Build: BuildInfo{Version: "test"}}
		root := newRoot(env, "none")
		called := false
		root.AddCommand(newVerifyCmd(env, func(*verifyPlan) error { called = true; return nil }))
		root.SetArgs(append([]string{"verify"}, tt.args...))
		err := root.Execute()
		if called || exitcode.For(err) != exitcode.Usage || !strings.HasPrefix(err.Error(), tt.msg) || Hint(err) == "" {
			t.Errorf("%q: runF %v, %v (hint %q)", tt.args, called, err, Hint(err))
		}
	}
}
