package send

import (
	"bytes"
	"io"
	"testing"

	"github.com/smtpx/smtpx/internal/message"
	"github.com/smtpx/smtpx/internal/session"
)

// DATA sends --data content through OpenRaw, leaving line-end
// normalisation to the DotWriter; the wire bytes must be those the
// normalised Open gives.
func TestRawDataSameOnTheWire(t *testing.T) {
	for _, in := range []string{
		"", "a", "a\n", "a\r\n", "a\rb\nc\r\nd", ".\n..\r.x", "x\r\n.\r\nMAIL FROM:<>\r\n", "\r\r\n\n", "é\x00\xff\n.",
	} {
		d := message.NewDataString(in)
		wire := func(open func() (io.ReadCloser, error)) string {
			rc, err := open()
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			var b bytes.Buffer
			w := session.NewDotWriter(&b)
			if _, err := io.Copy(w, rc); err != nil {
				t.Fatal(err)
			}
			w.Close()
			return b.String()
		}
		if raw, norm := wire(d.OpenRaw), wire(d.Open); raw != norm {
			t.Errorf("%q: raw %q, normalised %q", in, raw, norm)
		}
	}
}
