package replycode

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

type got struct {
	Code     int
	Enhanced string
	Lines    []string
	Notes    int
}

func scanAll(t *testing.T, in string) []got {
	t.Helper()
	var out []got
	if err := Scan(strings.NewReader(in), func(r Reply) error {
		out = append(out, got{r.Code, r.Enhanced, r.Lines, len(r.Notes)})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestScan(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []got
	}{
		{"single line", "550 5.1.1 <bob@example.com>: User unknown\n",
			[]got{{550, "5.1.1", []string{"<bob@example.com>: User unknown"}, 0}}},
		{"no line end", "250 OK", []got{{250, "", []string{"OK"}, 0}}},
		{"bare code", "221", []got{{221, "", []string{""}, 0}}},
		{"multi-line CRLF", "250-mx.example.com\r\n250-PIPELINING\r\n250 SIZE 1000\r\n",
			[]got{{250, "", []string{"mx.example.com", "PIPELINING", "SIZE 1000"}, 0}}},
		{"enhanced on every line", "550-5.7.26 one\n550-5.7.26 two\n550 5.7.26 three\n",
			[]got{{550, "5.7.26", []string{"one", "two", "three"}, 0}}},
		{"empty final line (Postfix)", "250-a\n250 \n", []got{{250, "", []string{"a", ""}, 0}}},
		{"swaks transcript", "=== Trying 127.0.0.1:25...\n<-  220 mx ESMTP\n -> EHLO me\n<-  250-mx\n<-  250 8BITMIME\n -> MAIL FROM:<a@b>\n<** 550 5.7.1 no\n -> QUIT\n<-  221 bye\n",
			[]got{{220, "", []string{"mx ESMTP"}, 0}, {250, "", []string{"mx", "8BITMIME"}, 0}, {550, "5.7.1", []string{"no"}, 0}, {221, "", []string{"bye"}, 0}}},
		{"TLS markers", "<~  250 2.0.0 ok\n<~* 451 4.3.0 later\n",
			[]got{{250, "2.0.0", []string{"ok"}, 0}, {451, "4.3.0", []string{"later"}, 0}}},
		{"noise ignored", "hello\n2024-01-02 something\n404 not a reply? it is\n100 continue\n600 no\n",
			[]got{{404, "", []string{"not a reply? it is"}, 0}}},
		{"indented paste", "    550-5.7.1 a\n    550 5.7.1 b\n", []got{{550, "5.7.1", []string{"a", "b"}, 0}}},
		{"cut short", "550-5.7.26 only a first line\n", []got{{550, "5.7.26", []string{"only a first line"}, 1}}},
		{"code changes", "250-a\n550 b\n", []got{{250, "", []string{"a"}, 1}, {550, "", []string{"b"}, 0}}},
		{"interrupted by a command", "<-  250-a\n -> QUIT\n", []got{{250, "", []string{"a"}, 1}}},
		{"Postfix bounce", "<bob@gmail.com>: host gmail-smtp-in.l.google.com[192.0.2.1] said:\n    550-5.7.26 This mail is unauthenticated. 550-5.7.26 Gmail requires\n    SPF or DKIM. 550 5.7.26 see help - gsmtp (in reply to end of DATA command)\n",
			[]got{{550, "5.7.26", []string{"This mail is unauthenticated.", "Gmail requires SPF or DKIM.", "see help - gsmtp (in reply to end of DATA command)"}, 0}}},
		{"Postfix bounce inline", "<bob@gmail.com>: host mx[192.0.2.1] said: 550-5.7.26 This mail is\n    unauthenticated. 550-5.7.26 Gmail requires SPF or DKIM. 550 5.7.26 see help\n    - gsmtp (in reply to end of DATA command)\n\nnext paragraph\n",
			[]got{{550, "5.7.26", []string{"This mail is unauthenticated.", "Gmail requires SPF or DKIM.", "see help - gsmtp (in reply to end of DATA command)"}, 0}}},
		{"Exchange NDR", "Remote Server returned '550 5.4.1 [bob@example.com]: Recipient address rejected: Access denied'\n",
			[]got{{550, "5.4.1", []string{"[bob@example.com]: Recipient address rejected: Access denied"}, 0}}},
		{"embedded with matching class", "SMTP error from remote mail server after RCPT TO:<b@x>: 550 5.1.1 no such user\n",
			[]got{{550, "5.1.1", []string{"no such user"}, 0}}},
		{"embedded needs matching class", "error 550 2.0.0 nonsense and 250 ok\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if g := scanAll(t, tt.in); !reflect.DeepEqual(g, tt.want) {
				t.Errorf("got  %+v\nwant %+v", g, tt.want)
			}
		})
	}
}

