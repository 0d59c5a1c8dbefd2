package send

import (
	"context"
	"testing"
	"time"

	"github.com/smtpx/smtpx/internal/smtptest"
)

// With PIPELINING the client waits for exactly: the banner, EHLO, the
// MAIL/RCPT/DATA group, and the end of data (QUIT rides with the dot). With
// CHUNKING as well: banner, EHLO, one group. Without either: one wait per
// command.
func TestRoundTrips(t *testing.T) {
	peer, err := smtptest.StartPeer(smtptest.PeerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	for _, tt := range []struct {
		name            string
		pipeline, chunk bool
		want            int
	}{
		{"pipelining", true, false, 4},
		{"pipelining+chunking", true, true, 3},
		{"neither", false, false, 8}, // banner EHLO MAIL RCPT RCPT DATA dot QUIT
	} {
		// Each server flight is delayed, as a distant server's would be,
		// so a client that waits more often than it must is visibly slower.
		proxy := smtptest.StartProxy(t, peer.Addr(), func(p *smtptest.Proxy) { p.Delay = 20 * time.Millisecond })
		o := opts(proxy.Addr(), "b@test", "c@test")
		o.Pipeline, o.Chunking = tt.pipeline, tt.chunk
		tx := Deliver(context.Background(), o.Options, o.Rcpts)
		if tx.Err != nil {
			t.Fatalf("%s: %v", tt.name, tx.Err)
		}
		if got, _ := proxy.Stats(); got != tt.want {
			t.Errorf("%s: the client waited for %d server flights, want %d", tt.name, got, tt.want)
		}
	}
}
