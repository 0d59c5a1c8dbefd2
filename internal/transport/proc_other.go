//go:build !unix

package transport

import (
	"os"
	"os/exec"
)

// ownGroup does nothing where there are no process groups.
func ownGroup(*exec.Cmd) {}

// killGroup kills the child itself.
func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = cmd.Process.Kill()
	}
}

// pollableStdio is not available: the streams are used without deadlines.
func pollableStdio(_, _ *os.File) *fileConn { return nil }
