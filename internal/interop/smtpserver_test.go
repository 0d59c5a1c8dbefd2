package interop_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/smtpx/smtpx/internal/interop"
)

// Nodemailer's smtp-server 3.21 with STARTTLS and AUTH, its dialogue
// logged: every stored byte, and the exits for 8BITMIME, SIZE and a
// partial delivery.
func TestSMTPServer(t *testing.T) {
	certFile, keyFile := selfSigned(t)
	const user, pass = "alice", "s3cret pass"
	o := interop.SMTPServerOptions{CertFile: certFile, KeyFile: keyFile, User: user, Password: pass,
		Rcpt: map[string]interop.SMTPReply{
			"later@example.com":  {Code: 450, Text: "mailbox busy, try later"},
			"reject@example.com": {Code: 550, Text: "no such user"},
		},
		Options: map[string]any{"size": 20000}}
	full := interop.StartSMTPServer(t, o)
	o.Options = map[string]any{"hide8BITMIME": true, "hideSMTPUTF8": true}
	plain := interop.StartSMTPServer(t, o)
	env := map[string]string{"PW": pass}
	from := []string{"--from", "a@example.org"}
	stored := map[*interop.Server]int{}
	send := func(t *testing.T, srv *interop.Server, args ...string) result {
		t.Helper()
		count("smtp-server")
		stored[srv] = len(srv.Messages(t))
		return smtpx(t, env, append([]string{"send", "--json", "--timeout", "20s", "--server", srv.Addr, "--tls", "--ca-file", certFile,
			"--user", user, "--password-env", "PW"}, args...)...)
	}
	check := func(t *testing.T, srv *interop.Server, r result, msg []string) {
		t.Helper()
		if r.exit != 0 {
			t.Fatalf("%s\nserver:\n%s", r, srv.Log())
		}
		msgs := srv.Messages(t)
		if len(msgs) != stored[srv]+1 {
			t.Fatalf("smtp-server stored %d messages, want %d", len(msgs), stored[srv]+1)
		}
		sameBytes(t, msgs[len(msgs)-1], dump(t, msg), false)
	}

	t.Run("STARTTLS, AUTH LOGIN, attachments", func(t *testing.T) {
		msg := append(append([]string{"--to", "b@example.com", "--html", "<p>hi <b>there</b></p>",
			"--attach", writeFile(t, "report.bin", strings.Repeat("\x00\x01\xff binary\n", 300))}, from...), fixed("interop@smtpx.test")...)
		r := send(t, full, append([]string{"--auth=LOGIN"}, msg...)...)
		check(t, full, r, msg)
		// The server's own log of the dialogue: TLS before AUTH, and the
		// password never in clear.
		log := full.Log()
		if i, j := strings.Index(log, "C: STARTTLS"), strings.Index(log, "C: AUTH LOGIN"); i < 0 || j < i || strings.Contains(log, pass) {
			t.Errorf("server log:\n%s", log)
		}
	})

	t.Run("AUTH PLAIN, 8-bit data", func(t *testing.T) {
		msg := append([]string{"--to", "b@example.com", "--data", writeFile(t, "8bit.eml", eightBitData("8bit@smtpx.test"))}, from...)
		r := send(t, full, append([]string{"--auth=PLAIN"}, msg...)...)
		if !hasParam(r.command("MAIL FROM:"), "BODY=8BITMIME") {
			t.Errorf("MAIL %q", r.command("MAIL FROM:"))
		}
		check(t, full, r, msg)
	})

	t.Run("no 8BITMIME", func(t *testing.T) {
		msg := append([]string{"--to", "b@example.com", "--data", writeFile(t, "8bit.eml", eightBitData("8bit@smtpx.test"))}, from...)
		r := send(t, plain, append([]string{"--auth"}, msg...)...)
		if r.exit != 5 || r.command("MAIL") != "" || !strings.Contains(r.json.Hint, "--force-8bit") {
			t.Fatalf("sent %q\n%s", r.sent(), r)
		}
		r = send(t, plain, append([]string{"--auth", "--force-8bit"}, msg...)...)
		check(t, plain, r, msg)
	})

	// A message over the server's SIZE is refused before MAIL.
	t.Run("SIZE", func(t *testing.T) {
		big := append([]string{"--to", "b@example.com", "--auth", "--attach", writeFile(t, "big.bin", strings.Repeat("x", 30000))}, from...)
		r := send(t, full, append(big, fixed("interop@smtpx.test")...)...)
		if r.exit != 5 || r.command("MAIL") != "" || !strings.Contains(r.json.Error, "SIZE limit of 20000") {
			t.Fatalf("sent %q\n%s", r.sent(), r)
		}
	})

	t.Run("partial delivery", func(t *testing.T) {
		msg := append(append([]string{"--to", "reject@example.com", "--to", "b@example.com", "--to", "later@example.com"}, from...), fixed("interop@smtpx.test")...)
		r := send(t, full, append([]string{"--auth"}, msg...)...)
		var got []string
		for _, rc := range r.json.Recipients {
			got = append(got, rc.Status)
		}
		if want := []string{"failed", "accepted", "retry"}; r.exit != 5 || !slices.Equal(got, want) {
			t.Fatalf("exit %d, statuses %v; want 5 %v\n%s", r.exit, got, want, r)
		}
		msgs := full.Messages(t)
		if len(msgs) != stored[full]+1 {
			t.Fatalf("smtp-server stored %d messages, want %d", len(msgs), stored[full]+1)
		}
		sameBytes(t, msgs[len(msgs)-1], dump(t, msg), false)
	})
}
