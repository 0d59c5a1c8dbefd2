package cmd

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smtpx/smtpx/internal/smtptest"
)

// Secrets (issue 9): whatever the password source and the AUTH mechanism,
// the password, the token and every AUTH payload the client sent appear
// nowhere in stdout, stderr or --json, with or without -v, on success and
// on failure. --show-auth is the control: it must show them, which proves
// the search would find a leak.

const (
	secretUser  = "user@example.test"
	secretPass  = "S3cr3t-pw-7f9c"
	secretToken = "ya29.T0ken-4b1d-cafe"
)

var b64 = base64.StdEncoding.EncodeToString

// secretForms are the strings that must never be shown.
func secretForms() []string {
	return []string{
		secretPass, secretToken,
		b64([]byte("\x00" + secretUser + "\x00" + secretPass)), // PLAIN
		b64([]byte(secretPass)),                                // LOGIN's second answer
		b64([]byte(secretToken)),
		b64([]byte("user=" + secretUser + "\x01auth=Bearer " + secretToken + "\x01\x01")), // XOAUTH2
		strings.TrimRight(b64([]byte(secretPass)), "="),
	}
}

// authPayloads returns the AUTH payloads a scripted server received: the
// initial response and every answer to a 334.
func authPayloads(received string) []string {
	var out []string
	lines := strings.Split(received, "\r\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "AUTH ") {
			if f := strings.Fields(l); len(f) == 3 && f[2] != "=" {
				out = append(out, f[2])
			}
			for _, next := range lines[i+1:] {
				if next == "" || strings.HasPrefix(next, "MAIL ") || strings.HasPrefix(next, "QUIT") || next == "*" {
					break
				}
				out = append(out, next)
			}
		}
	}
	return out
}

// authScript is a server offering mech that reads the exchange and answers
// final (235 or 535), then takes a message.
func authScript(mech string, challenge bool, final string) string {
	s := "S: 220 mx.test ESMTP\nC~ EHLO\nS: 250-mx.test\nS: 250 AUTH " + mech + "\nC~ AUTH " + mech + "\n"
	if challenge {
		s += "S: 334 " + b64([]byte("<1896.697170952@mx.test>")) + "\nC*\n"
	}
	s += "S: " + final + "\n"
	if strings.HasPrefix(final, "235") {
		s += "C~ MAIL\nS: 250 ok\nC~ RCPT\nS: 250 ok\nC: DATA\nS: 354 go\ndata\nS: 250 ok\n"
	}
	return s + "C: QUIT\nS: 221 bye\nclose\n"
}

