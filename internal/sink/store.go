package sink

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// store puts accepted messages somewhere. Each message is first written to
// a temporary file that readers ignore, then moved into place in one step
// (link or rename), so an interrupted sink never leaves half a message
// where a script would read it.
//
// Files are not fsynced: the sink is a test tool, and a power cut losing
// the last messages matters less than smtp-source throughput.
type store interface {
	// create opens a new temporary file for a message.
	create() (*os.File, error)
	// commit moves a complete temporary file into place and returns the
	// final path, or "" when this store keeps nothing.
	commit(tmp string, seq int, at time.Time) (string, error)
}

// dirStore writes DIR/<UTC time>-<seq>.eml.
type dirStore struct{ dir string }

func (d dirStore) create() (*os.File, error) {
	// The leading dot keeps temporary files out of `*.eml` globs.
	return os.CreateTemp(d.dir, ".smtpx-sink-*.tmp")
}

func (d dirStore) commit(tmp string, seq int, at time.Time) (string, error) {
	base := fmt.Sprintf("%s-%06d", at.UTC().Format("20060102T150405.000000Z"), seq)
	for i := 1; ; i++ {
		name := base + ".eml"
		if i > 1 {
			name = fmt.Sprintf("%s-%d.eml", base, i)
		}
		final := filepath.Join(d.dir, name)
		// A hard link never replaces an existing file, unlike rename, so
		// two sinks sharing a directory cannot overwrite each other.
		err := os.Link(tmp, final)
		if err == nil {
			return final, os.Remove(tmp)
		}
		if errors.Is(err, os.ErrExist) {
			continue
		}
		// Some file systems have no hard links: fall back to rename, whose
		// name is unique enough for one process.
		if _, serr := os.Lstat(final); errors.Is(serr, os.ErrNotExist) {
			return final, os.Rename(tmp, final)
		}
		return "", err
	}
}

// maildirStore delivers into a Maildir: write in tmp/, rename into new/.
type maildirStore struct {
	dir  string
	host string
	pid  int
}

func newMaildirStore(dir string) (*maildirStore, error) {
	for _, sub := range []string{"tmp", "new", "cur"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return nil, err
		}
	}
	host, _ := os.Hostname()
	if host == "" {
		host = "localhost"
	}
	// The Maildir convention escapes "/" and ":" in the host part.
	host = strings.NewReplacer("/", `\057`, ":", `\072`).Replace(host)
	return &maildirStore{dir: dir, host: host, pid: os.Getpid()}, nil
}

func (m *maildirStore) create() (*os.File, error) {
	return os.CreateTemp(filepath.Join(m.dir, "tmp"), "smtpx-sink-*.tmp")
}

func (m *maildirStore) commit(tmp string, seq int, at time.Time) (string, error) {
	name := fmt.Sprintf("%d.M%06dP%dQ%d.%s", at.Unix(), at.Nanosecond()/1000, m.pid, seq, m.host)
	final := filepath.Join(m.dir, "new", name)
	return final, os.Rename(tmp, final)
}

// discardStore keeps nothing; the temporary file only exists so the
// summary can be computed without holding the message in memory.
type discardStore struct{}

func (discardStore) create() (*os.File, error) { return os.CreateTemp("", "smtpx-sink-*.tmp") }

func (discardStore) commit(tmp string, _ int, _ time.Time) (string, error) {
	return "", os.Remove(tmp)
}
