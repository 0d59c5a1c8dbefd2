package secret

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A wrong path or a runaway command fails in bounded memory instead of
// being read to its end.
func TestBoundedReads(t *testing.T) {
	dir := t.TempDir()
	long := filepath.Join(dir, "long")
	os.WriteFile(long, []byte(strings.Repeat("x", MaxLine+1)), 0o600)
	exact := filepath.Join(dir, "exact")
	os.WriteFile(exact, []byte(strings.Repeat("y", MaxLine)+"\r\nrest"), 0o600)
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, nil, 0o600)
	for _, tt := range []struct {
		src  Sources
		want string // error substring, or "=value"
	}{
		{Sources{Name: "password", File: "/dev/zero"}, "longer than 64 KiB"},
		{Sources{Name: "password", File: long}, "longer than 64 KiB"},
		{Sources{Name: "password", File: exact}, "=" + strings.Repeat("y", MaxLine)},
		{Sources{Name: "password", File: empty}, "file is empty"},
		{Sources{Name: "password", File: dir}, "is a directory"},
		{Sources{Name: "password", Command: "head -c 70000 /dev/zero"}, "longer than 64 KiB"},
		{Sources{Name: "password", Command: "yes"}, "printed more than 1 MiB"},
		{Sources{Name: "password", Command: "echo pw; exit 3"}, "exit status 3"},
		{Sources{Name: "password", Command: "printf 'pw\\r\\n'; head -c 100000 /dev/zero"}, "=pw"},
	} {
		got, err := tt.src.Find()
		switch {
		case strings.HasPrefix(tt.want, "="):
			if err != nil || got.Value != tt.want[1:] {
				t.Errorf("%+v: value %.20q, error %v", tt.src, got.Value, err)
			}
		case err == nil || !strings.Contains(err.Error(), tt.want):
			t.Errorf("%+v: error %v, want %q", tt.src, err, tt.want)
		}
	}
}