func TestSecretsNeverShown(t *testing.T) {
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	tokFile := filepath.Join(dir, "token")
	os.WriteFile(pwFile, []byte(secretPass+"\n"), 0o600)
	os.WriteFile(tokFile, []byte(secretToken+"\n"), 0o600)

	peer, err := smtptest.StartPeer(smtptest.PeerOptions{Users: map[string]string{secretUser: secretPass}, SCRAM: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(peer.Close)
	cfg := filepath.Join(dir, "config.toml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("[profile.sec]\nserver = %q\nuser = %q\npassword_command = \"printf '%%s\\\\n' %s\"\n", peer.Addr(), secretUser, secretPass)), 0o600)

	type source struct {
		name string
		args []string
		env  map[string]string
	}
	passwords := []source{
		{"--password-file", []string{"--user", secretUser, "--password-file", pwFile}, nil},
		{"--password-env", []string{"--user", secretUser, "--password-env", "MY_PW"}, map[string]string{"MY_PW": secretPass}},
		{"SMTPX_PASSWORD", []string{"--user", secretUser}, map[string]string{"SMTPX_PASSWORD": secretPass}},
		{"--password", []string{"--user", secretUser, "--password", secretPass}, nil},
	}
	tokens := []source{
		{"--oauth-token-file", []string{"--user", secretUser, "--oauth-token-file", tokFile}, nil},
		{"--oauth-token-env", []string{"--user", secretUser, "--oauth-token-env", "MY_TOKEN"}, map[string]string{"MY_TOKEN": secretToken}},
		{"SMTPX_OAUTH_TOKEN", []string{"--user", secretUser}, map[string]string{"SMTPX_OAUTH_TOKEN": secretToken}},
	}
	modes := [][]string{nil, {"-v"}, {"--json"}, {"--json", "-v"}}
	base := []string{"--from", "a@client.test", "--to", "b@example.com", "--timeout", "10s"}

	check := func(t *testing.T, argv []string, env map[string]string, wantExit int, payloads []string) {
		t.Helper()
		stdout, stderr, code := run(t, "", env, argv...)
		if code != wantExit {
			t.Fatalf("%q: exit %d, want %d\n%s%s", argv, code, wantExit, stdout, stderr)
		}
		if !strings.Contains(stdout+stderr, "********") && !strings.Contains(strings.Join(argv, " "), "--json") {
			t.Errorf("%q: no redaction marker in the transcript:\n%s", argv, stdout)
		}
		for _, s := range append(secretForms(), payloads...) {
			if len(s) < 6 {
				continue
			}
			for name, out := range map[string]string{"stdout": stdout, "stderr": stderr} {
				if strings.Contains(out, s) {
					t.Errorf("%q: %s shows the secret %q:\n%s", argv, name, s, out)
				}
			}
		}
	}

	// PLAIN, LOGIN and SCRAM (xdg-go's server) against go-smtp, with every
	// password source.
	for _, mech := range []string{"PLAIN", "LOGIN", "SCRAM-SHA-256", "SCRAM-SHA-1"} {
		for _, src := range passwords {
			for _, mode := range modes {
				t.Run(mech+"/"+src.name+"/"+strings.Join(mode, ""), func(t *testing.T) {
					argv := append(append(append([]string{"send", "--server", peer.Addr(), "--auth=" + mech}, base...), src.args...), mode...)
					check(t, argv, src.env, 0, nil)
				})
			}
		}
		t.Run(mech+"/password_command", func(t *testing.T) {
			for _, mode := range modes {
				argv := append(append([]string{"send", "--config", cfg, "--profile", "sec", "--auth=" + mech}, base...), mode...)
				check(t, argv, nil, 0, nil)
			}
		})
		t.Run(mech+"/wrong password", func(t *testing.T) {
			for _, mode := range modes {
				argv := append(append([]string{"send", "--server", peer.Addr(), "--auth=" + mech, "--user", secretUser, "--password-env", "MY_PW"}, base...), mode...)
				check(t, argv, map[string]string{"MY_PW": secretPass + "-wrong"}, 5, []string{secretPass + "-wrong"})
			}
		})
	}
	if n := len(peer.Messages()); n == 0 {
		t.Error("the peer accepted no message: AUTH never succeeded")
	}

	// Mechanisms go-smtp does not serve, against scripted servers that
	// record the payloads.
	scripted := []struct {
		mech      string
		challenge bool
		srcs      []source
	}{
		{"CRAM-MD5", true, passwords},
		{"XOAUTH2", false, tokens},
		{"OAUTHBEARER", false, tokens},
	}
	for _, sc := range scripted {
		for _, final := range []string{"235 2.7.0 ok", "535 5.7.8 no"} {
			for _, src := range sc.srcs {
				for _, mode := range modes {
					t.Run(sc.mech+"/"+final[:3]+"/"+src.name+"/"+strings.Join(mode, ""), func(t *testing.T) {
						srv, err := smtptest.Start(authScript(sc.mech, sc.challenge, final))
						if err != nil {
							t.Fatal(err)
						}
						defer srv.Close()
						argv := append(append(append([]string{"send", "--server", srv.Addr(), "--auth=" + sc.mech}, base...), src.args...), mode...)
						want := 0
						if final[0] == '5' {
							want = 5
						}
						stdout, stderr, code := run(t, "", src.env, argv...)
						srv.Close()
						payloads := authPayloads(srv.Received())
						if len(payloads) == 0 {
							t.Fatalf("no AUTH payload reached the server: %q\n%s%s", srv.Received(), stdout, stderr)
						}
						if code != want {
							t.Fatalf("exit %d, want %d\n%s%s", code, want, stdout, stderr)
						}
						for _, s := range append(secretForms(), payloads...) {
							if strings.Contains(stdout+stderr, s) {
								t.Errorf("the output shows the secret %q:\n%s%s", s, stdout, stderr)
							}
						}
					})
				}
			}
		}
	}

	// The control: --show-auth shows the payloads, so the searches above
	// would have found them.
	t.Run("control --show-auth", func(t *testing.T) {
		srv, err := smtptest.Start(authScript("PLAIN", false, "235 2.7.0 ok"))
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		stdout, stderr, code := run(t, "", map[string]string{"MY_PW": secretPass}, append([]string{"send", "--server", srv.Addr(), "--auth=PLAIN", "--show-auth", "-v", "--user", secretUser, "--password-env", "MY_PW"}, base...)...)
		plain := b64([]byte("\x00" + secretUser + "\x00" + secretPass))
		if code != 0 || !strings.Contains(stdout, plain) {
			t.Errorf("--show-auth: exit %d, payload %q not shown:\n%s%s", code, plain, stdout, stderr)
		}
	})
}

