package term

import (
	"io"
	"sync"
	"time"
)

// Status redraws one line on a terminal (normally stderr) while long work
// goes on: the line is rewritten in place every interval and cleared by
// Stop, so the output that follows starts on a clean line. It is a few
// lines of code rather than a progress-bar library because every package
// linked into smtpx costs start-up time on every run, including the runs
// that never draw a bar.
type Status struct {
	w    io.Writer
	line func() string
	done chan struct{}
	wg   sync.WaitGroup
}

// StartStatus draws line() on w every interval until Stop.
func StartStatus(w io.Writer, interval time.Duration, line func() string) *Status {
	s := &Status{w: w, line: line, done: make(chan struct{})}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-s.done:
				return
			case <-t.C:
				s.draw()
			}
		}
	}()
	return s
}

// draw rewrites the line: carriage return, the text, erase to the end of
// the line (so a shorter text leaves no tail of the previous one).
func (s *Status) draw() {
	_, _ = io.WriteString(s.w, "\r"+s.line()+"\x1b[K")
}

// Stop draws the final state once, then clears the line. It is safe to
// call on a nil Status, which stands for "no status line".
func (s *Status) Stop() {
	if s == nil {
		return
	}
	close(s.done)
	s.wg.Wait()
	s.draw()
	_, _ = io.WriteString(s.w, "\r\x1b[K")
}
