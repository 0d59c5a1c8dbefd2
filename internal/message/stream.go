package message

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"github.com/smtpx/smtpx/internal/eol"
	"io"
	"mime/quotedprintable"
	"os"
	"strings"
)

// Buffer sizes. Every reader in this package holds at most a few of these,
// far below the 1 MiB budget, so memory does not grow with the message.
const (
	chunkSize = 32 << 10
	// b64Chunk is a whole number of 57-byte groups: 57 input bytes are one
	// 76-character base64 line (RFC 2045 §6.8).
	b64Line  = 57
	b64Chunk = b64Line * 1024
)

// ErrChanged is returned (wrapped) while reading a message whose input
// changed after it was measured: sending it would contradict the SIZE= and
// BDAT counts already given, so reading stops instead.
var ErrChanged = errors.New("input changed since it was read")

// blob is a byte source that can be read from the start any number of
// times: a string, a regular file reopened by path, or an open file read
// by offset (a spool, or stdin redirected from a file).
type blob struct {
	mem   bool
	data  string
	path  string
	f     *os.File
	off   int64
	n     int64  // exact length, checked on every read
	owned bool   // f is our spool, closed by close
	tmp   string // spool name to remove at close, where unlink-while-open failed
	label string // for errors
}

func memBlob(s string) *blob { return &blob{mem: true, data: s, n: int64(len(s)), label: "text"} }

// fileBlob opens path once to check it. Regular files are read again by
// path on each open; anything else (a pipe such as bash's <(cmd), a
// device) can be read only once, so it is spooled.
func fileBlob(path string) (*blob, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, fmt.Errorf("%s is a directory", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st.Mode().IsRegular() {
		return &blob{path: path, n: st.Size(), label: path}, nil
	}
	return spool(f, path)
}

// readerBlob makes r re-readable. A regular file (stdin redirected from
// a file) is read in place by offset; anything else is spooled.
func readerBlob(r io.Reader, label string) (*blob, error) {
	if f, ok := r.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			if off, err := f.Seek(0, io.SeekCurrent); err == nil && off <= st.Size() {
				return &blob{f: f, off: off, n: st.Size() - off, label: label}, nil
			}
		}
	}
	return spool(r, label)
}

// MaxSpool bounds input that has to be spooled (a pipe, standard input, a
// device): far above any message a server accepts, and a wrong path such
// as /dev/zero fails instead of filling the disk. Regular files are
// measured, not spooled, and are not bounded here.
var MaxSpool int64 = 1 << 30

// spool copies r to a temporary file, removed at once where the system
// allows it so that nothing is left behind even if the process is killed.
func spool(r io.Reader, label string) (*blob, error) {
	f, err := os.CreateTemp("", "smtpx-spool-*")
	if err != nil {
		return nil, fmt.Errorf("cannot create a spool file for %s: %w", label, err)
	}
	b := &blob{f: f, owned: true, label: label}
	if os.Remove(f.Name()) != nil {
		b.tmp = f.Name()
	}
	// A plain struct hides any ReaderFrom/WriterTo so the copy goes through
	// this fixed buffer rather than an implementation's choice of size.
	n, err := io.CopyBuffer(struct{ io.Writer }{f}, io.LimitReader(r, MaxSpool+1), make([]byte, chunkSize))
	if err != nil {
		b.close()
		return nil, fmt.Errorf("cannot spool %s: %w", label, err)
	}
	if n > MaxSpool {
		b.close()
		return nil, fmt.Errorf("%s is larger than %d MiB", label, MaxSpool>>20)
	}
	b.n = n
	return b, nil
}

func (b *blob) close() error {
	if b == nil || !b.owned || b.f == nil {
		return nil
	}
	err := b.f.Close()
	b.f = nil
	if b.tmp != "" {
		os.Remove(b.tmp)
	}
	return err
}

