package interop_test

import (
	"testing"

	"github.com/smtpx/smtpx/internal/interop"
)

// aiosmtpd 1.4 with AUTH LOGIN only (issue 17, bug 1): its prompts are
// "User Name\0" and "Password\0", which go-sasl's LOGIN client refused.
func TestAiosmtpd(t *testing.T) {
	const user, pass = "alice@example.org", "correct horse"
	srv := interop.StartAiosmtpd(t, user, pass)
	env := map[string]string{"PW": pass, "BAD": "wrong"}
	from := []string{"--from", "a@example.org"}
	send := func(t *testing.T, args ...string) result {
		t.Helper()
		count("aiosmtpd")
		return smtpx(t, env, append([]string{"send", "--json", "--timeout", "20s", "--server", srv.Addr, "--user", user}, args...)...)
	}
	stored := 0
	check := func(t *testing.T, r result, msg []string) {
		t.Helper()
		if r.exit != 0 || r.command("AUTH") != "AUTH LOGIN" {
			t.Fatalf("AUTH %q\n%s\nserver:\n%s", r.command("AUTH"), r, srv.Log())
		}
		stored++
		msgs := srv.Messages(t)
		if len(msgs) != stored {
			t.Fatalf("aiosmtpd stored %d messages, want %d", len(msgs), stored)
		}
		sameBytes(t, msgs[stored-1], dump(t, msg), false)
	}

	t.Run("AUTH picks LOGIN", func(t *testing.T) {
		msg := append(append([]string{"--to", "b@example.com", "--attach", writeFile(t, "notes.txt", "notes\n")}, from...), fixed("interop@smtpx.test")...)
		check(t, send(t, append([]string{"--auth", "--password-env", "PW"}, msg...)...), msg)
	})

	t.Run("AUTH=LOGIN, 8-bit data, UTF-8 recipient", func(t *testing.T) {
		msg := append([]string{"--to", "jörg@example.com", "--data", writeFile(t, "8bit.eml", eightBitData("8bit@smtpx.test"))}, from...)
		r := send(t, append([]string{"--auth=LOGIN", "--password-env", "PW"}, msg...)...)
		if mail := r.command("MAIL FROM:"); !hasParam(mail, "BODY=8BITMIME") || !hasParam(mail, "SMTPUTF8") {
			t.Errorf("MAIL %q", mail)
		}
		check(t, r, msg)
	})

	t.Run("wrong password", func(t *testing.T) {
		r := send(t, "--auth=LOGIN", "--password-env", "BAD", "--to", "b@example.com", "--from", "a@example.org")
		if r.exit != 5 || r.json.Code != 535 {
			t.Fatalf("want exit 5 after 535\n%s", r)
		}
	})

	// Item 4: aiosmtpd refuses lines over 1000 octets (its
	// line_length_limit): the transcript had said why beforehand.
	t.Run("long line", func(t *testing.T) {
		r := send(t, "--auth", "--password-env", "PW", "--to", "b@example.com", "--from", "a@example.org",
			"--data", writeFile(t, "long.eml", longLineData("long@smtpx.test")))
		if r.exit != 5 || r.json.Code != 500 || r.json.LongLines != 1 || !r.said("1 line over 998 octets") {
			t.Fatalf("long_lines %d\n%s", r.json.LongLines, r)
		}
	})
}
