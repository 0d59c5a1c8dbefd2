package exitcode

import (
	"context"
	"fmt"
	"testing"

	"github.com/smtpx/smtpx/internal/route"
	"github.com/smtpx/smtpx/internal/session"
)

func TestForEveryRow(t *testing.T) {
	reply := func(code int) *session.Reply { return &session.Reply{Code: code, Lines: []string{"x"}} }
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"success", nil, OK},
		{"check failed", &Error{Code: Check, Msg: "missing CHUNKING"}, Check},
		{"usage", Usagef("hint", "bad flag"), Usage},
		{"CR/LF in a command", &session.Error{Kind: session.KindUsage}, Usage},
		{"connect refused", &session.Error{Kind: session.KindNetwork, Op: "connect"}, Network},
		{"deadline", fmt.Errorf("wrapped: %w", context.DeadlineExceeded), Network},
		{"DNS temporary", &route.Error{Kind: route.KindTemporary}, Network},
		{"4xx reply", session.ReplyError("RCPT", reply(450)), Transient},
		{"421 banner", session.ReplyError("banner", reply(421)), Transient},
		{"5xx reply", session.ReplyError("RCPT", reply(550)), Permanent},
		{"NXDOMAIN", &route.Error{Kind: route.KindNXDomain}, Permanent},
		{"null MX", &route.Error{Kind: route.KindNullMX}, Permanent},
		{"bad domain", &route.Error{Kind: route.KindInvalid}, Usage},
		{"TLS", &session.Error{Kind: session.KindTLS}, TLS},
		{"protocol", &session.Error{Kind: session.KindProtocol}, Protocol},
		{"silent", Silent(4), Transient},
		{"wrapped session error", fmt.Errorf("ctx: %w", &session.Error{Kind: session.KindProtocol}), Protocol},
	}
	for _, tt := range tests {
		if got := For(tt.err); got != tt.want {
			t.Errorf("%s: For = %d, want %d", tt.name, got, tt.want)
		}
	}
	// Every documented row is produced by at least one case above.
	seen := map[int]bool{}
	for _, tt := range tests {
		seen[For(tt.err)] = true
	}
	for _, row := range Table {
		if !seen[row.Code] {
			t.Errorf("row %d is never produced", row.Code)
		}
	}
}

func TestFromReply(t *testing.T) {
	for code, want := range map[int]int{220: OK, 250: OK, 354: OK, 421: Transient, 452: Transient, 550: Permanent, 554: Permanent, 99: Protocol, 600: Protocol} {
		if got := FromReply(code); got != want {
			t.Errorf("FromReply(%d) = %d, want %d", code, got, want)
		}
	}
}

// A run ended by Ctrl-C exits as the shell reports an interrupt.
func TestInterrupted(t *testing.T) {
	err := &session.Error{Kind: session.KindNetwork, Op: "banner", Msg: "interrupted", Cause: session.ErrInterrupted}
	if got := For(err); got != Interrupted || Interrupted != 130 {
		t.Errorf("For(interrupted) = %d", got)
	}
}
