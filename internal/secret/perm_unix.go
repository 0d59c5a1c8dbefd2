//go:build unix

package secret

import (
	"os"
	"os/exec"
	"syscall"
)

// Exposure says whether users other than the file's owner can change or read
// it, and whether the owner is someone other than this user (or root), as
// OpenSSH and msmtp judge their files.
func Exposure(fi os.FileInfo) (othersWrite, othersRead bool) {
	perm := fi.Mode().Perm()
	othersWrite = perm&0o022 != 0
	othersRead = perm&0o044 != 0
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		if uid := uint32(os.Getuid()); st.Uid != uid && st.Uid != 0 {
			othersWrite = true
		}
	}
	return othersWrite, othersRead
}

// ownGroup starts the command in a process group of its own, so that a
// timeout kills whatever the shell started, not just the shell: a child
// still holding the output pipe would otherwise keep the read waiting.
func ownGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}