func TestScanPostfixBounceOnNextLine(t *testing.T) {
	// The reply continues on indented lines that carry their own codes.
	in := "host mx said:\n    550-5.7.26 a\n    550 5.7.26 b\n"
	g := scanAll(t, in)
	want := []got{{550, "5.7.26", []string{"a", "b"}, 0}}
	if !reflect.DeepEqual(g, want) {
		t.Errorf("got %+v, want %+v", g, want)
	}
}

func TestScanBounds(t *testing.T) {
	long := "550 " + strings.Repeat("x", 100000) + "\n250 ok\n"
	g := scanAll(t, long)
	if len(g) != 2 || len(g[0].Lines[0]) > 4096 || g[1].Code != 250 {
		t.Fatalf("long line: %d replies, first line %d bytes", len(g), len(g[0].Lines[0]))
	}
	var b strings.Builder
	for i := 0; i < 5000; i++ {
		b.WriteString("250-x\n")
	}
	b.WriteString("250 end\n")
	g = scanAll(t, b.String())
	if len(g) != 1 || len(g[0].Lines) != 1001 || g[0].Notes != 1 {
		t.Fatalf("endless reply: %d replies, %d lines, %d notes", len(g), len(g[0].Lines), g[0].Notes)
	}
}

func TestScanStopsOnError(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	err := Scan(strings.NewReader("250 a\n250 b\n250 c\n"), func(Reply) error { n++; return stop })
	if err != stop || n != 1 {
		t.Fatalf("err %v after %d replies", err, n)
	}
}

func TestLookupForms(t *testing.T) {
	tests := []struct {
		args     []string
		code     int
		enhanced string
		text     string
		pattern  string
	}{
		{[]string{"550"}, 550, "", "", ""},
		{[]string{"5.7.1"}, 0, "5.7.1", "", ""},
		{[]string{"550", "5.7.26"}, 550, "5.7.26", "", ""},
		{[]string{"550 5.7.26"}, 550, "5.7.26", "", ""},
		{[]string{"5.7.26", "550"}, 550, "5.7.26", "", ""},
		{[]string{"5.01.1"}, 0, "5.1.1", "", ""},
		{[]string{"550", "5.1.1", "User", "unknown"}, 550, "5.1.1", "User unknown", ""},
		{[]string{"550-5.7.26 This mail has been blocked"}, 550, "5.7.26", "This mail has been blocked", ""},
		{[]string{"550-5.7.26 a\n550 5.7.26 b"}, 550, "5.7.26", "a\nb", ""},
		{[]string{"<** 554 5.7.1 rejected"}, 554, "5.7.1", "rejected", ""},
		{[]string{"5.1.1 user unknown"}, 0, "5.1.1", "user unknown", ""},
		{[]string{"5yz"}, 0, "", "", "5yz"},
		{[]string{"4XX"}, 0, "", "", "4yz"},
		{[]string{"x5z"}, 0, "", "", "x5z"},
		{[]string{"xyz"}, 0, "", "", "xyz"},
		{[]string{"1yz"}, 0, "", "", "1yz"},
		{[]string{"5.XXX.YYY"}, 0, "", "", "5.XXX.YYY"},
		{[]string{"x.7.x"}, 0, "", "", "X.7.YYY"},
		{[]string{"X.1.1"}, 0, "X.1.1", "", ""},
	}
	for _, tt := range tests {
		exps, err := Lookup(tt.args)
		if err != nil {
			t.Errorf("%q: %v", tt.args, err)
			continue
		}
		e := exps[0]
		p := ""
		if e.Pattern != nil {
			p = e.Pattern.Code
		}
		if len(exps) != 1 || e.Code != tt.code || e.Enhanced != tt.enhanced || e.Text != tt.text || p != tt.pattern {
			t.Errorf("%q: got %d %q %q %q (%d), want %d %q %q %q", tt.args, e.Code, e.Enhanced, e.Text, p, len(exps), tt.code, tt.enhanced, tt.text, tt.pattern)
		}
	}
}

func TestLookupErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		msg  string
	}{
		{[]string{"999"}, "999 is not an SMTP reply code"},
		{[]string{"099"}, "099 is not an SMTP reply code"},
		{[]string{"5500"}, "5500 is not an SMTP reply code"},
		{[]string{"150"}, "first digit of 1"},
		{[]string{"6.1.1"}, "6.1.1 is not an enhanced status code"},
		{[]string{"5.1"}, "5.1 is not an enhanced status code"},
		{[]string{"5.1000.1"}, "5.1000.1 is not an enhanced status code"},
		{[]string{"550", "6.1.1"}, "6.1.1 is not an enhanced status code"},
		{[]string{"5.1.1", "999"}, "999 is not an SMTP reply code"},
		{[]string{"hello"}, `no reply code in "hello"`},
		{[]string{"999-x y"}, "999 is not an SMTP reply code"},
		{[]string{""}, "nothing to explain"},
		{[]string{"X.9.YYY"}, "no reply code"},
		{[]string{"hello\nworld"}, "no SMTP reply found"},
	} {
		_, err := Lookup(tt.args)
		var ie *InputError
		if !errors.As(err, &ie) || !strings.Contains(ie.Msg, tt.msg) || ie.Hint == "" {
			t.Errorf("%q: got %v, want an input error with %q and a hint", tt.args, err, tt.msg)
		}
	}
}

func FuzzScan(f *testing.F) {
	for _, s := range []string{
		"250 ok", "550-5.7.26 a\n550 5.7.26 b\n", "<-  220 x\n -> EHLO\n<** 554 no\n",
		"said: 550-5.1.1 a 550 5.1.1 b\n    c\n", "returned '550 5.4.1 x'", "250-\n250 \n",
		"\x00\xff550 5.7.1", strings.Repeat("250-", 100),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		err := Scan(strings.NewReader(in), func(r Reply) error {
			// A second digit over 5 is read by class (RFC 5321 §4.2).
			if r.Code < 200 || r.Code > 599 {
				t.Fatalf("bad code %d from %q", r.Code, in)
			}
			if len(r.Lines) == 0 || len(r.Lines) > 1001 || len(r.Lines) != len(r.Raw) && len(r.Lines) != len(r.Raw)+1 {
				t.Fatalf("%d lines, %d raw from %q", len(r.Lines), len(r.Raw), in)
			}
			e := Explain(r)
			if e.Basic == nil || e.Basic.Name == "" || e.Action == "" {
				t.Fatalf("no explanation for %+v", r)
			}
			_ = Hint(r.Code, r.Enhanced, r.Text())
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

func FuzzLookup(f *testing.F) {
	for _, s := range []string{"550", "5.7.1", "550 5.7.26", "x5z", "X.1.1", "5.XXX.YYY", "hello", "550-5.7.1 a", "5.01.001"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		exps, err := Lookup(strings.Fields(in))
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) || ie.Hint == "" {
				t.Fatalf("%q: error without hint: %v", in, err)
			}
			return
		}
		for _, e := range exps {
			if e.Pattern == nil && e.Basic == nil && e.Status == nil {
				t.Fatalf("%q: empty explanation", in)
			}
			if e.ExitClass != 0 && e.ExitClass != 4 && e.ExitClass != 5 {
				t.Fatalf("%q: exit class %d", in, e.ExitClass)
			}
		}
	})
}

func ExampleHint() {
	fmt.Println(Hint(550, "5.1.1", "<bob@example.com>: Recipient address rejected: User unknown"))
	fmt.Println(Hint(421, "4.7.28", "Gmail has detected an unusual rate of email originating from your IP address. - gsmtp"))
	fmt.Println(Hint(250, "2.0.0", "ok") == "")
	// Output:
	// recipient mailbox does not exist: Check the address for typos
	// Gmail: unusual rate of (unsolicited) mail; Slow down, mail only people who asked for it, and watch spam rate and reputation in Gmail Postmaster Tools
	// true
}
