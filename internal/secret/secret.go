// Package secret finds a password or token from the sources smtpx allows,
// in a fixed order, so that secrets need not appear in argv (where other
// users can read them) and never appear in output.
package secret

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// Sources are the places a secret may come from, in the order tried.
type Sources struct {
	Name    string // "password" or "OAuth token", for messages
	File    string // --password-file
	EnvVar  string // --password-env VAR
	Command string // password_command from a profile (run with sh -c)
	Argv    string // --password (discouraged)
	Default string // the environment variable read when nothing else is given, e.g. SMTPX_PASSWORD
	Getenv  func(string) string
	// Prompt asks on the terminal without echo; nil when there is no terminal.
	Prompt func(prompt string) (string, error)
	// Timeout bounds the command (and everything it starts); zero means
	// DefaultCommandTimeout.
	Timeout time.Duration
}

// DefaultCommandTimeout bounds a password command when no timeout is given.
const DefaultCommandTimeout = 30 * time.Second

// Secret is a found secret and where it came from (for --print-config).
type Secret struct {
	Value  string
	Origin string
	// Warning is set for sources that leak, such as argv.
	Warning string
}

// ErrNone means no source gave a secret and no prompt was possible.
var ErrNone = errors.New("no secret given")

// Find returns the secret from the first source that is set.
func (s Sources) Find() (Secret, error) {
	getenv := s.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	switch {
	case s.File != "":
		v, warn, err := readSecretFile(s.File, s.Name)
		if err != nil {
			return Secret{}, fmt.Errorf("cannot read the %s file: %v", s.Name, err)
		}
		return Secret{Value: v, Origin: "file " + s.File, Warning: warn}, nil
	case s.EnvVar != "":
		v, ok := lookup(getenv, s.EnvVar)
		if !ok {
			return Secret{}, fmt.Errorf("environment variable %s is not set or empty", s.EnvVar)
		}
		return Secret{Value: v, Origin: "environment " + s.EnvVar}, nil
	case s.Argv != "":
		return Secret{Value: s.Argv, Origin: "command line",
			Warning: fmt.Sprintf("a %s on the command line is visible to other users of this machine; prefer a file, an environment variable or the prompt", s.Name)}, nil
	case s.Command != "":
		out, err := commandOutput(s.Command, s.Timeout)
		if err != nil {
			return Secret{}, fmt.Errorf("%s command failed: %v", s.Name, err)
		}
		line, _, _ := strings.Cut(string(out), "\n")
		if len(line) > MaxLine {
			return Secret{}, fmt.Errorf("%s command failed: its first line is longer than %d KiB", s.Name, MaxLine>>10)
		}
		return Secret{Value: strings.TrimRight(line, "\r"), Origin: "command"}, nil
	}
	if s.Default != "" {
		if v, ok := lookup(getenv, s.Default); ok {
			return Secret{Value: v, Origin: "environment " + s.Default}, nil
		}
	}
	if s.Prompt != nil {
		v, err := s.Prompt(strings.ToUpper(s.Name[:1]) + s.Name[1:] + ": ")
		if err != nil {
			return Secret{}, err
		}
		return Secret{Value: v, Origin: "prompt"}, nil
	}
	return Secret{}, ErrNone
}

func lookup(getenv func(string) string, k string) (string, bool) {
	v := getenv(k)
	return v, v != ""
}

// Bounds on what is read looking for a secret, so that a wrong path
// (/dev/zero, a disk image) or a runaway command fails instead of
// exhausting memory. Real passwords and OAuth tokens are far shorter.
const (
	MaxLine          = 64 << 10 // the first line of a file or of a command's output
	maxCommandOutput = 1 << 20  // all of a command's output
)

// firstLine reads the first line of a file, without its line end; a
// password file conventionally ends with a newline that is not part of it.
// It reads at most MaxLine bytes and a line end.
func firstLine(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	r := bufio.NewReader(io.LimitReader(f, MaxLine+2))
	line, err := r.ReadString('\n')
	if err != nil && line == "" {
		if err == io.EOF {
			return "", errors.New("file is empty")
		}
		return "", err
	}
	full := strings.HasSuffix(line, "\n")
	line = strings.TrimRight(line, "\r\n")
	if !full && len(line) > MaxLine {
		return "", fmt.Errorf("its first line is longer than %d KiB: not a password or token file", MaxLine>>10)
	}
	return line, nil
}

// commandOutput runs command with sh -c and returns its standard output,
// at most maxCommandOutput bytes of it, within timeout: a command waiting
// for a pinentry or a hung keyring must not hold smtpx forever.
func commandOutput(command string, timeout time.Duration) ([]byte, error) {
	if timeout <= 0 {
		timeout = DefaultCommandTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", command)
	ownGroup(cmd)
	// After the kill, stop waiting for pipes a detached grandchild holds.
	cmd.WaitDelay = time.Second
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	out, rerr := io.ReadAll(io.LimitReader(pipe, maxCommandOutput+1))
	if len(out) > maxCommandOutput {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("it printed more than %d MiB", maxCommandOutput>>20)
	}
	if err := cmd.Wait(); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("it did not finish within %s (--timeout)", timeout)
		}
		return nil, err
	}
	return out, rerr
}

// readSecretFile reads a password or token file's first line, with a
// warning when others may read the file (as msmtp and OpenSSH warn).
func readSecretFile(path, name string) (value, warning string, err error) {
	if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() {
		if _, othersRead := Exposure(fi); othersRead {
			warning = fmt.Sprintf("the %s file %s can be read by other users; make it private: chmod 600 %s", name, path, path)
		}
	}
	value, err = firstLine(path)
	return value, warning, err
}

// ErrExposed reports a file that others can change while it tells smtpx
// what to run: whoever can write it can run commands as this user.
var ErrExposed = errors.New("file can be changed by other users")

// CheckCommandFile refuses a file that holds a command to run (a
// password_command, msmtp's passwordeval) when users other than its
// owner can change it, or when it belongs to another user.
func CheckCommandFile(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return nil // the reader reports a missing file
	}
	if othersWrite, _ := Exposure(fi); othersWrite {
		return fmt.Errorf("%s: %w", path, ErrExposed)
	}
	return nil
}
