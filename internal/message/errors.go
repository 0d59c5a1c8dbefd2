package message

import (
	"fmt"
	"strconv"
	"strings"
)

// InputError reports a bad option or input file. Nothing has been sent when
// one is returned, so the caller maps it to the usage exit status (2).
type InputError struct {
	// Field names the Options field (or "Data" for --data input), e.g.
	// "From", "To", "Subject", "Headers", "AddHeaders", "Body", "HTML",
	// "Attachments", so the caller can name the matching flag. It is empty
	// for errors from File, Reader and ReadArg, which do not know the flag.
	Field string
	// Index is the position within a slice field, or -1.
	Index int
	// Value is the offending input (quoted when shown), may be empty.
	Value string
	// Msg says what is wrong, in lower case without a trailing period.
	Msg string
	// Err is the underlying error, such as a file system error.
	Err error
}

// Error implements error: "Field[Index] "value": msg: err", leaving out
// the parts that are empty.
func (e *InputError) Error() string {
	s := e.Field
	if e.Index >= 0 {
		s += "[" + strconv.Itoa(e.Index) + "]"
	}
	if e.Value != "" {
		// %q so that CR, LF and escape sequences are shown, never obeyed.
		s += fmt.Sprintf(" %q", e.Value)
	}
	if s != "" {
		s = strings.TrimPrefix(s, " ") + ": "
	}
	s += e.Msg
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Detail is the error without the field name, for a caller that names
// the flag itself: ""value": msg: err".
func (e *InputError) Detail() string {
	s := e.Msg
	if e.Value != "" {
		// %q so that CR, LF and escape sequences are shown, never obeyed.
		s = fmt.Sprintf("%q: %s", e.Value, s)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying error.
func (e *InputError) Unwrap() error { return e.Err }

func inputErr(field string, index int, value, msg string) *InputError {
	return &InputError{Field: field, Index: index, Value: value, Msg: msg}
}
