package cmd

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smtpx/smtpx/internal/certs"
	"github.com/smtpx/smtpx/internal/smtptest"
)

// writeConfig writes config.toml under a fresh XDG_CONFIG_HOME and returns
// the environment that makes smtpx read it.
func writeConfig(t *testing.T, toml string) map[string]string {
	t.Helper()
	home := t.TempDir()
	dir := filepath.Join(home, ".config", "smtpx")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.toml"), []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	return map[string]string{"HOME": home}
}

// The "done when": a profile with password_command sends through
// mailpit with AUTH, and the password appears nowhere in what smtpx prints,
// in any output mode.
func TestProfilePasswordCommandMailpit(t *testing.T) {
	dir := t.TempDir()
	c, err := certs.SelfSigned(certs.Options{Hosts: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile, err := c.WriteFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	// The password is assembled by the command, so it is not a substring
	// of the command itself: finding it in the output would be a real leak.
	const password = "pc-secret-4242"
	authFile := filepath.Join(dir, "auth")
	os.WriteFile(authFile, []byte("alice:"+password+"\n"), 0o600)
	mp := smtptest.StartMailpit(t, "", "", "--smtp-tls-cert", certFile, "--smtp-tls-key", keyFile, "--smtp-auth-file", authFile)

	env := writeConfig(t, `[profile.mp]
server = "`+mp.SMTP+`"
tls = "starttls"
ca_file = "`+certFile+`"
user = "alice"
password_command = "printf 'pc-secret-%s\n' 4242"
from = "alice@example.org"
headers = ["X-Profile: mp"]

[profile.wrong]
server = "`+mp.SMTP+`"
tls = "starttls"
ca_file = "`+certFile+`"
user = "alice"
password_command = "echo not-the-password"
`)
	secrets := []string{
		password,
		base64.StdEncoding.EncodeToString([]byte("\x00alice\x00" + password)), // AUTH PLAIN
		base64.StdEncoding.EncodeToString([]byte(password)),                   // AUTH LOGIN
	}
	for _, mode := range [][]string{nil, {"-v"}, {"--json"}, {"--json", "-v"}, {"--print-config"}, {"--print-config", "--json"}} {
		name := strings.Join(mode, " ")
		before := mp.Count(t)
		args := append([]string{"send", "--profile", "mp", "--to", "bob@example.com", "--subject", "profile test"}, mode...)
		out, stderr, code := run(t, "", env, args...)
		if code != 0 {
			t.Errorf("%q: exit %d\n%s%s", name, code, out, stderr)
			continue
		}
		for _, s := range secrets {
			if strings.Contains(out+stderr, s) {
				t.Errorf("%q: the password (%q) appears in the output:\n%s%s", name, s, out, stderr)
			}
		}
		if strings.Contains(name, "print-config") {
			if mp.Count(t) != before {
				t.Errorf("%q sent a message", name)
			}
			if !strings.Contains(out, "********") || !strings.Contains(out, "password_command") {
				t.Errorf("%q: no masked password in\n%s", name, out)
			}
			continue
		}
		if got := mp.Count(t); got != before+1 {
			t.Errorf("%q: mailpit holds %d messages, want %d", name, got, before+1)
		}
		switch {
		case strings.Contains(name, "json"):
			var res struct {
				Exit int `json:"exit"`
			}
			if err := json.Unmarshal([]byte(out), &res); err != nil || res.Exit != 0 {
				t.Errorf("%q: %v %s", name, err, out)
			}
		default:
			if !strings.Contains(out, "AUTH PLAIN ********") {
				t.Errorf("%q: no redacted AUTH in\n%s", name, out)
			}
		}
	}
	raw := string(mp.Raw(t))
	if !strings.Contains(raw, "X-Profile: mp") || !strings.Contains(raw, "From: alice@example.org") {
		t.Errorf("the profile's header and sender are not in the message:\n%s", raw)
	}

	// The password really is what authenticated: another one is refused.
	before := mp.Count(t)
	out, stderr, code := run(t, "", env, "send", "--profile", "wrong", "--from", "a@example.org", "--to", "bob@example.com")
	if code != 5 || mp.Count(t) != before {
		t.Errorf("wrong password: exit %d, want 5\n%s%s", code, out, stderr)
	}
	if strings.Contains(out+stderr, "not-the-password") {
		t.Error("the wrong password appears in the output")
	}
}

// Flags beat the environment beat the profile, end to end through send.
func TestSendConfigPrecedence(t *testing.T) {
	env := writeConfig(t, `[profile.default]
from = "profile@example.org"
helo = "profile.example"
headers = ["X-From-Profile: 1", "Subject: from profile"]
`)
	dump := func(extra map[string]string, args ...string) string {
		t.Helper()
		e := map[string]string{}
		for k, v := range env {
			e[k] = v
		}
		for k, v := range extra {
			e[k] = v
		}
		out, stderr, code := run(t, "", e, append([]string{"send", "--dump-mail", "--to", "b@example.com"}, args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d %s", args, code, stderr)
		}
		return out
	}
	if out := dump(nil); !strings.Contains(out, "From: profile@example.org") || !strings.Contains(out, "X-From-Profile: 1") || !strings.Contains(out, "Subject: from profile") {
		t.Errorf("profile:\n%s", out)
	}
	if out := dump(map[string]string{"SMTPX_FROM": "env@example.org"}); !strings.Contains(out, "From: env@example.org") {
		t.Errorf("environment:\n%s", out)
	}
	if out := dump(map[string]string{"SMTPX_FROM": "env@example.org"}, "--from", "flag@example.org", "--header", "subject: mine"); !strings.Contains(out, "From: flag@example.org") || strings.Contains(out, "from profile") {
		t.Errorf("flag:\n%s", out)
	}
}

// A broken config file stops send before anything is sent: exit 2, with
// the file and line.
func TestSendBadConfig(t *testing.T) {
	srv := listener(t)
	env := writeConfig(t, "[profile.default]\nserver = \""+srv.Addr()+"\"\nport = \"x\"\n")
	_, stderr, code := run(t, "", env, "send", "--to", "b@example.com")
	if code != 2 || !strings.Contains(stderr, "config.toml:3: profile \"default\": port: want a number, got a string") {
		t.Errorf("exit %d\n%s", code, stderr)
	}
	if srv.Conns() != 0 {
		t.Error("connected despite a bad config")
	}
}
