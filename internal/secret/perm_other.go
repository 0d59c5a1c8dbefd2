//go:build !unix

package secret

import (
	"os"
	"os/exec"
)

// Exposure has no owner and mode bits to judge here (Windows keeps ACLs).
func Exposure(os.FileInfo) (othersWrite, othersRead bool) { return false, false }

// ownGroup leaves the default: the command's process is killed on timeout.
func ownGroup(*exec.Cmd) {}