// open returns a reader of exactly b.n bytes, or an error wrapping
// ErrChanged if the source turns out shorter or longer.
func (b *blob) open() (io.ReadCloser, error) {
	e := &exactReader{n: b.n, label: b.label}
	switch {
	case b.mem:
		e.r = strings.NewReader(b.data)
	case b.f != nil:
		// One byte more than expected, so growth is noticed.
		e.r = io.NewSectionReader(b.f, b.off, b.n+1)
	case b.path != "":
		f, err := os.Open(b.path)
		if err != nil {
			return nil, err
		}
		e.r, e.c = f, f
	default:
		return nil, fmt.Errorf("%s: already closed", b.label)
	}
	return e, nil
}

// exactReader passes on exactly n bytes from r and fails if r has fewer
// or more.
type exactReader struct {
	r     io.Reader
	c     io.Closer
	n     int64
	got   int64
	label string
	err   error
}

func (e *exactReader) Read(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	if left := e.n - e.got + 1; int64(len(p)) > left {
		p = p[:left]
	}
	k, err := e.r.Read(p)
	e.got += int64(k)
	if e.got > e.n {
		e.err = fmt.Errorf("%s: %w (it grew)", e.label, ErrChanged)
		return k - 1, e.err
	}
	if err == io.EOF && e.got < e.n {
		e.err = fmt.Errorf("%s: %w (it shrank)", e.label, ErrChanged)
		return k, e.err
	}
	return k, err
}

func (e *exactReader) Close() error {
	if e.c != nil {
		return e.c.Close()
	}
	return nil
}

// normalizer turns every line end (CRLF, bare LF, bare CR) into end, with
// the same rule as the session's DotWriter so sizes agree with the wire.
type normalizer struct{ cr bool }

func (z *normalizer) convert(dst, src []byte, end string) []byte {
	f := eol.NewFinder(src)
	for off := 0; off < len(src); {
		if z.cr {
			z.cr = false
			if src[off] == '\n' {
				off++
				continue
			}
		}
		i := f.Next(off)
		if i < 0 {
			return append(dst, src[off:]...)
		}
		dst = append(dst, src[off:i]...)
		dst = append(dst, end...)
		z.cr = src[i] == '\r'
		off = i + 1
	}
	return dst
}

// crlfReader yields src with CRLF line ends. With final set it also ends
// non-empty content that lacks a line end with CRLF, as DATA would.
type crlfReader struct {
	src   io.ReadCloser
	z     normalizer
	in    []byte
	out   []byte
	off   int
	final bool
	last  byte
	any   bool // some content was yielded (last is meaningful)
	done  bool
}

// bufSize is the read buffer for a source of n bytes: small content gets
// a small buffer, which matters when load mode opens a message many times.
func bufSize(n int64) int { return int(min(n+1, chunkSize)) }

func newCRLFReader(src io.ReadCloser, n int64, final bool) *crlfReader {
	size := bufSize(n)
	return &crlfReader{src: src, in: make([]byte, size), out: make([]byte, 0, 2*size+2), final: final}
}

func (r *crlfReader) Read(p []byte) (int, error) {
	for r.off == len(r.out) {
		if r.done {
			return 0, io.EOF
		}
		n, err := r.src.Read(r.in)
		r.out, r.off = r.z.convert(r.out[:0], r.in[:n], "\r\n"), 0
		if len(r.out) > 0 {
			r.last, r.any = r.out[len(r.out)-1], true
		}
		if err == io.EOF {
			r.done = true
			if r.final && r.any && r.last != '\n' {
				r.out = append(r.out, '\r', '\n')
			}
		} else if err != nil {
			return 0, err
		}
	}
	n := copy(p, r.out[r.off:])
	r.off += n
	return n, nil
}

func (r *crlfReader) Close() error { return r.src.Close() }

// qpReader yields src quoted-printable encoded (RFC 2045 §6.7) with CRLF
// line ends. Line ends are turned into LF before the encoder sees them:
// mime/quotedprintable forgets a pending CR when the next byte needs
// escaping, so "\r\xff\n" would lose a line break.
type qpReader struct {
	src  io.ReadCloser
	z    normalizer
	in   []byte
	lf   []byte
	out  bytes.Buffer
	w    *quotedprintable.Writer
	done bool
}

func newQPReader(src io.ReadCloser, n int64) *qpReader {
	r := &qpReader{src: src, in: make([]byte, bufSize(n))}
	r.w = quotedprintable.NewWriter(&r.out)
	return r
}

