// Package term describes the streams a command talks to (stdin, stdout,
// stderr), whether each is a terminal, and the colour policy, so commands
// can be tested without a TTY.
package term

import (
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/mattn/go-isatty"
	xterm "golang.org/x/term"
)

// IO is the set of streams a command uses.
type IO struct {
	In       io.Reader
	Out      io.Writer
	Err      io.Writer
	InIsTTY  bool
	OutIsTTY bool
	ErrIsTTY bool
	// Getenv reads the environment; tests replace it.
	Getenv func(string) string
}

// System returns the process's own streams.
func System() *IO {
	return &IO{
		In: os.Stdin, Out: os.Stdout, Err: os.Stderr,
		InIsTTY:  isTTY(os.Stdin),
		OutIsTTY: isTTY(os.Stdout),
		ErrIsTTY: isTTY(os.Stderr),
		Getenv:   os.Getenv,
	}
}

func isTTY(f *os.File) bool {
	return isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
}

// Env reads an environment variable through Getenv.
func (s *IO) Env(k string) string {
	if s.Getenv == nil {
		return os.Getenv(k)
	}
	return s.Getenv(k)
}

// Color decides whether to colour a stream: mode is "auto", "always" or
// "never". In auto mode colour needs a terminal and no NO_COLOR;
// CLICOLOR_FORCE (non-zero) forces it on as "always" does.
func (s *IO) Color(mode string, tty bool) (bool, error) {
	switch mode {
	case "always":
		return true, nil
	case "never":
		return false, nil
	case "auto", "":
		if s.Env("NO_COLOR") != "" {
			return false, nil
		}
		if v := s.Env("CLICOLOR_FORCE"); v != "" && v != "0" {
			return true, nil
		}
		return tty && s.Env("TERM") != "dumb", nil
	}
	return false, fmt.Errorf("--color must be auto, always or never, not %q", mode)
}

// Width is the terminal width of Out, or 80 when it is not a terminal.
func (s *IO) Width() int {
	out := s.Out
	for {
		u, ok := out.(interface{ Unwrap() io.Writer })
		if !ok {
			break
		}
		out = u.Unwrap()
	}
	if f, ok := out.(*os.File); ok && s.OutIsTTY {
		if w, _, err := xterm.GetSize(int(f.Fd())); err == nil && w > 20 {
			return w
		}
	}
	if c, err := strconv.Atoi(s.Env("COLUMNS")); err == nil && c > 20 {
		return c
	}
	return 80
}
