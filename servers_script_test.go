package main

import (
	"flag"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/smtpx/smtpx/internal/certs"
	"github.com/smtpx/smtpx/internal/smtptest"
)

// Test servers for the CLI scripts. Each starts inside the test process on
// 127.0.0.1:0, stores its address in an environment variable the script
// names, and stops when the script ends.
func init() {
	// fakesmtp VAR SCRIPTFILE [CERTDIR]: a scripted server (see smtptest);
	// with CERTDIR, the "tls" step uses CERTDIR/cert.pem and key.pem.
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
		ts.Defer(srv.Close)
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
		ts.Check(os.WriteFile(filepath.Join(dir, "cert.pem"), c.CertPEM, 0o644))
		ts.Check(os.WriteFile(filepath.Join(dir, "key.pem"), c.KeyPEM, 0o600))
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

func loadCert(ts *testscript.TestScript, dir string) *certs.Cert {
	dir = ts.MkAbs(dir)
	c, err := certs.Load(filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"))
	ts.Check(err)
	return c
}
