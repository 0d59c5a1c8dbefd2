package main

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/rogpeppe/go-internal/testscript"

	smtp "github.com/smtpx/smtpx/internal/third_party/go-smtp"
)

// Commands for the sink scripts (testdata/script/sink_*.txtar):
//
//	waitfile FILE           wait until FILE exists (a sink's --ready-file)
//	readaddr FILE VAR       set $VAR to the first address in FILE
//	smtpsend [flags] ADDR   deliver one message with go-smtp's client and
//	                        print each step's reply: "RCPT <x> 550 5.1.1"
//	cmpstored DIR FILE      DIR holds exactly one file, N.eml, equal to FILE
//	                        with any bare LF line ends sent as CRLF
//	trickle EVERY ADDR      start a message, then send one byte of it EVERY
//	                        duration until the sink hangs up; print the
//	                        replies after the 354
//	smtpconns N ADDR        open N connections at once and print each
//	                        banner's reply code, in order of connection
//
// and for the README's quick start (quickstart.txtar), which binds no fixed
// port, so it neither collides with nor depends on anything else running:
//
//	quickstart FILE         write the README's first quick-start command,
//	                        as it stands there, to FILE
//	modcopy DIR             copy this module's sources to DIR, nothing built
//	gooffline               let the go command build from the module and
//	                        build caches only, never the network
func init() {
	scriptCmds["quickstart"] = cmdQuickstart
	scriptCmds["modcopy"] = cmdModCopy
	scriptCmds["gooffline"] = cmdGoOffline
	scriptCmds["waitfile"] = cmdWaitFile
	scriptCmds["readaddr"] = cmdReadAddr
	scriptCmds["smtpsend"] = cmdSMTPSend
	scriptCmds["cmpstored"] = cmdCmpStored
	scriptCmds["trickle"] = cmdTrickle
	scriptCmds["smtpconns"] = cmdSMTPConns
}

func cmdTrickle(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: trickle EVERY ADDR|ADDRFILE")
	}
	every, err := time.ParseDuration(args[0])
	ts.Check(err)
	addr := args[1]
	if _, err := os.Stat(ts.MkAbs(addr)); err == nil {
		addr = firstLine(ts, addr)
	}
	nc, err := net.Dial("tcp", addr)
	ts.Check(err)
	defer nc.Close()
	r := textproto.NewReader(bufio.NewReader(nc))
	_, err = io.WriteString(nc, "EHLO trickle.test\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nSubject: slow\r\n\r\n")
	ts.Check(err)
	for _, want := range []int{220, 250, 250, 250, 354} {
		if code, msg, err := r.ReadResponse(0); code != want {
			ts.Fatalf("reply %d %q %v, want %d", code, msg, err, want)
		}
	}
	began := time.Now()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			line, err := r.ReadLine()
			if err != nil {
				return
			}
			fmt.Fprintln(ts.Stdout(), line)
		}
	}()
	// Bounded, so a sink that never hangs up fails the script.
	for end := time.Now().Add(5 * time.Minute); time.Now().Before(end); {
		select {
		case <-done:
			ts.Logf("trickle: the sink hung up %s after the message began", time.Since(began).Round(10*time.Millisecond))
			return
		case <-time.After(every):
		}
		nc.Write([]byte("x"))
	}
	ts.Fatalf("the sink still reads after five minutes of trickling")
}

func cmdSMTPConns(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: smtpconns N ADDR|ADDRFILE")
	}
	n, err := strconv.Atoi(args[0])
	ts.Check(err)
	addr := args[1]
	if _, err := os.Stat(ts.MkAbs(addr)); err == nil {
		addr = firstLine(ts, addr)
	}
	for i := 0; i < n; i++ {
		nc, err := net.Dial("tcp", addr)
		ts.Check(err)
		defer nc.Close()
		// Read each banner before the next connection, so the order is
		// the sink's order of acceptance.
		code, msg, err := textproto.NewReader(bufio.NewReader(nc)).ReadResponse(0)
		if code == 0 {
			ts.Fatalf("connection %d: %v", i+1, err)
		}
		fmt.Fprintf(ts.Stdout(), "%d %s\n", code, strings.Fields(msg)[0])
	}
}

