package main

import (
	"flag"
	"strconv"
	"sync"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/smtpx/smtpx/internal/verify/verifytest"
)

// Test servers for the verify scripts.
func init() {
	// verifypeer VAR RULESFILE [-cert DIR] [-smtputf8]: a go-smtp server
	// answering RCPT TO per address (see internal/verify/verifytest); sets
	// VAR to 127.0.0.1:PORT and VAR_PORT to the port.
	scriptCmds["verifypeer"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if len(args) < 2 {
			ts.Fatalf("usage: verifypeer VAR RULESFILE [-cert DIR] [-smtputf8]")
		}
		fs := flag.NewFlagSet("verifypeer", flag.ContinueOnError)
		dir := fs.String("cert", "", "certificate directory")
		utf := fs.Bool("smtputf8", false, "offer SMTPUTF8")
		ts.Check(fs.Parse(args[2:]))
		rules, err := verifytest.ParseRules(ts.ReadFile(args[1]))
		ts.Check(err)
		o := verifytest.Options{Rules: rules, SMTPUTF8: *utf}
		if *dir != "" {
			o.TLS = loadCert(ts, *dir).ServerConfig()
		}
		srv, err := verifytest.Start(o)
		ts.Check(err)
		ts.Defer(srv.Close)
		key := peerKey{ts, args[0]}
		verifyPeers.Store(key, srv)
		ts.Defer(func() { verifyPeers.Delete(key) })
		ts.Setenv(args[0], srv.Addr())
		ts.Setenv(args[0]+"_PORT", strconv.Itoa(srv.Port()))
	}
	// verifysessions VAR N: the verifypeer VAR has served N sessions.
	scriptCmds["verifysessions"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if len(args) != 2 {
			ts.Fatalf("usage: verifysessions VAR N")
		}
		v, ok := verifyPeers.Load(peerKey{ts, args[0]})
		if !ok {
			ts.Fatalf("no verifypeer %s", args[0])
		}
		got := strconv.Itoa(v.(*verifytest.Server).Sessions())
		if (got == args[1]) == neg {
			ts.Fatalf("verifypeer %s served %s sessions, want %s", args[0], got, args[1])
		}
	}
	// dnszone VAR ZONEFILE: an in-process DNS server answering from the
	// zone file (see internal/dnstest); sets VAR to 127.0.0.1:PORT for
	// --dns-server.
}

type peerKey struct {
	ts  *testscript.TestScript
	env string
}

var verifyPeers sync.Map
