// Package config reads smtpx's configuration: named profiles in a TOML file
// ($XDG_CONFIG_HOME/smtpx/config.toml) and msmtp accounts (~/.msmtprc), and
// resolves them together with the environment under the command-line flags:
// flags beat environment beat profile beat built-in defaults.
//
// The package knows nothing about cobra: it is told which flags the user
// gave and answers with the flag values to fill in, each with its origin.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"

	"github.com/smtpx/smtpx/internal/auth"
	"github.com/smtpx/smtpx/internal/target"
)

// DefaultProfile is the profile that applies when none is named.
const DefaultProfile = "default"

// TLS modes a profile may name.
const (
	TLSAuto     = "auto"     // STARTTLS when offered (the built-in default)
	TLSStartTLS = "starttls" // STARTTLS required (--tls)
	TLSImplicit = "implicit" // TLS from the first byte (--tls-on-connect)
	TLSNone     = "none"     // never (--no-tls)
)

// TLSModes lists the values of a profile's tls key.
var TLSModes = []string{TLSAuto, TLSStartTLS, TLSImplicit, TLSNone}

// Profile is one named set of send settings.
type Profile struct {
	Name string
	// Origin names where the profile was read, for messages and
	// --print-config: `profile "work"` or `msmtp account "work"`.
	Origin string
	File   string

	Server          string
	Port            int
	TLS             string
	Auth            string
	User            string
	PasswordCommand string
	PasswordFile    string
	// PlainPassword is set when an msmtp account holds its password in
	// clear; smtpx does not use it (it would have to pass it around as a
	// plain value), but says so.
	PlainPassword bool
	From          string
	Helo          string
	Headers       []string
	CAFile        string
	Insecure      bool
	CertFile      string
	KeyFile       string
	TLSSNI        string

	// lines maps each key to the line it was set on, for the errors of an
	// msmtp account (a TOML profile's lines are found when one is needed).
	lines map[string]int
}

// Keys are the keys a profile may hold, in the order they are documented:
// the toml tags of table's fields.
var Keys = []string{"server", "port", "tls", "auth", "user", "password_command", "password_file",
	"from", "helo", "headers", "ca_file", "insecure", "cert_file", "key_file", "tls_sni"}

// document is the shape of a config file: profiles, and nothing else.
type document struct {
	Profile map[string]table `toml:"profile"`
}

// table is one [profile.NAME] table as written. Port is a pointer so that
// "port = 0" is refused rather than taken for no port.
type table struct {
	Server          string   `toml:"server"`
	Port            *int64   `toml:"port"`
	TLS             string   `toml:"tls"`
	Auth            string   `toml:"auth"`
	User            string   `toml:"user"`
	PasswordCommand string   `toml:"password_command"`
	PasswordFile    string   `toml:"password_file"`
	From            string   `toml:"from"`
	Helo            string   `toml:"helo"`
	Headers         []string `toml:"headers"`
	CAFile          string   `toml:"ca_file"`
	Insecure        bool     `toml:"insecure"`
	CertFile        string   `toml:"cert_file"`
	KeyFile         string   `toml:"key_file"`
	TLSSNI          string   `toml:"tls_sni"`
}

// File is a parsed config file.
type File struct {
	Path     string
	Profiles map[string]*Profile
}

// Names returns the profile names, sorted.
func (f *File) Names() []string {
	var n []string
	for k := range f.Profiles {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// Error is a problem in a config file, located by file and line.
type Error struct {
	File string
	Line int // 0 when unknown
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	if e.File != "" {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return e.Msg
}

// maxFile bounds a configuration file: real ones are a few KiB, and a
// wrong path (/dev/zero) must fail rather than fill memory.
const maxFile = 1 << 20

// readFile reads at most maxFile bytes of path.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxFile {
		return nil, fmt.Errorf("larger than %d MiB: not a configuration file", maxFile>>20)
	}
	return data, nil
}

// Load reads and checks the config file at path.
func Load(path string, home string) (*File, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, &Error{File: path, Msg: "cannot read the config file: " + plainErr(err)}
	}
	return Parse(path, data, home)
}

