//go:build unix

package secret

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A password command that hangs (a pinentry nobody answers) is bounded by
// the timeout, and so is everything it started: the background sleep
// holds the output pipe and would keep the read waiting forever.
func TestCommandTimeoutKillsTheGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	s := Sources{Name: "password", Command: "sleep 60 & echo $! > " + pidFile + "; wait", Timeout: 300 * time.Millisecond}
	_, err := s.Find()
	if err == nil || !strings.Contains(err.Error(), "did not finish within 300ms") {
		t.Fatalf("err = %v", err)
	}
	raw, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(raw)))
	// The group was killed: the child is gone (or a zombie about to be
	// reaped by init), never still sleeping.
	for i := 0; i < 100; i++ {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) || zombie(pid) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("the command's child %d still runs", pid)
}

func zombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	f := strings.Fields(string(b))
	return len(f) > 2 && f[2] == "Z"
}

func TestPasswordFileReadableByOthersWarns(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		mode os.FileMode
		warn bool
	}{{0o600, false}, {0o400, false}, {0o640, true}, {0o644, true}} {
		p := filepath.Join(dir, "pw"+tt.mode.String())
		os.WriteFile(p, []byte("pw\n"), 0o600)
		os.Chmod(p, tt.mode)
		got, err := Sources{Name: "password", File: p}.Find()
		if err != nil || got.Value != "pw" {
			t.Fatalf("%v: %q %v", tt.mode, got.Value, err)
		}
		if (got.Warning != "") != tt.warn || tt.warn && !strings.Contains(got.Warning, "chmod 600 "+p) {
			t.Errorf("%v: warning %q", tt.mode, got.Warning)
		}
	}
}

func TestCommandFileWritableByOthersRefused(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		mode    os.FileMode
		refused bool
	}{{0o600, false}, {0o644, false}, {0o664, true}, {0o646, true}, {0o666, true}} {
		p := filepath.Join(dir, "config"+tt.mode.String())
		os.WriteFile(p, nil, 0o600)
		os.Chmod(p, tt.mode)
		err := CheckCommandFile(p)
		if (err != nil) != tt.refused || err != nil && !errors.Is(err, ErrExposed) {
			t.Errorf("%v: %v", tt.mode, err)
		}
	}
}
