// Package config reads smtpx's configuration: named profiles in a TOML file
// ($XDG_CONFIG_HOME/smtpx/config.toml) and msmtp accounts (~/.msmtprc), and
// resolves them together with the environment under the command-line flags:
// flags beat environment beat profile beat built-in defaults.
//
// The package knows nothing about cobra: it is told which flags the user
// gave and answers with the flag values to fill in, each with its origin.
package config

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pelletier/go-toml/v2"

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

	// lines maps each key to the line it was set on, for errors.
	lines map[string]int
}

// Line returns the line key was set on, or 0.
func (p *Profile) Line(key string) int { return p.lines[key] }

// Keys are the keys a profile may hold, in the order they are documented.
var Keys = []string{"server", "port", "tls", "auth", "user", "password_command", "password_file",
	"from", "helo", "headers", "ca_file", "insecure", "cert_file", "key_file", "tls_sni"}

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
	var raw map[string]any
	if err := toml.Unmarshal(data, &raw); err != nil {
		e := &Error{File: path, Msg: strings.TrimPrefix(err.Error(), "toml: ")}
		var de *toml.DecodeError
		if errors.As(err, &de) {
			e.Line, _ = de.Position()
		}
		e.Msg = "invalid TOML: " + e.Msg
		return nil, e
	}
	lines := keyLines(data)
	errAt := func(key []string, format string, a ...any) error {
		return &Error{File: path, Line: lineOf(lines, key), Msg: fmt.Sprintf(format, a...)}
	}
	f := &File{Path: path, Profiles: map[string]*Profile{}}
	for _, k := range sortedKeys(raw) {
		if k != "profile" {
			return nil, errAt([]string{k}, "unknown key %q: settings go in a [profile.NAME] table", k)
		}
	}
	profs, ok := raw["profile"]
	if !ok {
		return f, nil
	}
	pm, ok := profs.(map[string]any)
	if !ok {
		return nil, errAt([]string{"profile"}, "profile must be a table of profiles: [profile.NAME]")
	}
	for _, name := range sortedKeys(pm) {
		tbl, ok := pm[name].(map[string]any)
		if !ok {
			return nil, errAt([]string{"profile", name}, "profile.%s must be a table: [profile.%s]", name, name)
		}
		p := &Profile{Name: name, Origin: fmt.Sprintf("profile %q", name), File: path, lines: map[string]int{}}
		for _, key := range sortedKeys(tbl) {
			p.lines[key] = lineOf(lines, []string{"profile", name, key})
		}
		if err := p.fill(tbl, home); err != nil {
			var ke *keyError
			if errors.As(err, &ke) {
				return nil, errAt([]string{"profile", name, ke.key}, "profile %q: %s", name, ke.msg)
			}
			return nil, &Error{File: path, Line: lineOf(lines, []string{"profile", name}), Msg: fmt.Sprintf("profile %q: %v", name, err)}
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

// fill reads a profile's table.
func (p *Profile) fill(tbl map[string]any, home string) error {
	str := func(key string, dst *string) error {
		v, ok := tbl[key]
		if !ok {
			return nil
		}
		s, ok := v.(string)
		if !ok {
			return keyErrf(key, "want a string, got %s", tomlType(v))
		}
		// A password_command is a shell script and may span lines.
		if strings.ContainsAny(s, "\r\n\x00") && (key != "password_command" || strings.Contains(s, "\x00")) {
			return keyErrf(key, "must not contain a line break or NUL")
		}
		*dst = s
		return nil
	}
	for _, key := range sortedKeys(tbl) {
		var err error
		switch key {
		case "server":
			err = str(key, &p.Server)
		case "tls":
			err = str(key, &p.TLS)
		case "auth":
			err = str(key, &p.Auth)
		case "user":
			err = str(key, &p.User)
		case "password_command":
			err = str(key, &p.PasswordCommand)
		case "password_file":
			err = str(key, &p.PasswordFile)
		case "from":
			err = str(key, &p.From)
		case "helo":
			err = str(key, &p.Helo)
		case "ca_file":
			err = str(key, &p.CAFile)
		case "cert_file":
			err = str(key, &p.CertFile)
		case "key_file":
			err = str(key, &p.KeyFile)
		case "tls_sni":
			err = str(key, &p.TLSSNI)
		case "port":
			n, ok := tbl[key].(int64)
			if !ok {
				return keyErrf(key, "want a number, got %s", tomlType(tbl[key]))
			}
			if n < 1 || n > 65535 {
				return keyErrf(key, "%d is not a port from 1 to 65535", n)
			}
			p.Port = int(n)
		case "insecure":
			b, ok := tbl[key].(bool)
			if !ok {
				return keyErrf(key, "want true or false, got %s", tomlType(tbl[key]))
			}
			p.Insecure = b
		case "headers":
			list, ok := tbl[key].([]any)
			if !ok {
				return keyErrf(key, `want a list of strings such as ["X-Tag: ci"], got %s`, tomlType(tbl[key]))
			}
			for _, v := range list {
				s, ok := v.(string)
				if !ok {
					return keyErrf(key, "want strings, got %s", tomlType(v))
				}
				p.Headers = append(p.Headers, s)
			}
		default:
			return keyErrf(key, "unknown key (a profile may set %s)", strings.Join(Keys, ", "))
		}
		if err != nil {
			return err
		}
	}
	p.expand(home)
	return p.Check()
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
	if p.TLS != "" && !contains(TLSModes, p.TLS) {
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

func tomlType(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "a number"
	case float64:
		return "a decimal number"
	case bool:
		return "true or false"
	case []any, []map[string]any:
		return "a list"
	case map[string]any:
		return "a table"
	}
	return "a date"
}

func sortedKeys[V any](m map[string]V) []string {
	k := make([]string, 0, len(m))
	for s := range m {
		k = append(k, s)
	}
	sort.Strings(k)
	return k
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// keyLines finds the line each key is set on: "a.b.c" -> line, where a
// [table] header counts for the table's own key. TOML's decoder does not
// export positions, so this is a light scan; it returns no entry for forms
// it does not follow (multi-line values are skipped as well as can be).
func keyLines(data []byte) map[string]int {
	out := map[string]int{}
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	var table []string
	n := 0
	inMulti := ""
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if inMulti != "" {
			if strings.Contains(line, inMulti) {
				inMulti = ""
			}
			continue
		}
		if line == "" || line[0] == '#' {
			continue
		}
		if strings.HasPrefix(line, "[") && !strings.HasPrefix(line, "[[") {
			end := strings.LastIndexByte(line, ']')
			if end < 0 {
				continue
			}
			table = splitKey(line[1:end])
			for i := 1; i <= len(table); i++ {
				k := strings.Join(table[:i], ".")
				if _, ok := out[k]; !ok {
					out[k] = n
				}
			}
			continue
		}
		eq := strings.IndexByte(line, '=')
		if eq <= 0 {
			continue
		}
		key := append(append([]string{}, table...), splitKey(line[:eq])...)
		for i := 1; i <= len(key); i++ {
			k := strings.Join(key[:i], ".")
			if _, ok := out[k]; !ok {
				out[k] = n
			}
		}
		rest := strings.TrimSpace(line[eq+1:])
		for _, q := range []string{`"""`, `'''`} {
			if strings.HasPrefix(rest, q) && !strings.Contains(rest[3:], q) {
				inMulti = q
			}
		}
	}
	return out
}

// splitKey splits a dotted TOML key, honouring simple quotes.
func splitKey(s string) []string {
	var parts []string
	var cur strings.Builder
	quote := byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else {
				cur.WriteByte(c)
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '.':
			parts = append(parts, strings.TrimSpace(cur.String()))
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	return append(parts, strings.TrimSpace(cur.String()))
}

// lineOf returns the line of key, or of its nearest enclosing table.
func lineOf(lines map[string]int, key []string) int {
	for i := len(key); i > 0; i-- {
		if n, ok := lines[strings.Join(key[:i], ".")]; ok {
			return n
		}
	}
	return 0
}
