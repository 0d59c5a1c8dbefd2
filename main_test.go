package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/smtpx/smtpx/cmd"
)

// scriptCmds are extra testscript commands (fake servers and the like);
// each *_script_test.go file adds its own in an init function.
var scriptCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){}

// scriptSetups run before each script, e.g. to start servers.
var scriptSetups []func(env *testscript.Env) error

func init() {
	// cmplf FILE1 FILE2: like cmp, after turning CRLF into LF in both, for
	// comparing wire-format messages with goldens kept in LF form.
	scriptCmds["cmplf"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if len(args) != 2 {
			ts.Fatalf("usage: cmplf FILE1 FILE2")
		}
		a := strings.ReplaceAll(ts.ReadFile(args[0]), "\r\n", "\n")
		b := strings.ReplaceAll(ts.ReadFile(args[1]), "\r\n", "\n")
		if (a == b) == neg {
			ts.Fatalf("%s and %s differ (after CRLF to LF):\n%s\n---\n%s", args[0], args[1], a, b)
		}
	}
	// status N: the last smtpx run exited with status N.
	scriptCmds["status"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if len(args) != 1 {
			ts.Fatalf("usage: status N")
		}
		got := strings.TrimSpace(ts.ReadFile(".status"))
		if (got == args[0]) == neg {
			ts.Fatalf("smtpx exit status %s, want %s%s", got, map[bool]string{true: "not ", false: ""}[neg], args[0])
		}
	}
}

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"smtpx": func() {
			code := cmd.Main(os.Args[1:], cmd.StdIO(), cmd.BuildInfo{Version: "test", Commit: "none", Date: "unknown"})
			if f := os.Getenv("SMTPX_TEST_STATUS"); f != "" {
				// Written under a temporary name and renamed, so a script
				// never reads a half-written file while a background
				// smtpx (a sink) exits at the same moment.
				tmp := f + "." + strconv.Itoa(os.Getpid())
				if os.WriteFile(tmp, []byte(strconv.Itoa(code)), 0o644) == nil {
					_ = os.Rename(tmp, f)
				}
			}
			os.Exit(code)
		},
	})
}

// TestScripts runs the CLI scripts in testdata/script: argv in, exact
// stdout, stderr and exit status out.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:  "testdata/script",
		Cmds: scriptCmds,
		Setup: func(env *testscript.Env) error {
			env.Setenv("NO_COLOR", "")
			env.Setenv("HOME", env.WorkDir)
			env.Setenv("SMTPX_TEST_STATUS", filepath.Join(env.WorkDir, ".status"))
			if readme, err := filepath.Abs("README.md"); err == nil {
				env.Setenv("README", readme)
			}
			for _, s := range scriptSetups {
				if err := s(env); err != nil {
					return err
				}
			}
			return nil
		},
	})
}
