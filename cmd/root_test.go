package cmd

import (
	"strings"
	"testing"
)

// Main builds only the verb a command line names; that shortcut must find
// every verb by the name cobra would match.
func TestRegisteredNamesMatchCommands(t *testing.T) {
	env := &Env{IO: StdIO(), G: &Globals{}}
	seen := map[string]bool{}
	for _, v := range verbs {
		if got := v.new(env).Name(); got != v.name {
			t.Errorf("registered as %q, the command is named %q", v.name, got)
		}
		if seen[v.name] {
			t.Errorf("%q registered twice", v.name)
		}
		seen[v.name] = true
	}
	if len(verbs) < 7 {
		t.Errorf("only %d verbs registered", len(verbs))
	}
}

// A verb's help is the same whether the tree was built whole or for it alone.
func TestLazyTreeSameHelp(t *testing.T) {
	for _, v := range verbs {
		lazy, _, code := run(t, "", nil, v.name, "--help")
		if code != 0 {
			t.Fatalf("%s --help: exit %d", v.name, code)
		}
		full, _, code := run(t, "", nil, "help", v.name)
		if code != 0 {
			t.Fatalf("help %s: exit %d", v.name, code)
		}
		if lazy != full || !strings.Contains(lazy, "smtpx "+v.name) {
			t.Errorf("%s: help differs between the lazy and the whole tree:\n%s\n---\n%s", v.name, lazy, full)
		}
	}
	if invokedVerb([]string{"help", "codes"}) != "" || invokedVerb([]string{"--json", "codes"}) != "" || invokedVerb(nil) != "" {
		t.Error("only a leading verb name selects the lazy tree")
	}
}
