package smtptest

import (
	"bufio"
	"net"
	"testing"
)

func TestParse(t *testing.T) {
	steps, err := Parse("# c\nS: 220 x\nC: EHLO a\nC:\nC*\nC~ MAIL\nR: \"a\\r\\n\"\ndrip 1ms S: hi\nsleep 1ms\nrepeat 3 S: 250-x\ndata\ntls\nhang\nclose\n")
	if err != nil || len(steps) != 13 {
		t.Fatalf("%d steps, %v", len(steps), err)
	}
	for _, bad := range []string{"X: y", "R: unquoted", "drip x S: a", "repeat n S: a", "sleep forever", "drip 1ms C: x"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestServerRecordsAndChecks(t *testing.T) {
	s, err := Start("S: 220 x\nC: HELLO\nS: 250 ok\n")
	if err != nil {
		t.Fatal(err)
	}
	c, _ := net.Dial("tcp", s.Addr())
	r := bufio.NewReader(c)
	r.ReadString('\n')
	c.Write([]byte("WRONG\r\n"))
	if _, err := r.ReadString('\n'); err == nil {
		t.Error("the server answered after a mismatch")
	}
	c.Close()
	s.Close()
	if s.Received() != "WRONG\r\n" || len(s.Errors()) != 1 || s.Conns() != 1 {
		t.Errorf("received %q errors %v conns %d", s.Received(), s.Errors(), s.Conns())
	}
}
