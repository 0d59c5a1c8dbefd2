package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A wrong path (/dev/zero, a huge file) fails in bounded memory.
func TestConfigFileBounded(t *testing.T) {
	if _, err := Load("/dev/zero", ""); err == nil || !strings.Contains(err.Error(), "larger than 1 MiB") {
		t.Errorf("Load(/dev/zero): %v", err)
	}
	home := t.TempDir()
	if err := os.Symlink("/dev/zero", filepath.Join(home, ".msmtprc")); err != nil {
		t.Skip(err)
	}
	getenv := func(k string) string { return map[string]string{"HOME": home}[k] }
	if _, err := LoadMsmtp(getenv, "x"); err == nil || !strings.Contains(err.Error(), "larger than 1 MiB") {
		t.Errorf("LoadMsmtp(~/.msmtprc -> /dev/zero): %v", err)
	}
	if _, err := LoadMsmtp(func(string) string { return t.TempDir() }, "x"); err == nil || !strings.Contains(err.Error(), "no msmtp configuration") {
		t.Errorf("no msmtprc: %v", err)
	}
}
