package interop_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/smtpx/smtpx/internal/interop"
)

// Postfix 3.7 smtpd, a private instance (issue 17): every stored byte, and
// the exit for SMTPUTF8, 8BITMIME, long lines, partial delivery and
// greylisting.
func TestPostfix(t *testing.T) {
	pf := interop.StartPostfix(t)
	from := []string{"--from", "a@example.org"}
	send := func(t *testing.T, server string, args ...string) result {
		t.Helper()
		count("postfix")
		return smtpx(t, nil, append([]string{"send", "--json", "--timeout", "20s", "--server", server}, args...)...)
	}
	// msg is a built message to the recipients in args.
	msg := func(id string, args ...string) []string {
		return append(append(args, from...), fixed(id)...)
	}

	t.Run("built message", func(t *testing.T) {
		m := msg("built@smtpx.test", "--to", interop.PostfixUser, "--body", "Grüße\n.dot line\n")
		if r := send(t, pf.Full, m...); r.exit != 0 {
			t.Fatal(r)
		}
		sameBytes(t, pf.Delivered(t, interop.PostfixUser, "built@smtpx.test"), dump(t, m), true)
	})

	// Bug 2: a UTF-8 recipient that also stands in To: needs SMTPUTF8 on
	// MAIL; without the extension nothing is sent and the exit is 5.
	t.Run("SMTPUTF8 recipient also in To", func(t *testing.T) {
		m := msg("utf8@smtpx.test", "--to", interop.PostfixUTF8)
		r := send(t, pf.Full, m...)
		if r.exit != 0 || !hasParam(r.command("MAIL FROM:"), "SMTPUTF8") {
			t.Fatalf("MAIL %q\n%s", r.command("MAIL FROM:"), r)
		}
		sameBytes(t, pf.Delivered(t, interop.PostfixUTF8, "utf8@smtpx.test"), dump(t, m), true)

		r = send(t, pf.Plain, msg("utf8-plain@smtpx.test", "--to", interop.PostfixUTF8)...)
		if r.exit != 5 || r.command("MAIL") != "" || r.command("RCPT") != "" || !strings.Contains(r.json.Error, "SMTPUTF8") {
			t.Fatalf("to a server without SMTPUTF8: sent %q\n%s", r.sent(), r)
		}
	})

	// Item 3: raw 8-bit content needs 8BITMIME; --force-8bit sends it
	// anyway; a built message is 7-bit whatever its text.
	t.Run("8BITMIME", func(t *testing.T) {
		data := func(id string) []string {
			return append([]string{"--to", interop.PostfixUser, "--data", writeFile(t, id, eightBitData(id))}, from...)
		}
		m := data("8bit@smtpx.test")
		r := send(t, pf.Full, m...)
		if r.exit != 0 || !hasParam(r.command("MAIL FROM:"), "BODY=8BITMIME") {
			t.Fatalf("MAIL %q\n%s", r.command("MAIL FROM:"), r)
		}
		sameBytes(t, pf.Delivered(t, interop.PostfixUser, "8bit@smtpx.test"), dump(t, m), true)

		r = send(t, pf.Plain, data("8bit-refused@smtpx.test")...)
		if r.exit != 5 || r.command("MAIL") != "" || !strings.Contains(r.json.Error, "8BITMIME") || !strings.Contains(r.json.Hint, "--force-8bit") {
			t.Fatalf("to a server without 8BITMIME: sent %q\n%s", r.sent(), r)
		}

		m = data("8bit-forced@smtpx.test")
		r = send(t, pf.Plain, append(m, "--force-8bit")...)
		if r.exit != 0 || strings.Contains(r.command("MAIL FROM:"), "BODY=") || !r.said("--force-8bit") {
			t.Fatalf("--force-8bit: MAIL %q\n%s", r.command("MAIL FROM:"), r)
		}
		sameBytes(t, pf.Delivered(t, interop.PostfixUser, "8bit-forced@smtpx.test"), dump(t, m), true)

		m = msg("built-8bit@smtpx.test", "--to", interop.PostfixUser, "--body", "Grüße aus Köln\n")
		r = send(t, pf.Plain, m...)
		if r.exit != 0 || strings.Contains(r.command("MAIL FROM:"), "BODY=") {
			t.Fatalf("a built message to a server without 8BITMIME: %s", r)
		}
		stored := pf.Delivered(t, interop.PostfixUser, "built-8bit@smtpx.test")
		if !strings.Contains(string(stored), "Content-Transfer-Encoding: quoted-printable") {
			t.Errorf("the built 8-bit text was not quoted-printable:\n%s", stored)
		}
		sameBytes(t, stored, dump(t, m), true)
	})

	// Item 4: a line over 998 octets goes as given, and is said.
	t.Run("long line", func(t *testing.T) {
		m := append([]string{"--to", interop.PostfixUser, "--data", writeFile(t, "long.eml", longLineData("long@smtpx.test"))}, from...)
		r := send(t, pf.Full, m...)
		if r.exit != 0 || r.json.LongLines != 1 || !r.said("1 line over 998 octets") {
			t.Fatalf("long_lines %d\n%s", r.json.LongLines, r)
		}
		sameBytes(t, pf.Delivered(t, interop.PostfixUser, "long@smtpx.test"), dump(t, m), true)
	})

	// Item 5: the worst class among the failures, whatever the order; each
	// recipient's status; the line that says who got it.
	t.Run("partial delivery", func(t *testing.T) {
		for i, tt := range []struct {
			to     []string
			exit   int
			status []string
		}{
			{[]string{interop.PostfixLater, interop.PostfixRefused, interop.PostfixUser}, 5, []string{"retry", "failed", "accepted"}},
			{[]string{interop.PostfixUser, interop.PostfixRefused, interop.PostfixLater}, 5, []string{"accepted", "failed", "retry"}},
			{[]string{interop.PostfixLater, interop.PostfixUser}, 4, []string{"retry", "accepted"}},
		} {
			id := fmt.Sprintf("partial-%d@smtpx.test", i)
			var m []string
			for _, to := range tt.to {
				m = append(m, "--to", to)
			}
			m = msg(id, m...)
			r := send(t, pf.Full, m...)
			var got []string
			for _, rc := range r.json.Recipients {
				got = append(got, rc.Status)
			}
			if r.exit != tt.exit || !slices.Equal(got, tt.status) {
				t.Fatalf("%v: exit %d, statuses %v; want %d %v\n%s", tt.to, r.exit, got, tt.exit, tt.status, r)
			}
			sameBytes(t, pf.Delivered(t, interop.PostfixUser, id), dump(t, m), true)
		}
		count("postfix")
		m := msg("partial-human@smtpx.test", "--to", interop.PostfixLater, "--to", interop.PostfixRefused, "--to", interop.PostfixUser)
		r := smtpx(t, nil, append([]string{"send", "--color=never", "--timeout", "20s", "--server", pf.Full}, m...)...)
		want := "=== partial delivery: 1 of 3 recipients got the message (bob@example.net); retry: later@example.net; failed: reject@example.net"
		if r.exit != 5 || !strings.Contains(r.stdout, want+"\n") {
			t.Fatalf("want the line %q\n%s", want, r)
		}
		pf.Delivered(t, interop.PostfixUser, "partial-human@smtpx.test")
	})

	// Item 6: greylisting (450 4.7.1) is worth a retry, not "not authorised".
	t.Run("greylisting hint", func(t *testing.T) {
		r := send(t, pf.Full, msg("grey@smtpx.test", "--to", interop.PostfixGrey)...)
		if r.exit != 4 || r.json.Enhanced != "4.7.1" || !strings.Contains(r.json.Hint, "greylisting") || strings.Contains(r.json.Hint, "not authorised") {
			t.Fatalf("hint %q\n%s", r.json.Hint, r)
		}
	})
}
