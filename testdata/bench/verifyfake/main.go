// Command verifyfake is the local fake MX of the bulk verify benchmark: it
// answers at once (internal/verify/verifytest.Instant), prints its address
// on stdout and serves until killed. RCPT TO a local part starting with
// "ok" is accepted, any other refused.
package main

import (
	"fmt"
	"os"
	"os/signal"

	"github.com/smtpx/smtpx/internal/verify/verifytest"
)

func main() {
	s, err := verifytest.StartInstant()
	if err != nil {
		fmt.Fprintln(os.Stderr, "verifyfake:", err)
		os.Exit(1)
	}
	fmt.Println(s.Addr())
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt)
	<-ch
	s.Close()
}
