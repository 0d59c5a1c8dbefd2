package transport

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smtpx/smtpx/internal/exitcode"
)

// addr names one end of a connection that has no network address.
type addr struct{ net, name string }

func (a addr) Network() string { return a.net }
func (a addr) String() string  { return a.name }

// fileConn is a net.Conn over two files, one read and one written: a
// child's stdout and stdin, or this process's own stdin and stdout. Its
// deadlines are the files' own, which work where the files can be polled
// (pipes and sockets on Unix); elsewhere setting one fails and the session
// waits without a bound.
type fileConn struct {
	r, w          *os.File
	local, remote net.Addr
	closeOnce     sync.Once
	closed        atomic.Bool
	closeErr      error
	onClose       func() error // after both files are closed; may be nil
}

func (c *fileConn) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	return n, c.closedErr(err)
}

func (c *fileConn) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	return n, c.closedErr(err)
}

// closedErr reports any failure on a closed connection as net.ErrClosed,
// which is what users of a net.Conn (go-smtp's server among them) take
// for a quiet end; a closed file says it in several ways of its own.
func (c *fileConn) closedErr(err error) error {
	if err != nil && (c.closed.Load() || errors.Is(err, os.ErrClosed)) {
		return net.ErrClosed
	}
	return err
}
func (c *fileConn) LocalAddr() net.Addr  { return c.local }
func (c *fileConn) RemoteAddr() net.Addr { return c.remote }

func (c *fileConn) SetDeadline(t time.Time) error {
	return c.closedErr(errors.Join(c.r.SetReadDeadline(t), c.w.SetWriteDeadline(t)))
}
func (c *fileConn) SetReadDeadline(t time.Time) error {
	return c.closedErr(c.r.SetReadDeadline(t))
}
func (c *fileConn) SetWriteDeadline(t time.Time) error {
	return c.closedErr(c.w.SetWriteDeadline(t))
}

func (c *fileConn) Close() error {
	c.closed.Store(true)
	c.closeOnce.Do(func() {
		c.closeErr = c.close()
	})
	return c.closeErr
}

func (c *fileConn) close() error {
	werr := c.w.Close()
	if c.onClose != nil {
		// The child sees the end of its stdin first, and may exit by
		// itself, before its stdout is closed under it.
		if err := c.onClose(); err != nil {
			c.r.Close()
			return err
		}
	}
	rerr := c.r.Close()
	return errors.Join(werr, rerr)
}

// pipeProc is the child process behind a --pipe connection.
type pipeProc struct {
	cmd        *exec.Cmd
	done       chan struct{} // closed once the child was waited for
	waitErr    error
	stderrDone chan struct{}
	grace      time.Duration
	notes      *notes
}

