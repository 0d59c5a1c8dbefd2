package secret

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestFindOrder(t *testing.T) {
	dir := t.TempDir()
	pf := filepath.Join(dir, "pw")
	os.WriteFile(pf, []byte("from-file\r\nsecond line\n"), 0o600)
	env := map[string]string{"MYPW": "from-env", "SMTPX_PASSWORD": "from-default"}
	getenv := func(k string) string { return env[k] }
	base := Sources{Name: "password", Default: "SMTPX_PASSWORD", Getenv: getenv}

	s := base
	s.File, s.EnvVar, s.Argv = pf, "MYPW", "argv"
	if got, _ := s.Find(); got.Value != "from-file" {
		t.Errorf("file first: %q", got.Value)
	}
	s = base
	s.EnvVar, s.Argv = "MYPW", "argv"
	if got, _ := s.Find(); got.Value != "from-env" {
		t.Errorf("env second: %q", got.Value)
	}
	s = base
	s.Argv = "argv"
	if got, _ := s.Find(); got.Value != "argv" || got.Warning == "" {
		t.Errorf("argv warns: %+v", got)
	}
	s = base
	s.Command = "printf 'from-cmd\\nignored'"
	if got, err := s.Find(); got.Value != "from-cmd" || err != nil {
		t.Errorf("command: %+v %v", got, err)
	}
	if got, _ := base.Find(); got.Value != "from-default" {
		t.Errorf("default env: %q", got.Value)
	}
	none := Sources{Name: "password", Getenv: func(string) string { return "" }}
	if _, err := none.Find(); !errors.Is(err, ErrNone) {
		t.Errorf("nothing: %v", err)
	}
	none.Prompt = func(string) (string, error) { return "typed", nil }
	if got, _ := none.Find(); got.Value != "typed" {
		t.Errorf("prompt: %q", got.Value)
	}
	bad := base
	bad.File = filepath.Join(dir, "missing")
	if _, err := bad.Find(); err == nil {
		t.Error("missing file: no error")
	}
	bad = base
	bad.EnvVar = "UNSET"
	if _, err := bad.Find(); err == nil {
		t.Error("unset env: no error")
	}
}
