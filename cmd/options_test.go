package cmd

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/smtpx/smtpx/internal/codes"
	"github.com/smtpx/smtpx/internal/ehlo"
	"github.com/smtpx/smtpx/internal/probe"
	"github.com/smtpx/smtpx/internal/target"
	"github.com/smtpx/smtpx/internal/term"
)

// parseVerb runs argv through the verb built by build, whose runF keeps
// what the flags turned into, and fails the test on a usage error.
func parseVerb(t *testing.T, environ map[string]string, build func(*Env) *cobra.Command, args ...string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &Env{IO: &term.IO{In: strings.NewReader(""), Out: &out, Err: &errb, Getenv: func(k string) string { return environ[k] }},
		G: &Globals{}, Build: BuildInfo{Version: "test"}}
	root := newRoot(env, "none")
	root.AddCommand(build(env))
	root.SetArgs(args)
	if err := root.Execute(); err != nil {
		t.Fatalf("%q: %v\n%s", args, err, errb.String())
	}
}

// argv -> send options: what each flag sets, without a network.
func TestSendOptions(t *testing.T) {
	home := t.TempDir()
	for _, tt := range []struct {
		args  []string
		check func(t *testing.T, p *sendPlan)
	}{
		{[]string{"--server", "127.0.0.1:2525", "--to", "Bob <b@example.com>, c@example.com", "--bcc", "d@example.com", "--from", "Alice <a@example.org>"},
			func(t *testing.T, p *sendPlan) {
				if p.tgt == nil || p.opts.Session.Address != "127.0.0.1:2525" || p.opts.From != "a@example.org" {
					t.Errorf("target %v, address %q, from %q", p.tgt, p.opts.Session.Address, p.opts.From)
				}
				if len(p.env.Rcpts) != 3 || p.env.HeaderTo[0] != "Bob <b@example.com>" || len(p.env.HeaderCc) != 0 {
					t.Errorf("envelope %+v", p.env)
				}
			}},
		{[]string{"--to", "b@example.com", "--notify", "success,failure", "--ret", "hdrs", "--envid", "X1", "--orcpt"},
			func(t *testing.T, p *sendPlan) {
				if p.tgt != nil || p.opts.DSN.Notify != "SUCCESS,FAILURE" || p.opts.DSN.Ret != "HDRS" || !p.opts.DSN.ORcpt {
					t.Errorf("routed %v, DSN %+v", p.tgt == nil, p.opts.DSN)
				}
			}},
		{[]string{"--server", "smtps://127.0.0.1", "--to", "b@example.com", "--timeout", "3s"},
			func(t *testing.T, p *sendPlan) {
				if p.opts.TLS != target.TLSImplicit || !p.opts.Session.ImplicitTLS || p.opts.Session.Timeout != 3*time.Second {
					t.Errorf("TLS %v implicit %v timeout %v", p.opts.TLS, p.opts.Session.ImplicitTLS, p.opts.Session.Timeout)
				}
			}},
		{[]string{"--server", "127.0.0.1", "--tls", "--to", "b@example.com", "--auth", "PLAIN", "--user", "u", "--password-env", "PW"},
			func(t *testing.T, p *sendPlan) {
				if p.opts.TLS != target.TLSRequired || p.opts.Auth == nil || p.opts.Auth.Mech != "PLAIN" || p.opts.Auth.Creds.Password != "pw" {
					t.Errorf("TLS %v auth %+v", p.opts.TLS, p.opts.Auth)
				}
			}},
		{[]string{"--server", "127.0.0.1", "--to", "b@example.com", "--quit-after", "rcpt", "--pipeline", "never", "--chunking", "never", "--no-tls"},
			func(t *testing.T, p *sendPlan) {
				if p.opts.QuitAfter != "rcpt" || p.opts.Pipeline || p.opts.Chunking || p.opts.TLS != target.TLSNone {
					t.Errorf("%+v", p.opts)
				}
			}},
	} {
		var got *sendPlan
		parseVerb(t, map[string]string{"PW": "pw", "HOME": home}, func(e *Env) *cobra.Command {
			return newSendCmd(e, func(p *sendPlan) error { got = p; return nil })
		}, append([]string{"send"}, tt.args...)...)
		if got == nil {
			t.Fatalf("%q: runF not called", tt.args)
		}
		tt.check(t, got)
	}
}

func TestEhloOptions(t *testing.T) {
	var got ehlo.Options
	parseVerb(t, nil, func(e *Env) *cobra.Command {
		return newEhloCmd(e, func(o ehlo.Options) error { got = o; return nil })
	}, "ehlo", "--tls", "--helo", "me.example", "--quit-after", "tls", "--connect-timeout", "2s", "[::1]:2525")
	if !got.StartTLS || got.Helo != "me.example" || got.QuitAfter != "tls" || got.Session.Address != "[::1]:2525" || got.Session.ConnectTimeout != 2*time.Second {
		t.Errorf("%+v", got)
	}
}

func TestCodesOptions(t *testing.T) {
	var got codes.Options
	parseVerb(t, nil, func(e *Env) *cobra.Command {
		return newCodesCmd(e, func(o codes.Options) error { got = o; return nil })
	}, "codes", "--exit-class", "550", "5.1.1")
	if !got.ExitClass || strings.Join(got.Args, " ") != "550 5.1.1" || got.List || got.Search != "" {
		t.Errorf("%+v", got)
	}
}

func TestProbeOptions(t *testing.T) {
	var got probe.Options
	parseVerb(t, nil, func(e *Env) *cobra.Command {
		return newProbeCmd(e, func(o probe.Options) error { got = o; return nil })
	}, "probe", "--port", "25,587", "-4", "--require", "STARTTLS", "--fail-on", "warn", "--count", "3", "example.com")
	if got.Target != "example.com" || len(got.Ports) != 2 || got.Family != 4 || !got.FailOnWarn || got.Count != 3 {
		t.Errorf("%+v", got)
	}
}
