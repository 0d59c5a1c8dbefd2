package transcript

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"io"
	"unicode/utf16"
	"unicode/utf8"
)

// WriteJSON writes v as one line of JSON: the one JSON writer behind every
// --json output, so that all of it is escaped alike (see MarshalJSON).
func WriteJSON(w io.Writer, v any) error {
	b, err := MarshalJSON(v)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// MarshalJSON encodes v as one line of JSON ending in a newline. <, > and
// & stay as they are (addresses and replies are data, not HTML), while
// every string escapes what encoding/json lets through raw but a terminal
// or a reader would be fooled by: DEL, the C1 controls and the format
// characters (bidi controls, zero-width characters, the BOM, tag
// characters), as \uXXXX, astral ones as a surrogate pair. The JSON still
// decodes to the same strings.
func MarshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return escapeJSON(buf.Bytes()), nil
}

// escapeJSON rewrites the hidden runes of encoder output as \u escapes.
// encoding/json writes only ASCII outside strings, so any byte from 0x7f
// up is inside a string, where an escape means the same as the rune.
func escapeJSON(b []byte) []byte {
	first := -1
	for i := 0; i < len(b); {
		if i+8 <= len(b) && !anyHigh(binary.LittleEndian.Uint64(b[i:])) {
			i += 8
			continue
		}
		if b[i] < 0x7f {
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if hidden(r) {
			first = i
			break
		}
		i += size
	}
	if first < 0 {
		return b
	}
	out := make([]byte, 0, len(b)+32)
	out = append(out, b[:first]...)
	for i := first; i < len(b); {
		if b[i] < 0x7f {
			out = append(out, b[i])
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		switch {
		case !hidden(r):
			out = append(out, b[i:i+size]...)
		case r > 0xffff:
			hi, lo := utf16.EncodeRune(r)
			out = appendU(appendU(out, hi), lo)
		default:
			out = appendU(out, r)
		}
		i += size
	}
	return out
}

// anyHigh reports whether any of the eight bytes in x is 0x7f or above:
// most output is plain ASCII, skipped a word at a time. (A byte 0xff
// carries into its neighbour, which only adds a byte that is checked
// one at a time.)
func anyHigh(x uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	return (x|(x+ones))&highs != 0
}

func appendU(b []byte, r rune) []byte {
	return append(b, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}