// plainErr drops the "open PATH:" prefix os errors carry, since messages
// already name the file.
func plainErr(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// Parse checks a config file's contents. home expands a leading ~/ in paths.
func Parse(path string, data []byte, home string) (*File, error) {
	var doc document
	if err := toml.NewDecoder(bytes.NewReader(data)).DisallowUnknownFields().Decode(&doc); err != nil {
		return nil, decodeError(path, data, err)
	}
	f := &File{Path: path, Profiles: make(map[string]*Profile, len(doc.Profile))}
	for _, name := range slices.Sorted(maps.Keys(doc.Profile)) {
		t := doc.Profile[name]
		p, err := t.profile(name, path, home)
		if err != nil {
			e := &Error{File: path, Msg: fmt.Sprintf("profile %q: %v", name, err)}
			key := []string{"profile", name}
			var ke *keyError
			if errors.As(err, &ke) {
				e.Msg = fmt.Sprintf("profile %q: %s", name, ke.msg)
				key = append(key, ke.key)
			}
			e.Line = findSpot(data, key).line
			return nil, e
		}
		f.Profiles[name] = p
	}
	return f, nil
}

type keyError struct{ key, msg string }

func (e *keyError) Error() string { return e.key + ": " + e.msg }

func keyErrf(key, format string, a ...any) error {
	return &keyError{key: key, msg: key + ": " + fmt.Sprintf(format, a...)}
}

// profile checks a decoded table and makes it a Profile.
func (t *table) profile(name, path, home string) (*Profile, error) {
	p := &Profile{Name: name, Origin: fmt.Sprintf("profile %q", name), File: path,
		Server: t.Server, TLS: t.TLS, Auth: t.Auth, User: t.User,
		PasswordCommand: t.PasswordCommand, PasswordFile: t.PasswordFile,
		From: t.From, Helo: t.Helo, Headers: t.Headers, CAFile: t.CAFile,
		Insecure: t.Insecure, CertFile: t.CertFile, KeyFile: t.KeyFile, TLSSNI: t.TLSSNI}
	for _, f := range []struct{ key, value string }{
		{"server", p.Server}, {"tls", p.TLS}, {"auth", p.Auth}, {"user", p.User},
		{"password_command", p.PasswordCommand}, {"password_file", p.PasswordFile},
		{"from", p.From}, {"helo", p.Helo}, {"ca_file", p.CAFile},
		{"cert_file", p.CertFile}, {"key_file", p.KeyFile}, {"tls_sni", p.TLSSNI},
	} {
		// A password_command is a shell script and may span lines.
		if strings.ContainsAny(f.value, "\r\n\x00") && (f.key != "password_command" || strings.Contains(f.value, "\x00")) {
			return nil, keyErrf(f.key, "must not contain a line break or NUL")
		}
	}
	if t.Port != nil {
		if n := *t.Port; n < 1 || n > 65535 {
			return nil, keyErrf("port", "%d is not a port from 1 to 65535", n)
		}
		p.Port = int(*t.Port)
	}
	p.expand(home)
	return p, p.Check()
}

// expand turns a leading ~/ in the profile's paths into home.
func (p *Profile) expand(home string) {
	for _, s := range []*string{&p.PasswordFile, &p.CAFile, &p.CertFile, &p.KeyFile} {
		*s = ExpandHome(*s, home)
	}
}

// ExpandHome replaces a leading "~/" with home.
func ExpandHome(s, home string) string {
	if home != "" && (s == "~" || strings.HasPrefix(s, "~/")) {
		return filepath.Join(home, s[1:])
	}
	return s
}

// Check validates a profile's values; errors name the key (as *keyError).
func (p *Profile) Check() error {
	if p.Server != "" {
		t, err := target.Parse(p.Server, 25)
		if err != nil {
			return keyErrf("server", "%v", err)
		}
		if err := tlsAgrees(t.TLS, p.TLS); err != nil {
			return err
		}
		if p.Port != 0 && t.PortGiven {
			return keyErrf("port", "the server %q already names a port", p.Server)
		}
		if p.Port != 0 && t.Network == "unix" {
			return keyErrf("port", "the server is a unix socket")
		}
	}
	if p.TLS != "" && !slices.Contains(TLSModes, p.TLS) {
		return keyErrf("tls", "%q is not one of %s", p.TLS, strings.Join(TLSModes, ", "))
	}
	if p.Auth != "" && !strings.EqualFold(p.Auth, "auto") && !auth.Supported(strings.ToUpper(p.Auth)) {
		return keyErrf("auth", "%q is not auto or one of %s", p.Auth, strings.Join(auth.Mechanisms, ", "))
	}
	if p.PasswordCommand != "" && p.PasswordFile != "" {
		return keyErrf("password_file", "give one of password_command and password_file")
	}
	for _, h := range p.Headers {
		name, _, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(name) == "" || strings.ContainsAny(name, " \t") {
			return keyErrf("headers", "%q is not \"Name: value\"", h)
		}
		if strings.ContainsAny(h, "\r\n\x00") {
			return keyErrf("headers", "%q contains a line break or NUL", h)
		}
	}
	return nil
}

// tlsAgrees refuses a tls key that contradicts the server's URL scheme.
func tlsAgrees(scheme target.TLSMode, mode string) error {
	bad := false
	switch scheme {
	case target.TLSImplicit:
		bad = mode == TLSStartTLS || mode == TLSNone
	case target.TLSRequired:
		bad = mode == TLSImplicit || mode == TLSNone
	}
	if bad {
		return keyErrf("tls", "%q contradicts the server's URL scheme; drop one of them", mode)
	}
	return nil
}

// HeaderName returns the field name of a "Name: value" header, lower-cased.
func HeaderName(h string) string {
	name, _, _ := strings.Cut(h, ":")
	return strings.ToLower(strings.TrimSpace(name))
}

// decodeError explains why data did not decode into a document, at the
// line the decoder names.
func decodeError(path string, data []byte, err error) error {
	// Whether the text is TOML at all is what a decoder without a shape
	// says; only when it is does the error concern the shape.
	var anyDoc map[string]any
	notTOML := toml.Unmarshal(data, &anyDoc)
	if notTOML != nil {
		err = notTOML
	}
	e := &Error{File: path, Msg: "invalid TOML: " + strings.TrimPrefix(err.Error(), "toml: ")}
	var de *toml.DecodeError
	if !errors.As(err, &de) {
		return e
	}
	line, col := de.Position()
	e.Line = line
	if notTOML == nil {
		var unknown *toml.StrictMissingError
		e.Msg = spotAt(data, line, col).problem(errors.As(err, &unknown))
	}
	return e
}

// A spot is a key set in the document: its full path, where it is written,
// and what kind of value it holds.
type spot struct {
	path      []string
	line, col int
	kind      unstable.Kind // Table for a [table] header
	elem      unstable.Kind // an array's first element that is not a string
}

// problem says what is wrong with the value at s, in terms of the config
// file's shape: a key that does not exist (unknown), or a value of the
// wrong type.
func (s spot) problem(unknown bool) string {
	switch {
	case len(s.path) == 0:
		return "not a config file: settings go in [profile.NAME] tables"
	case s.path[0] != "profile":
		return fmt.Sprintf("unknown key %q: settings go in a [profile.NAME] table", s.path[0])
	case len(s.path) == 1:
		return "profile must be a table of profiles: [profile.NAME]"
	case len(s.path) == 2:
		return fmt.Sprintf("profile.%s must be a table: [profile.%s]", s.path[1], s.path[1])
	}
	name, key := s.path[1], s.path[2]
	if unknown {
		return fmt.Sprintf("profile %q: %s: unknown key (a profile may set %s)", name, key, strings.Join(Keys, ", "))
	}
	got := kindName(s.kind)
	if len(s.path) > 3 {
		// A dotted key under the key made it a table.
		got = kindName(unstable.Table)
	}
	want := "a string"
	switch key {
	case "port":
		want = "a number"
	case "insecure":
		want = "true or false"
	case "headers":
		want = `a list of strings such as ["X-Tag: ci"]`
		if s.kind == unstable.Array && len(s.path) == 3 {
			want, got = "strings", kindName(s.elem)
		}
	}
	return fmt.Sprintf("profile %q: %s: want %s, got %s", name, key, want, got)
}

// kindName names a kind of TOML value the way a person writes it.
func kindName(k unstable.Kind) string {
	switch k {
	case unstable.String:
		return "a string"
	case unstable.Integer:
		return "a number"
	case unstable.Float:
		return "a decimal number"
	case unstable.Bool:
		return "true or false"
	case unstable.Array, unstable.ArrayTable:
		return "a list"
	case unstable.Table, unstable.InlineTable:
		return "a table"
	}
	return "a date"
}

// spotAt returns the spot the decoder's position line:col belongs to: the
// last key written at or before it (a value, or an element of a
// multi-line array, follows its key).
func spotAt(data []byte, line, col int) spot {
	var at spot
	walkSpots(data, func(s spot) bool {
		if s.line > line || s.line == line && s.col > col {
			return false
		}
		at = s
		return true
	})
	return at
}

// findSpot returns the spot where key is set, or the nearest enclosing
// table's when key itself is not written (line 0 if neither is).
func findSpot(data []byte, key []string) spot {
	var best spot
	walkSpots(data, func(s spot) bool {
		if len(s.path) <= len(key) && len(s.path) > len(best.path) && slices.Equal(s.path, key[:len(s.path)]) {
			best = s
		}
		return true
	})
	return best
}

// walkSpots calls f for each key the document sets, in order, until f
// returns false. It reads positions from go-toml's parser, which the
// decoder gives only for the errors it finds itself; it runs only when an
// error needs a line.
func walkSpots(data []byte, f func(spot) bool) {
	var p unstable.Parser
	p.Reset(data)
	var tbl []string
	var kv func(prefix []string, n *unstable.Node) bool
	mark := func(path []string, key unstable.Iterator, kind unstable.Kind) spot {
		first := true
		s := spot{path: path, kind: kind}
		for key.Next() {
			k := key.Node()
			if first {
				pos := p.Shape(k.Raw).Start
				s.line, s.col, first = pos.Line, pos.Column, false
			}
			s.path = append(s.path, string(k.Data))
		}
		return s
	}
	kv = func(prefix []string, n *unstable.Node) bool {
		v := n.Value()
		s := mark(slices.Clip(prefix), n.Key(), v.Kind)
		if v.Kind == unstable.Array {
			for it := v.Children(); it.Next(); {
				if k := it.Node().Kind; k != unstable.String {
					s.elem = k
					break
				}
			}
		}
		if !f(s) {
			return false
		}
		if v.Kind == unstable.InlineTable {
			for it := v.Children(); it.Next(); {
				if !kv(s.path, it.Node()) {
					return false
				}
			}
		}
		return true
	}
	for p.NextExpression() {
		n := p.Expression()
		switch n.Kind {
		case unstable.Table, unstable.ArrayTable:
			s := mark(nil, n.Key(), n.Kind)
			tbl = s.path
			if !f(s) {
				return
			}
		case unstable.KeyValue:
			if !kv(tbl, n) {
				return
			}
		}
	}
}
