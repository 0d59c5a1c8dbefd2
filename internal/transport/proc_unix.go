//go:build unix

package transport

import (
	"os"
	"os/exec"
	"syscall"
)

// ownGroup makes the child lead a new process group, so that killGroup
// reaches whatever it starts (sendmail -bs forks, so do MTA test modes).
func ownGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// killGroup kills the child's process group. The child may be gone
// already; its group may not be.
func killGroup(cmd *exec.Cmd) {
	if cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	_ = cmd.Process.Kill()
}

// pollableStdio returns a connection over copies of in and out in
// non-blocking mode, which Go's poller serves, so deadlines work. The
// mode belongs to the open file, shared with whoever else holds it (a
// terminal, the parent's end of a pipe), so it is put back on Close.
// nil when the files cannot be copied.
func pollableStdio(in, out *os.File) *fileConn {
	rfd, err := syscall.Dup(int(in.Fd()))
	if err != nil {
		return nil
	}
	wfd, err := syscall.Dup(int(out.Fd()))
	if err != nil {
		syscall.Close(rfd)
		return nil
	}
	syscall.CloseOnExec(rfd)
	syscall.CloseOnExec(wfd)
	for _, fd := range []int{rfd, wfd} {
		_ = syscall.SetNonblock(fd, true)
	}
	c := &fileConn{r: os.NewFile(uintptr(rfd), "stdin"), w: os.NewFile(uintptr(wfd), "stdout"),
		local: addr{"stdio", "stdout"}, remote: addr{"stdio", "stdin"}}
	c.onClose = func() error {
		// in and out still hold the descriptions (fds 0 and 1).
		_ = syscall.SetNonblock(int(in.Fd()), false)
		_ = syscall.SetNonblock(int(out.Fd()), false)
		return nil
	}
	return c
}
