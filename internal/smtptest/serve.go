package smtptest

import (
	"net"
	"sync"
	"testing"
)

// ServeConns listens on 127.0.0.1:0 and hands each connection to serve on a
// goroutine of its own, until the test ends: then it stops listening and
// waits for every serve to return (serve closes its connection).
func ServeConns(t testing.TB, serve func(net.Conn)) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { serve(c) })
		}
	})
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	return ln
}