// Issue 14: a server that echoes the credentials back in its replies
// (decoded, as the PLAIN payload it received, as LOGIN's base64 answer, or
// inside another base64 string) never gets them shown: not in the
// transcript, -v, --json nor the error line, on failure and on success.
func TestEchoedSecretsNeverShown(t *testing.T) {
	plain := "\x00" + secretUser + "\x00" + secretPass
	echo := func(code string) string {
		return "S: " + code + "-5.7.8 you sent " + b64([]byte(plain)) + "\n" +
			fmt.Sprintf("R: %q\n", code+"-5.7.8 which is ("+plain+")\r\n") +
			"S: " + code + "-5.7.8 so the password is " + secretPass + "\n" +
			"S: " + code + "-5.7.8 or " + b64([]byte(secretPass)) + " or " + b64([]byte("x"+secretPass)) + "\n" +
			"S: " + code + " 5.7.8 for " + secretUser + "\n"
	}
	head := "S: 220 mx.test ESMTP\nC~ EHLO\nS: 250-mx.test\nS: 250 AUTH PLAIN LOGIN\n"
	login := "C~ AUTH LOGIN\nS: 334 UGFzc3dvcmQ6\nC*\n"
	ok := strings.ReplaceAll(echo("235"), "5.7.8", "2.7.0") +
		"C~ MAIL\nS: 250 2.1.0 sender ok, password " + secretPass + "\nC~ RCPT\nS: 250 2.1.5 ok " + b64([]byte(secretPass)) +
		"\nC: DATA\nS: 354 go\ndata\nS: 250 2.0.0 queued as " + secretPass + "\n"
	forms := append(secretForms(), b64([]byte("x" + secretPass))[3:18], strings.TrimRight(b64([]byte(plain)), "="))
	base := []string{"--from", "a@client.test", "--to", "b@example.com", "--timeout", "10s", "--user", secretUser, "--password-env", "MY_PW"}
	env := map[string]string{"MY_PW": secretPass}
	for _, tt := range []struct {
		name, mech, script string
		exit               int
	}{
		{"PLAIN 535", "PLAIN", head + "C~ AUTH PLAIN\n" + echo("535"), 5},
		{"LOGIN 535", "LOGIN", head + login + echo("535"), 5},
		{"LOGIN 454", "LOGIN", head + login + strings.ReplaceAll(echo("454"), "5.7.8", "4.7.0"), 4},
		{"PLAIN 235", "PLAIN", head + "C~ AUTH PLAIN\n" + ok, 0},
		{"LOGIN 235", "LOGIN", head + login + ok, 0},
	} {
		for _, mode := range [][]string{nil, {"-v"}, {"--json"}, {"--json", "-v"}} {
			t.Run(tt.name+"/"+strings.Join(mode, ""), func(t *testing.T) {
				srv, err := smtptest.Start(tt.script + "C: QUIT\nS: 221 bye\nclose\n")
				if err != nil {
					t.Fatal(err)
				}
				defer srv.Close()
				argv := append(append([]string{"send", "--server", srv.Addr(), "--auth=" + tt.mech}, base...), mode...)
				stdout, stderr, code := run(t, "", env, argv...)
				if code != tt.exit {
					t.Fatalf("exit %d, want %d\n%s%s\nserver: %q", code, tt.exit, stdout, stderr, srv.Errors())
				}
				for _, s := range forms {
					if strings.Contains(stdout+stderr, s) {
						t.Errorf("the output shows the secret %q:\n%s%s", s, stdout, stderr)
					}
				}
				// The echo was there and is shown hidden; the reply still
				// has its codes and the user name stays readable.
				if !strings.Contains(stdout+stderr, "********") {
					t.Errorf("no redaction marker:\n%s%s", stdout, stderr)
				}
				if tt.exit != 0 {
					if !strings.Contains(stdout+stderr, "5.7.8") && !strings.Contains(stdout+stderr, "4.7.0") {
						t.Errorf("the enhanced code is lost:\n%s%s", stdout, stderr)
					}
					if !strings.Contains(stdout+stderr, "for "+secretUser) {
						t.Errorf("the user name was hidden:\n%s%s", stdout, stderr)
					}
				}
			})
		}
	}
}

