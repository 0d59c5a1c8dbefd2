package message

import "io"

// Source is a message ready to send: what the send verb needs for the
// MAIL parameters (SIZE=, BODY=8BITMIME, SMTPUTF8) and for DATA or BDAT.
// *Message and *Data implement it.
type Source interface {
	// Size is the exact number of bytes Open yields: the content with CRLF
	// line ends, before dot-stuffing. Use it for SIZE= and BDAT counts.
	Size() int64
	// EightBit reports whether any byte is >= 0x80 (BODY=8BITMIME).
	EightBit() bool
	// UTF8Headers reports non-ASCII in the header section (SMTPUTF8).
	UTF8Headers() bool
	// Open returns a fresh reader of the content with CRLF line ends and
	// no dot-stuffing. It can be called any number of times (load mode,
	// --dump-mail then send) and each reader gives the same bytes; if an
	// input file changed meanwhile, reading fails with ErrChanged rather
	// than yield other than Size bytes.
	Open() (io.ReadCloser, error)
	// Close releases spool files. The Source must not be opened after.
	Close() error
}

var (
	_ Source = (*Message)(nil)
	_ Source = (*Data)(nil)
)

// writeSource copies a fresh reader of s to w.
func writeSource(s Source, w io.Writer) (int64, error) {
	r, err := s.Open()
	if err != nil {
		return 0, err
	}
	defer r.Close()
	return io.CopyBuffer(w, r, make([]byte, chunkSize))
}