func (r *qpReader) Read(p []byte) (int, error) {
	for r.out.Len() == 0 && !r.done {
		n, err := r.src.Read(r.in)
		r.lf = r.z.convert(r.lf[:0], r.in[:n], "\n")
		r.w.Write(r.lf) // writes to a bytes.Buffer cannot fail
		if err == io.EOF {
			r.w.Close()
			r.done = true
		} else if err != nil {
			return 0, err
		}
	}
	return r.out.Read(p)
}

func (r *qpReader) Close() error { return r.src.Close() }

// b64Reader yields src in base64 with 76-character lines separated by
// CRLF, without a CRLF after the last line (the boundary supplies it).
type b64Reader struct {
	src     io.ReadCloser
	in      []byte
	out     []byte
	off     int
	started bool
	done    bool
}

func newB64Reader(src io.ReadCloser, n int64) *b64Reader {
	lines := max(1, min((n+b64Line-1)/b64Line, b64Chunk/b64Line))
	return &b64Reader{src: src, in: make([]byte, lines*b64Line), out: make([]byte, 0, lines*78)}
}

func (r *b64Reader) Read(p []byte) (int, error) {
	for r.off == len(r.out) {
		if r.done {
			return 0, io.EOF
		}
		n, err := io.ReadFull(r.src, r.in)
		r.out, r.off = r.out[:0], 0
		for in := r.in[:n]; len(in) > 0; {
			k := min(len(in), b64Line)
			if r.started {
				r.out = append(r.out, '\r', '\n')
			}
			r.out = base64.StdEncoding.AppendEncode(r.out, in[:k])
			r.started = true
			in = in[k:]
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			r.done = true
		} else if err != nil {
			return 0, err
		}
	}
	n := copy(p, r.out[r.off:])
	r.off += n
	return n, nil
}

func (r *b64Reader) Close() error { return r.src.Close() }

// b64Size is the length b64Reader yields for n input bytes.
func b64Size(n int64) int64 {
	if n == 0 {
		return 0
	}
	lines := (n + b64Line - 1) / b64Line
	return (n+2)/3*4 + 2*(lines-1)
}

// segment is a piece of a built message: literal bytes (headers,
// boundaries) or encoded content opened on demand.
type segment struct {
	n    int64
	lit  []byte
	open func() (io.ReadCloser, error)
	name string // for errors
}

// segReader concatenates segments, opening each only when reached so at
// most one file is open, and checks each yields exactly its size.
type segReader struct {
	segs []segment
	i    int
	cur  io.ReadCloser
	got  int64
	lit  bytes.Reader
	err  error
}

func (r *segReader) Read(p []byte) (int, error) {
	for r.err == nil {
		if r.i >= len(r.segs) {
			return 0, io.EOF
		}
		s := &r.segs[r.i]
		if s.open == nil {
			if r.got == 0 {
				r.lit.Reset(s.lit)
			}
			n, _ := r.lit.Read(p)
			r.got += int64(n)
			if r.lit.Len() == 0 {
				r.i, r.got = r.i+1, 0
			}
			if n > 0 || len(p) == 0 {
				return n, nil
			}
			continue
		}
		if r.cur == nil {
			c, err := s.open()
			if err != nil {
				r.err = fmt.Errorf("%s: %w", s.name, err)
				break
			}
			r.cur = c
		}
		n, err := r.cur.Read(p)
		r.got += int64(n)
		if r.got > s.n {
			r.err = fmt.Errorf("%s: %w (encoded size grew)", s.name, ErrChanged)
			return 0, r.err
		}
		if err == io.EOF {
			r.cur.Close()
			r.cur = nil
			if r.got != s.n {
				r.err = fmt.Errorf("%s: %w (encoded size shrank)", s.name, ErrChanged)
				return n, r.err
			}
			r.i, r.got = r.i+1, 0
			err = nil
		} else if err != nil {
			r.err = err
		}
		if n > 0 || err != nil || len(p) == 0 {
			return n, err
		}
	}
	return 0, r.err
}

func (r *segReader) Close() error {
	if r.cur != nil {
		err := r.cur.Close()
		r.cur = nil
		return err
	}
	return nil
}
