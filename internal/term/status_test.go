package term

import (
	"bytes"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// lockedBuffer lets the drawing goroutine and the test share a buffer.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestStatusRedrawsAndClears(t *testing.T) {
	var out lockedBuffer
	var n atomic.Int64
	s := StartStatus(&out, time.Millisecond, func() string { return "done " + strings.Repeat("x", int(n.Add(1))%3) })
	for !strings.Contains(out.String(), "\rdone") {
		time.Sleep(time.Millisecond)
	}
	s.Stop()
	got := out.String()
	if !strings.HasSuffix(got, "\x1b[K\r\x1b[K") {
		t.Errorf("the line is not cleared at the end: %q", got)
	}
	// Every draw starts at the line's beginning and erases what a longer
	// previous text left behind.
	for _, d := range strings.Split(strings.TrimPrefix(got, "\r"), "\r") {
		if !strings.HasSuffix(d, "\x1b[K") {
			t.Errorf("draw %q does not erase to the end of the line", d)
		}
	}
	if n.Load() < 2 {
		t.Errorf("drawn %d times, want the periodic draws and a final one", n.Load())
	}
	var none *Status
	none.Stop() // no status line: nothing to stop
}