// SCRAM end to end against another implementation's server: the message
// goes through as the user, a wrong password is the server's 535, and a
// server that answers 235 without proving it knows the password (no
// server-final message) is refused before any mail is sent to it.
func TestSCRAMSend(t *testing.T) {
	users := map[string]string{"a,b=c@example.test": "pä,ss=wörd"}
	good, err := smtptest.StartPeer(smtptest.PeerOptions{Users: users, SCRAM: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(good.Close)
	impostor, err := smtptest.StartPeer(smtptest.PeerOptions{Users: users, SCRAM: true, SCRAMNoProof: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(impostor.Close)
	for _, mech := range []string{"SCRAM-SHA-256", "SCRAM-SHA-1", ""} {
		for _, tc := range []struct {
			peer     *smtptest.Peer
			password string
			exit     int
			want     string
		}{
			{good, "pä,ss=wörd", 0, "235"},
			{good, "pä,ss=word", 5, "smtpx: error: AUTH rejected (535 5.7.8)"},
			{impostor, "pä,ss=wörd", 7, "smtpx: hint: a server that knew the password would have proved it"},
		} {
			auth := "--auth"
			if mech != "" {
				auth += "=" + mech
			}
			before := len(tc.peer.Messages())
			stdout, stderr, code := run(t, "", map[string]string{"PW": tc.password}, "send", "--server", tc.peer.Addr(), auth,
				"--user", "a,b=c@example.test", "--password-env", "PW", "--from", "a@client.test", "--to", "b@example.com", "--timeout", "10s")
			if code != tc.exit || !strings.Contains(stdout+stderr, tc.want) {
				t.Errorf("%s %q: exit %d, want %d and %q\n%s%s", mech, tc.password, code, tc.exit, tc.want, stdout, stderr)
			}
			if mech == "" && !strings.Contains(stdout, "AUTH SCRAM-SHA-256") {
				t.Errorf("--auth chose another mechanism than SCRAM-SHA-256:\n%s", stdout)
			}
			msgs := tc.peer.Messages()
			switch {
			case tc.exit == 0 && (len(msgs) != before+1 || msgs[before].User != "a,b=c@example.test"):
				t.Errorf("%s: the message was not accepted as the user: %+v", mech, msgs)
			case tc.exit != 0 && len(msgs) != before:
				t.Errorf("%s %q: a message was sent after AUTH failed", mech, tc.password)
			}
		}
	}
}
