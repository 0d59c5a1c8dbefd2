package main

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"flag"
	"fmt"
	"go/build"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// Test servers for the probe scripts: an in-process DNS server, an HTTPS
// MTA-STS policy server, and the interop peers mailpit and smtp-sink.
// Scripts named probe_interop_mailpit* and probe_interop_smtpsink* are
// skipped when their peer is not installed, unless SMTPX_INTEROP=1 (then
// they fail), as DESIGN §7 asks.

func init() {
	scriptSetups = append(scriptSetups, func(env *testscript.Env) error {
		tb, ok := env.T().(testing.TB)
		if !ok {
			return fmt.Errorf("testscript T is not a testing.TB")
		}
		name := tb.Name()
		for prefix, peer := range map[string]func() string{
			"probe_interop_mailpit":  mailpitPath,
			"probe_interop_smtpsink": smtpSinkPath,
		} {
			if !strings.Contains(name, prefix) || peer() != "" {
				continue
			}
			if os.Getenv("SMTPX_INTEROP") == "1" {
				tb.Fatalf("%s is not installed and SMTPX_INTEROP=1", strings.TrimPrefix(prefix, "probe_interop_"))
			}
			tb.Skipf("%s is not installed (set SMTPX_INTEROP=1 to make this a failure)", strings.TrimPrefix(prefix, "probe_interop_"))
		}
		return nil
	})

	// probedns VAR ZONEFILE: serve the zone on 127.0.0.1 and set VAR to
	// its address. ${NAME} in the zone is replaced by the script's
	// variable NAME. Lines "!ad NAME [TYPE]" set the AD bit on answers
	// for NAME, "!rcode NAME TYPE RCODE" answer with RCODE.

	// mtastsserver VAR CERTDIR POLICYFILE [-ctype TYPE] [-status CODE]: an HTTPS
	// server on 127.0.0.1 presenting CERTDIR/cert.pem and serving
	// POLICYFILE at /.well-known/mta-sts.txt; VAR is set to its port.
	scriptCmds["mtastsserver"] = func(ts *testscript.TestScript, neg bool, args []string) {
		fs := flag.NewFlagSet("mtasts", flag.ContinueOnError)
		ctype := fs.String("ctype", "text/plain", "Content-Type")
		status := fs.Int("status", 200, "HTTP status")
		if len(args) < 3 {
			ts.Fatalf("usage: mtastsserver VAR CERTDIR POLICYFILE [-ctype TYPE] [-status CODE]")
		}
		ts.Check(fs.Parse(args[3:]))
		cert := loadCert(ts, args[1])
		body := ts.ReadFile(args[2])
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/.well-known/mta-sts.txt" {
				http.NotFound(w, r)
				return
			}
			if *status >= 300 && *status < 400 {
				http.Redirect(w, r, "https://elsewhere.example/", *status)
				return
			}
			w.Header().Set("Content-Type", *ctype)
			w.WriteHeader(*status)
			_, _ = io.WriteString(w, body)
		}))
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert.TLS}}
		srv.Config.ErrorLog = log.New(io.Discard, "", 0)
		srv.StartTLS()
		ts.Defer(srv.Close)
		_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
		ts.Setenv(args[0], port)
	}

	// tlsarecord VAR CERTDIR: VAR is set to a DANE-EE TLSA record for
	// CERTDIR/cert.pem, "3 1 1 <sha256 of the public key>".
	scriptCmds["tlsarecord"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if len(args) != 2 {
			ts.Fatalf("usage: tlsarecord VAR CERTDIR")
		}
		c := loadCert(ts, args[1])
		h := sha256.Sum256(c.X509.RawSubjectPublicKeyInfo)
		ts.Setenv(args[0], "3 1 1 "+hex.EncodeToString(h[:]))
	}

	// probemailpit VAR CERTDIR: run mailpit with CERTDIR's certificate for
	// STARTTLS on a loopback port; VAR is set to its SMTP address.
	scriptCmds["probemailpit"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if len(args) != 2 {
			ts.Fatalf("usage: probemailpit VAR CERTDIR")
		}
		bin := mailpitPath()
		if bin == "" {
			ts.Fatalf("mailpit is not installed")
		}
		dir := ts.MkAbs(args[1])
		smtp, web, pop := freeAddr(ts), freeAddr(ts), freeAddr(ts)
		cmd := exec.Command(bin,
			"--smtp", smtp, "--listen", web, "--pop3", pop,
			"--smtp-tls-cert", filepath.Join(dir, "cert.pem"), "--smtp-tls-key", filepath.Join(dir, "key.pem"),
			"--database", ts.MkAbs("mailpit.db"),
			"--disable-version-check", "--smtp-disable-rdns", "--quiet")
		startPeerProcess(ts, cmd, smtp)
		ts.Setenv(args[0], smtp)
	}

	// probesink VAR: run Postfix smtp-sink on a loopback port; VAR is set to
	// its address.
	scriptCmds["probesink"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if len(args) != 1 {
			ts.Fatalf("usage: probesink VAR")
		}
		bin := smtpSinkPath()
		if bin == "" {
			ts.Fatalf("smtp-sink is not installed")
		}
		addr := freeAddr(ts)
		var a []string
		if os.Geteuid() == 0 {
			a = append(a, "-u", "nobody")
		}
		a = append(a, addr, "100")
		startPeerProcess(ts, exec.Command(bin, a...), addr)
		ts.Setenv(args[0], addr)
	}
}

var varRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// expandVars replaces ${NAME} (only the braced form, so zone files keep
// their $ORIGIN) with the script's variables.
func expandVars(ts *testscript.TestScript, s string) string {
	return varRef.ReplaceAllStringFunc(s, func(m string) string {
		return ts.Getenv(varRef.FindStringSubmatch(m)[1])
	})
}

func freeAddr(ts *testscript.TestScript) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// startPeerProcess starts cmd, waits until addr accepts connections, and
// stops the process (by its own pid) when the script ends.
func startPeerProcess(ts *testscript.TestScript, cmd *exec.Cmd, addr string) {
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	ts.Check(cmd.Start())
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	ts.Defer(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-done:
			ts.Fatalf("%s exited before listening: %s", filepath.Base(cmd.Path), out.String())
		default:
		}
		if time.Now().After(deadline) {
			ts.Fatalf("%s is not listening on %s: %s", filepath.Base(cmd.Path), addr, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// mailpitPath finds mailpit on PATH or in GOPATH/bin, where go install
// puts it.
func mailpitPath() string {
	if p, err := exec.LookPath("mailpit"); err == nil {
		return p
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		gopath = build.Default.GOPATH
	}
	for _, dir := range filepath.SplitList(gopath) {
		p := filepath.Join(dir, "bin", "mailpit")
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	return ""
}

// smtpSinkPath finds Postfix's smtp-sink, usually outside PATH in /usr/sbin.
func smtpSinkPath() string {
	if p, err := exec.LookPath("smtp-sink"); err == nil {
		return p
	}
	for _, p := range []string{"/usr/sbin/smtp-sink", "/usr/local/sbin/smtp-sink"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}