func cmdCmpStored(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: cmpstored DIR FILE")
	}
	entries, err := os.ReadDir(ts.MkAbs(args[0]))
	ts.Check(err)
	if len(entries) != 1 || !strings.HasSuffix(entries[0].Name(), ".eml") {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		ts.Fatalf("%s holds %q, want one .eml file", args[0], names)
	}
	got := ts.ReadFile(args[0] + "/" + entries[0].Name())
	// Bare LF becomes CRLF (txtar files have LF); CRLF stays.
	want := strings.ReplaceAll(strings.ReplaceAll(ts.ReadFile(args[1]), "\r\n", "\n"), "\n", "\r\n")
	if got != want {
		ts.Fatalf("stored message differs:\n got %q\nwant %q", got, want)
	}
}

func cmdWaitFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitfile FILE")
	}
	// Bounded so a sink that never starts fails the script instead of
	// hanging it; generous so a loaded machine does not matter.
	for end := time.Now().Add(60 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(ts.MkAbs(args[0])); err == nil {
			return
		}
	}
	ts.Fatalf("%s did not appear", args[0])
}

func firstLine(ts *testscript.TestScript, file string) string {
	f := strings.Fields(ts.ReadFile(file))
	if len(f) == 0 {
		ts.Fatalf("%s is empty", file)
	}
	return f[0]
}

func cmdReadAddr(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: readaddr FILE VAR")
	}
	ts.Setenv(args[1], firstLine(ts, args[0]))
}

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

func cmdSMTPSend(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("smtpsend prints replies; check them with stdout")
	}
	fs := flag.NewFlagSet("smtpsend", flag.ContinueOnError)
	from := fs.String("from", "a@example.org", "envelope sender")
	var to multi
	fs.Var(&to, "to", "recipient (repeatable)")
	data := fs.String("data", "", "message file (default: a small message)")
	starttls := fs.Bool("starttls", false, "use STARTTLS")
	implicit := fs.Bool("tls", false, "implicit TLS")
	cafile := fs.String("cafile", "", "trust this PEM certificate")
	auth := fs.String("auth", "", "AUTH PLAIN as USER:PASS")
	lmtp := fs.Bool("lmtp", false, "speak LMTP")
	retry := fs.Bool("retry", false, "after a 4xx RCPT, retry once in a new transaction")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		ts.Fatalf("usage: smtpsend [-from A] [-to B]... [-data FILE] [-starttls|-tls] [-cafile F] [-auth U:P] [-lmtp] [-retry] ADDR|ADDRFILE")
	}
	addr := fs.Arg(0)
	if _, err := os.Stat(ts.MkAbs(addr)); err == nil {
		addr = firstLine(ts, addr)
	}
	if len(to) == 0 {
		to = multi{"b@example.com"}
	}
	msg := "From: a@example.org\r\nTo: b@example.com\r\nSubject: smtpsend\r\n\r\nhello\r\n"
	if *data != "" {
		msg = ts.ReadFile(*data)
	}
	tc := &tls.Config{ServerName: "localhost"}
	if *cafile != "" {
		p := x509.NewCertPool()
		if !p.AppendCertsFromPEM([]byte(ts.ReadFile(*cafile))) {
			ts.Fatalf("no certificate in %s", *cafile)
		}
		tc.RootCAs = p
	}
	network, address := "tcp", addr
	if strings.HasPrefix(addr, "unix:") {
		network, address = "unix", strings.TrimPrefix(addr, "unix:")
	}
	nc, err := net.Dial(network, address)
	if err != nil {
		ts.Fatalf("dial %s: %v", addr, err)
	}
	if *implicit {
		nc = tls.Client(nc, tc)
	}
	var c *smtp.Client
	switch {
	case *lmtp:
		c = smtp.NewClientLMTP(nc)
	case *starttls:
		c, err = smtp.NewClientStartTLS(nc, tc)
		if err != nil {
			ts.Fatalf("STARTTLS: %v", err)
		}
	default:
		c = smtp.NewClient(nc)
	}
	defer c.Close()
	out := ts.Stdout()
	step := func(name string, err error) bool {
		var se *smtp.SMTPError
		switch {
		case err == nil:
			fmt.Fprintf(out, "%s ok\n", name)
			return true
		case errors.As(err, &se):
			fmt.Fprintf(out, "%s %d %d.%d.%d\n", name, se.Code, se.EnhancedCode[0], se.EnhancedCode[1], se.EnhancedCode[2])
			return false
		}
		ts.Fatalf("%s: %v", name, err)
		return false
	}
	if *auth != "" {
		u, p, _ := strings.Cut(*auth, ":")
		if !step("AUTH", c.Auth(sasl.NewPlainClient("", u, p))) {
			return
		}
	}
	for attempt := 0; attempt < 2; attempt++ {
		if !step("MAIL", c.Mail(*from, nil)) {
			return
		}
		ok := 0
		tempfail := false
		for _, r := range to {
			err := c.Rcpt(r, nil)
			var se *smtp.SMTPError
			tempfail = tempfail || errors.As(err, &se) && se.Code/100 == 4
			if step("RCPT <"+r+">", err) {
				ok++
			}
		}
		if tempfail && *retry && attempt == 0 {
			step("RSET", c.Reset())
			continue
		}
		if ok == 0 {
			step("RSET", c.Reset())
			break
		}
		w, err := c.Data()
		if !step("DATA", err) {
			break
		}
		if _, err := io.WriteString(w, msg); err != nil {
			ts.Fatalf("writing message: %v", err)
		}
		step("DATA end", w.Close())
		break
	}
	step("QUIT", c.Quit())
}

