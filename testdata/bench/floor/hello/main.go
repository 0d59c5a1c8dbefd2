// Command hello is the start-up floor of any Go program on this machine:
// the runtime alone. testdata/bench/compare.sh times it next to smtpx.
package main

import "os"

func main() { os.Stdout.WriteString("hello\n") }
