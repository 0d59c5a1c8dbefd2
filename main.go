// Command smtpx is a command-line SMTP swiss-army tool: send test mail, list a
// server's extensions, probe its TLS, verify an address, explain reply codes.
package main

import (
	"os"

	"github.com/smtpx/smtpx/cmd"
)

// Set by the release build through -ldflags "-X main.version=...".
var (
	version = "dev"
	commit  = "none"
	date    = "unknown"
)

func main() {
	os.Exit(cmd.Main(os.Args[1:], cmd.StdIO(), cmd.BuildInfo{Version: version, Commit: commit, Date: date}))
}
