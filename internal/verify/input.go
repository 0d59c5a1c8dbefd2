package verify

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/smtpx/smtpx/internal/exitcode"
)

// maxInputLine bounds one line of input; anything longer is no address
// (RFC 5321 allows 254 octets) and is reported as bad syntax.
const maxInputLine = 4096

// maxSkippedLine bounds how far a line is read past maxInputLine: an
// address list has no megabyte lines, and a wrong path (/dev/zero) must
// fail instead of being read forever.
const maxSkippedLine = 1 << 20

// Reader reads an address list, one address per line: blank lines and
// lines starting with # are skipped, a UTF-8 byte order mark is ignored,
// and each address keeps its line number.
type Reader struct {
	br  *bufio.Reader
	n   int
	eof bool
}

// NewReader reads the list from r.
func NewReader(r io.Reader) *Reader { return &Reader{br: bufio.NewReaderSize(r, 64*1024)} }

// Next returns the next address, or io.EOF after the last. Any other
// error is a usage error (exit 2) saying the list cannot be read.
func (r *Reader) Next() (Input, error) {
	for !r.eof {
		r.n++
		line, err := r.line()
		if err != nil && err != io.EOF {
			return Input{}, exitcode.Usagef("check the --file path", "cannot read the address list: %v", err)
		}
		r.eof = err == io.EOF
		if r.n == 1 {
			line = strings.TrimPrefix(line, "\uFEFF")
		}
		if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "#") {
			return Input{Line: r.n, Text: t}, nil
		}
	}
	return Input{}, io.EOF
}

// line reads a line of up to maxSkippedLine bytes, keeping at most
// maxInputLine of them.
func (r *Reader) line() (string, error) {
	var b []byte
	total := 0
	for {
		chunk, isPrefix, err := r.br.ReadLine()
		total += len(chunk)
		if total > maxSkippedLine {
			return "", fmt.Errorf("a line is longer than %d MiB: not an address list", maxSkippedLine>>20)
		}
		b = append(b, chunk[:min(len(chunk), maxInputLine-len(b))]...)
		if err != nil {
			if len(b) > 0 && err == io.EOF {
				return string(b), nil
			}
			return string(b), err
		}
		if !isPrefix {
			return string(b), nil
		}
	}
}

// ReadAll reads the whole list.
func (r *Reader) ReadAll() ([]Input, error) {
	var out []Input
	for {
		in, err := r.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, in)
	}
}

// OpenList opens the address list named by --file: "-" is stdin. The
// caller closes what it returns.
func OpenList(name string, stdin io.Reader) (io.ReadCloser, error) {
	if name == "-" {
		return io.NopCloser(stdin), nil
	}
	fh, err := os.Open(name)
	if err != nil {
		return nil, exitcode.Usagef("check the --file path", "cannot read the address list: %v", errors.Unwrap(err))
	}
	if st, err := fh.Stat(); err == nil && st.IsDir() {
		fh.Close()
		return nil, exitcode.Usagef("give --file a file with one address per line", "cannot read the address list: %s is a directory", name)
	}
	return fh, nil
}

// ArgInputs numbers addresses given as arguments from 1, as lines.
func ArgInputs(args []string) []Input {
	out := make([]Input, len(args))
	for i, a := range args {
		out[i] = Input{Line: i + 1, Text: a}
	}
	return out
}
