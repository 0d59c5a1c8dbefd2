package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/smtpx/smtpx/internal/certs"
	"github.com/smtpx/smtpx/internal/dnstest"
	"github.com/smtpx/smtpx/internal/smtptest"
)

// Test servers for the CLI scripts. Each starts inside the test process on
// 127.0.0.1:0, stores its address in an environment variable the script
// names, and stops when the script ends.
func init() {
	// fakesmtp VAR SCRIPTFILE [CERTDIR]: a scripted server (see smtptest)
	// at VAR (VAR_PORT holds its port, for DNS-routed sends); with CERTDIR, the "tls" step uses CERTDIR/cert.pem and key.pem.
	scriptCmds["fakesmtp"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if len(args) < 2 {
			ts.Fatalf("usage: fakesmtp VAR SCRIPTFILE [CERTDIR]")
		}
		srv, err := smtptest.Start(ts.ReadFile(args[1]))
		ts.Check(err)
		if len(args) > 2 {
			srv.TLS = loadCert(ts, args[2]).ServerConfig()
		}
		ts.Setenv(args[0], srv.Addr())
		_, port, _ := net.SplitHostPort(srv.Addr())
		ts.Setenv(args[0]+"_PORT", port)
		ts.Defer(srv.Close)
		key := peerKey{ts, args[0]}
		fakeServers.Store(key, srv)
		ts.Defer(func() { fakeServers.Delete(key) })
	}
	// waitconns VAR N: wait (up to 30s) until the fakesmtp VAR has had N
	// connections, so that a background client is known to be connected.
	scriptCmds["waitconns"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if len(args) != 2 {
			ts.Fatalf("usage: waitconns VAR N")
		}
		v, ok := fakeServers.Load(peerKey{ts, args[0]})
		if !ok {
			ts.Fatalf("no fakesmtp %s", args[0])
		}
		n, err := strconv.Atoi(args[1])
		ts.Check(err)
		for deadline := time.Now().Add(30 * time.Second); v.(*smtptest.Server).Conns() < n; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				ts.Fatalf("fakesmtp %s: %d connections, want %d", args[0], v.(*smtptest.Server).Conns(), n)
			}
		}
	}
	// smtppeer VAR [-cert DIR] [-implicit] [-user u:p]: a go-smtp server.
	scriptCmds["smtppeer"] = func(ts *testscript.TestScript, neg bool, args []string) {
		fs := flag.NewFlagSet("smtppeer", flag.ContinueOnError)
		dir := fs.String("cert", "", "certificate directory")
		implicit := fs.Bool("implicit", false, "implicit TLS")
		user := fs.String("user", "", "user:password for AUTH")
		if len(args) < 1 {
			ts.Fatalf("usage: smtppeer VAR [flags]")
		}
		ts.Check(fs.Parse(args[1:]))
		o := smtptest.PeerOptions{Implicit: *implicit}
		if *dir != "" {
			o.TLS = loadCert(ts, *dir).ServerConfig()
		}
		if *user != "" {
			u, p, _ := strings.Cut(*user, ":")
			o.Users = map[string]string{u: p}
		}
		p, err := smtptest.StartPeer(o)
		ts.Check(err)
		ts.Setenv(args[0], p.Addr())
		ts.Defer(p.Close)
	}
	// gencert DIR [-expired] [HOST...]: a self-signed cert.pem and key.pem.
	scriptCmds["gencert"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if len(args) < 1 {
			ts.Fatalf("usage: gencert DIR [-expired] [HOST...]")
		}
		o := certs.Options{Hosts: []string{"127.0.0.1"}}
		hosts := args[1:]
		if len(hosts) > 0 && hosts[0] == "-expired" {
			o.NotBefore = time.Now().Add(-400 * 24 * time.Hour)
			o.NotAfter = time.Now().Add(-24 * time.Hour)
			hosts = hosts[1:]
		}
		if len(hosts) > 0 {
			o.Hosts = hosts
		}
		c, err := certs.SelfSigned(o)
		ts.Check(err)
		dir := ts.MkAbs(args[0])
		ts.Check(os.MkdirAll(dir, 0o755))
		_, _, err = c.WriteFiles(dir)
		ts.Check(err)
	}
	// dnsserver VAR ZONEFILE: an in-process DNS server (internal/dnstest)
	// answering from the zone-file text in ZONEFILE, with $VAR references
	// expanded; "!ad NAME [TYPE]" sets the AD bit on answers for NAME and
	// "!rcode NAME TYPE RCODE" answers with that rcode.
	scriptCmds["dnsserver"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if len(args) != 2 {
			ts.Fatalf("usage: dnsserver VAR ZONEFILE")
		}
		text := expandVars(ts, ts.ReadFile(args[1]))
		var zone []string
		type rule struct {
			name, qtype string
			b           dnstest.Behaviour
		}
		var rules []rule
		for _, l := range strings.Split(text, "\n") {
			f := strings.Fields(l)
			switch {
			case len(f) > 0 && f[0] == "!ad":
				r := rule{name: f[1], b: dnstest.Behaviour{AD: true}}
				if len(f) > 2 {
					r.qtype = f[2]
				}
				rules = append(rules, r)
			case len(f) > 0 && f[0] == "!rcode":
				if len(f) != 4 {
					ts.Fatalf("usage: !rcode NAME TYPE RCODE")
				}
				rules = append(rules, rule{name: f[1], qtype: f[2], b: dnstest.Behaviour{Rcode: f[3]}})
			default:
				zone = append(zone, l)
			}
		}
		tb := ts.Value(tbKey{}).(testing.TB)
		srv := dnstest.Start(tb, strings.Join(zone, "\n"))
		for _, r := range rules {
			srv.On(r.name, r.qtype, r.b)
		}
		ts.Setenv(args[0], srv.Addr())
	}
	// freeport VAR: a loopback address where nothing listens.
	scriptCmds["freeport"] = func(ts *testscript.TestScript, neg bool, args []string) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		ts.Check(err)
		addr := ln.Addr().String()
		ln.Close()
		ts.Setenv(args[0], addr)
	}
}

// fakeServers are the running fakesmtp servers, for waitconns.
var fakeServers sync.Map

// tbKey is where the setup leaves the script's testing.TB for commands
// that need one (dnstest.Start): its cleanups run when the script ends.
type tbKey struct{}

func init() {
	scriptSetups = append(scriptSetups, func(env *testscript.Env) error {
		tb, ok := env.T().(testing.TB)
		if !ok {
			return fmt.Errorf("testscript T is not a testing.TB")
		}
		env.Values[tbKey{}] = tb
		return nil
	})
}

func loadCert(ts *testscript.TestScript, dir string) *certs.Cert {
	dir = ts.MkAbs(dir)
	c, err := certs.Load(filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"))
	ts.Check(err)
	return c
}
