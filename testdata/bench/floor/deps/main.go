// Command deps links every library smtpx links (cobra, pflag, fatih/color,
// go-isatty, go-sasl, xdg-go/scram, miekg/dns, go-smtp, go-toml,
// x/net/idna, x/term) and the standard packages the issue names
// (net/http, crypto/tls), runs their package initialisation, and does
// nothing else: the start-up floor of any program built on them.
// testdata/bench/compare.sh times it next to `smtpx codes 550 5.7.26`, so
// the ratio is smtpx's own start-up work.
package main

import (
	_ "crypto/tls"
	_ "net/http"
	"os"

	_ "github.com/emersion/go-sasl"
	_ "github.com/fatih/color"
	_ "github.com/mattn/go-isatty"
	_ "github.com/miekg/dns"
	_ "github.com/pelletier/go-toml/v2"
	_ "github.com/smtpx/smtpx/internal/third_party/go-smtp"
	_ "github.com/spf13/cobra"
	_ "github.com/spf13/pflag"
	_ "github.com/xdg-go/scram"
	_ "golang.org/x/net/idna"
	_ "golang.org/x/term"
)

func main() { os.Stdout.WriteString("deps\n") }