// cmdQuickstart writes the README's first quick-start command to a file:
// the lines of the quick start's first sh block from the first command to
// the first blank line. The second command must be the test command.
func cmdQuickstart(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: quickstart FILE")
	}
	b, err := os.ReadFile(ts.Getenv("README"))
	ts.Check(err)
	readme := string(b)
	_, block, ok := strings.Cut(readme, "<!-- BEGIN quickstart -->")
	block, _, ok2 := strings.Cut(block, "<!-- END quickstart -->")
	_, block, ok3 := strings.Cut(block, "```sh\n")
	block, _, ok4 := strings.Cut(block, "```")
	if !ok || !ok2 || !ok3 || !ok4 {
		ts.Fatalf("README.md has no sh block between its quickstart markers")
	}
	var cmds [][]string
	var cur []string
	for _, l := range strings.Split(block, "\n") {
		switch {
		case strings.TrimSpace(l) == "":
			if len(cur) > 0 {
				cmds = append(cmds, cur)
			}
			cur = nil
		case strings.HasPrefix(l, "#"):
		default:
			cur = append(cur, l)
		}
	}
	if len(cur) > 0 {
		cmds = append(cmds, cur)
	}
	if len(cmds) != 2 || strings.Join(cmds[1], "\n") != "go test ./..." {
		ts.Fatalf("the quick start is not two commands, the second go test ./...: %q", cmds)
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), []byte(strings.Join(cmds[0], "\n")+"\n"), 0o644))
}

// cmdModCopy copies what building this module needs (go.mod, go.sum, the
// non-test Go files and the files they embed) from the test's working
// directory to a directory, as a fresh clone has them: no binary, no ready
// file.
func cmdModCopy(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: modcopy DIR")
	}
	src, err := os.Getwd()
	ts.Check(err)
	dst := ts.MkAbs(args[0])
	err = filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		name := d.Name()
		if d.IsDir() {
			if rel != "." && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules" ||
				rel == "man" || rel == "completions" || rel == "docs" || rel == "dist") {
				return filepath.SkipDir
			}
			return nil
		}
		top := !strings.Contains(rel, string(filepath.Separator))
		if strings.HasSuffix(name, "_test.go") || top && rel != "go.mod" && rel != "go.sum" && !strings.HasSuffix(name, ".go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(dst, filepath.Dir(rel)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	ts.Check(err)
}

// cmdGoOffline points the go command at this machine's module and build
// caches (testscript gives scripts a bare environment) and forbids the
// network, so a build in a script needs nothing but what the test binary
// was built from.
func cmdGoOffline(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: gooffline")
	}
	vars := []string{"GOCACHE", "GOMODCACHE", "GOPATH", "GOFLAGS", "CGO_ENABLED"}
	out, err := exec.Command("go", append([]string{"env"}, vars...)...).Output()
	if err != nil {
		ts.Fatalf("go env: %v", err)
	}
	vals := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(vals) != len(vars) {
		ts.Fatalf("go env printed %q", out)
	}
	for i, v := range vars {
		ts.Setenv(v, vals[i])
	}
	ts.Setenv("GOPROXY", "off")
	ts.Setenv("GOSUMDB", "off")
	ts.Setenv("GOTOOLCHAIN", "local")
}
