package message

import (
	"io"
	"strings"
)

// Content is the text of a body part (the plain text or the HTML): a
// literal string, a file read each time the message is opened, or standard
// input spooled to an unlinked temporary file. The zero Content means "not
// given". Content from a file or stdin is streamed, never held in memory.
type Content struct{ b *blob }

// Text returns literal content.
func Text(s string) Content { return Content{memBlob(s)} }

// File returns the content of the file at path. A regular file is checked
// now and read again whenever the message is opened; a pipe or device
// (such as bash's <(cmd)) is copied to a spool file first.
func File(path string) (Content, error) {
	b, err := fileBlob(path)
	if err != nil {
		return Content{}, &InputError{Index: -1, Msg: "cannot read the file", Err: err}
	}
	return Content{b}, nil
}

// Reader returns the content read from r, which is read to the end now.
// A regular *os.File (stdin redirected from a file) is read in place;
// anything else is spooled to an unlinked temporary file. label names the
// input in errors, e.g. "standard input".
func Reader(r io.Reader, label string) (Content, error) {
	b, err := readerBlob(r, label)
	if err != nil {
		return Content{}, &InputError{Index: -1, Msg: "cannot read " + label, Err: err}
	}
	return Content{b}, nil
}

// ReadArg resolves a TEXT|@FILE|- flag argument such as --body or --html:
// "-" (or "@-") reads stdin, "@FILE" names a file, anything else is the
// text itself. Text that must start with "@" can be given through a file.
func ReadArg(arg string, stdin io.Reader) (Content, error) {
	switch {
	case arg == "-" || arg == "@-":
		return Reader(stdin, "standard input")
	case strings.HasPrefix(arg, "@"):
		return File(arg[1:])
	}
	return Text(arg), nil
}

// IsZero reports whether c was not given.
func (c Content) IsZero() bool { return c.b == nil }

// Size is the length of the content as given, before any encoding.
func (c Content) Size() int64 {
	if c.b == nil {
		return 0
	}
	return c.b.n
}

// Close releases a spool file. Build takes ownership of the Body and HTML
// contents, so only Content that is never passed to Build needs closing.
func (c Content) Close() error { return c.b.close() }