// startPipe runs argv with its stdin and stdout as the connection and its
// stderr as notes. The child leads a process group of its own, which is
// killed when the connection closes, so nothing it started outlives the
// dialogue.
func startPipe(argv []string, line string, grace time.Duration, n *notes) (net.Conn, error) {
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, pipeErr(line, err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		closeAll(inR, inW)
		return nil, pipeErr(line, err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		closeAll(inR, inW, outR, outW)
		return nil, pipeErr(line, err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, errW
	ownGroup(cmd)
	err = cmd.Start()
	// The child has its own copies; ours would keep its stdin open and
	// hide the end of its stdout and stderr.
	closeAll(inR, outW, errW)
	if err != nil {
		closeAll(inW, outR, errR)
		return nil, pipeErr(line, err)
	}
	p := &pipeProc{cmd: cmd, done: make(chan struct{}), stderrDone: make(chan struct{}), grace: grace, notes: n}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	go p.readStderr(errR)
	n.add(fmt.Sprintf("process %d started", cmd.Process.Pid))
	return &fileConn{r: outR, w: inW, local: addr{Network, "smtpx"}, remote: addr{Network, line}, onClose: p.end}, nil
}

func closeAll(fs ...*os.File) {
	for _, f := range fs {
		f.Close()
	}
}

func pipeErr(line string, err error) error {
	return &exitcode.Error{Code: exitcode.Network, Err: err, Msg: fmt.Sprintf("cannot start --pipe %q: %v", line, err),
		Hint: "check that the command runs by itself, with its full path"}
}

// maxStderrLine bounds one line of the child's stderr; the rest of a
// longer line is dropped.
const maxStderrLine = 1024

func (p *pipeProc) readStderr(f *os.File) {
	defer close(p.stderrDone)
	defer f.Close()
	br := bufio.NewReaderSize(f, maxStderrLine)
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			s := string(trimEOL(line))
			if errors.Is(err, bufio.ErrBufferFull) {
				s += "..."
				for errors.Is(err, bufio.ErrBufferFull) {
					_, err = br.ReadSlice('\n')
				}
			}
			p.notes.add("stderr: " + s)
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return
		}
	}
}

func trimEOL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// end runs once the child's stdin is closed: the child gets the grace to
// exit, then its process group is killed whatever happened, and its exit
// is noted when it was not a clean one.
func (p *pipeProc) end() error {
	killed := false
	t := time.NewTimer(p.grace)
	defer t.Stop()
	select {
	case <-p.done:
	case <-t.C:
		killed = true
	}
	killGroup(p.cmd)
	// After SIGKILL the wait ends at once; the bound is for a child stuck
	// in the kernel, which must not hang smtpx.
	t.Reset(5 * time.Second)
	select {
	case <-p.done:
	case <-t.C:
	}
	t.Reset(time.Second)
	select {
	case <-p.stderrDone:
	case <-t.C:
	}
	var ee *exec.ExitError
	switch {
	case killed:
		p.notes.add(fmt.Sprintf("process %d did not exit within %s of the end of the dialogue: killed", p.cmd.Process.Pid, p.grace))
	case errors.As(p.waitErr, &ee):
		p.notes.add(fmt.Sprintf("process %d %s", p.cmd.Process.Pid, exitText(ee)))
	}
	return nil
}

func exitText(ee *exec.ExitError) string {
	if code := ee.ExitCode(); code >= 0 {
		return fmt.Sprintf("exited with status %d", code)
	}
	return "ended: " + ee.Error()
}

// Stdio makes a connection of this process's own stdin and stdout, for a
// server speaking to one client the way inetd or a --pipe parent hands it
// over. A socket (inetd) is used as such; a pipe is switched to
// non-blocking mode so that deadlines work, and restored when the
// connection closes. Streams that are not files give a connection without
// deadlines.
func Stdio(in io.Reader, out io.Writer) net.Conn {
	if u, ok := out.(interface{ Unwrap() io.Writer }); ok {
		out = u.Unwrap()
	}
	fin, okIn := in.(*os.File)
	fout, okOut := out.(*os.File)
	if okIn && okOut {
		if c, err := net.FileConn(fin); err == nil {
			return c
		}
		if c := pollableStdio(fin, fout); c != nil {
			return c
		}
	}
	return &streamConn{r: in, w: out}
}

// streamConn is a net.Conn over plain streams, without deadlines.
type streamConn struct {
	r io.Reader
	w io.Writer
}

var errNoDeadline = errors.New("deadlines are not supported on these streams")

func (c *streamConn) Read(b []byte) (int, error)       { return c.r.Read(b) }
func (c *streamConn) Write(b []byte) (int, error)      { return c.w.Write(b) }
func (c *streamConn) LocalAddr() net.Addr              { return addr{"stdio", "stdout"} }
func (c *streamConn) RemoteAddr() net.Addr             { return addr{"stdio", "stdin"} }
func (c *streamConn) SetDeadline(time.Time) error      { return errNoDeadline }
func (c *streamConn) SetReadDeadline(time.Time) error  { return errNoDeadline }
func (c *streamConn) SetWriteDeadline(time.Time) error { return errNoDeadline }

func (c *streamConn) Close() error {
	var errs []error
	for _, s := range []any{c.w, c.r} {
		if cl, ok := s.(io.Closer); ok {
			errs = append(errs, cl.Close())
		}
	}
	return errors.Join(errs...)
}
