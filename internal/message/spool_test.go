package message

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// Input that has to be spooled is bounded, so an endless pipe or a device
// fails instead of filling the disk.
func TestSpoolBounded(t *testing.T) {
	old := MaxSpool
	MaxSpool = 1 << 20
	defer func() { MaxSpool = old }()

	if _, err := NewDataReader(zeros{}); err == nil || !strings.Contains(err.Error(), "larger than 1 MiB") {
		t.Errorf("endless stdin: %v", err)
	}
	if _, err := NewDataFile("/dev/zero"); err == nil || !strings.Contains(err.Error(), "larger than 1 MiB") {
		t.Errorf("/dev/zero: %v", err)
	}
	if _, err := ReadArg("@/dev/zero", nil); err == nil || !strings.Contains(err.Error(), "larger than 1 MiB") {
		t.Errorf("--body @/dev/zero: %v", err)
	}
	// Exactly the limit is fine.
	d, err := NewDataReader(io.LimitReader(zeros{}, MaxSpool))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var b bytes.Buffer
	if _, err := d.WriteTo(&b); err != nil || int64(b.Len()) < MaxSpool {
		t.Errorf("at the limit: %d bytes, %v", b.Len(), err)
	}
}
