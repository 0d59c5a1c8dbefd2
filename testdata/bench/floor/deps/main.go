// Command deps links the libraries the smtpx issues name (cobra, pflag,
// fatih/color, go-isatty, go-sasl, xdg-go/scram, miekg/dns, go-smtp) and
// crypto/tls, runs their package initialisation, and does nothing else:
// the start-up floor of any program built on them. testdata/bench/compare.sh
// times it next to smtpx.
package main

import (
	_ "crypto/tls"
	"os"

	_ "github.com/emersion/go-sasl"
	_ "github.com/fatih/color"
	_ "github.com/mattn/go-isatty"
	_ "github.com/miekg/dns"
	_ "github.com/smtpx/smtpx/internal/third_party/go-smtp"
	_ "github.com/spf13/cobra"
	_ "github.com/spf13/pflag"
	_ "github.com/xdg-go/scram"
)

func main() { os.Stdout.WriteString("deps\n") }
