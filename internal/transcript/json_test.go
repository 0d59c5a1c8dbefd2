package transcript

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestMarshalJSONEscapesHidden(t *testing.T) {
	for in, want := range map[string]string{
		"plain <a&b>":                                `"plain <a&b>"`,
		"esc \x1b[2J nul \x00":                       `"esc \u001b[2J nul \u0000"`,
		"del \x7f":                                   `"del \u007f"`,
		"c1 \u0080 \u009b \u009f":                    `"c1 \u0080 \u009b \u009f"`,
		"rlo \u202eevil\u202c":                       `"rlo \u202eevil\u202c"`,
		"lrm \u200e rlm \u200f":                      `"lrm \u200e rlm \u200f"`,
		"iso \u2066 \u2067 \u2068 \u2069 alm \u061c": `"iso \u2066 \u2067 \u2068 \u2069 alm \u061c"`,
		"zw\u200bsp \ufeff \u00ad":                   `"zw\u200bsp \ufeff \u00ad"`,
		"tag \U000e0001\U000e0041":                   `"tag \udb40\udc01\udb40\udc41"`,
		"ls \u2028 ps \u2029":                        `"ls \u2028 ps \u2029"`,
		"Grüße € 😀 \u00a0":                           "\"Grüße € 😀 \u00a0\"",
		"bad \xff utf8":                              `"bad \ufffd utf8"`,
	} {
		b, err := MarshalJSON(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimSuffix(string(b), "\n"); got != want {
			t.Errorf("MarshalJSON(%q) = %s, want %s", in, got, want)
		}
		var back string
		if err := json.Unmarshal(b, &back); err != nil {
			t.Errorf("%q: invalid JSON %s: %v", in, b, err)
		} else if want := strings.ToValidUTF8(in, "\ufffd"); back != want {
			t.Errorf("%q: decodes to %q", in, back)
		}
	}
}

// Keys, nested values and everything the encoder writes pass through the
// same escaping; the fast path leaves plain output untouched.
func TestWriteJSONNested(t *testing.T) {
	var b bytes.Buffer
	v := map[string]any{"k\u202e": []any{"x\u200by", 1.5, nil, map[string]string{"s": "\U000e0067"}}}
	if err := WriteJSON(&b, v); err != nil {
		t.Fatal(err)
	}
	const want = `{"k\u202e":["x\u200by",1.5,null,{"s":"\udb40\udc67"}]}` + "\n"
	if b.String() != want {
		t.Errorf("got %s want %s", b.String(), want)
	}
	plain := []byte(`{"a":"b"}`)
	if got := escapeJSON(plain); &got[0] != &plain[0] {
		t.Error("plain output was copied")
	}
}

func FuzzMarshalJSON(f *testing.F) {
	for _, s := range []string{"", "ok", "\u202e\u200b\ufeff", "\U000e0041x", "\x7f\u0085", "\xff\xfe", "é😀\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := MarshalJSON(map[string]string{s: s})
		if err != nil {
			t.Fatal(err)
		}
		var back map[string]string
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("invalid JSON %q: %v", b, err)
		}
		// The same strings as encoding/json's own output decodes to.
		plain, _ := json.Marshal(s)
		var want string
		json.Unmarshal(plain, &want)
		if len(back) != 1 || back[want] != want {
			t.Fatalf("%q decodes to %q", s, back)
		}
		b = bytes.TrimSuffix(b, []byte("\n"))
		for i := 0; i < len(b); {
			r, size := utf8.DecodeRune(b[i:])
			if r < 0x20 || hidden(r) {
				t.Fatalf("%q: raw %U in %q", s, r, b)
			}
			i += size
		}
	})
}
