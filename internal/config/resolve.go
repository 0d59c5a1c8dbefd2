package config

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/smtpx/smtpx/internal/secret"
	"github.com/smtpx/smtpx/internal/target"
)

// Environment variables smtpx reads for send, besides SMTPX_PASSWORD
// (read by send itself as the last password source).
const (
	EnvConfig   = "SMTPX_CONFIG"
	EnvProfile  = "SMTPX_PROFILE"
	EnvServer   = "SMTPX_SERVER"
	EnvUser     = "SMTPX_USER"
	EnvFrom     = "SMTPX_FROM"
	EnvHelo     = "SMTPX_HELO"
	EnvPassword = "SMTPX_PASSWORD"
	// EnvOAuthToken is read by send as the last OAuth token source.
	EnvOAuthToken = "SMTPX_OAUTH_TOKEN"
)

// envFlags maps environment variables onto the send flags they fill.
var envFlags = []struct{ env, key, flag string }{
	{EnvServer, "server", "server"},
	{EnvUser, "user", "user"},
	{EnvFrom, "from", "from"},
	{EnvHelo, "helo", "helo"},
}

// Request is what the command line says.
type Request struct {
	Getenv func(string) string
	// Given reports whether the user gave a flag on the command line.
	Given func(flag string) bool
	// Value returns a flag's current value(s): what the user gave, or the
	// built-in default.
	Value func(flag string) []string

	Config  string // --config FILE
	Profile string // --profile NAME
	Msmtp   string // --msmtp-account NAME
}

func (r *Request) given(flag string) bool { return r.Given != nil && r.Given(flag) }

func (r *Request) value(flag string) string {
	if r.Value == nil {
		return ""
	}
	if v := r.Value(flag); len(v) > 0 {
		return v[0]
	}
	return ""
}

func (r *Request) env(k string) string {
	if r.Getenv == nil {
		return os.Getenv(k)
	}
	return r.Getenv(k)
}

// Setting is one value from the environment or a profile, to fill a flag
// the user did not give, or not used, and why.
type Setting struct {
	Key   string // the profile key or setting name: "server", "password_command", ...
	Value string // as shown by --print-config
	// Flag and FlagValue say what to set; Flag is empty for
	// password_command, which is not a flag.
	Flag, FlagValue string
	Origin          string // "$SMTPX_SERVER", `profile "work"`, `msmtp account "work"`
	Skip            string // why it is not used; empty when it is
}

// Result is the resolved configuration.
type Result struct {
	File        string   // the config file read, or "" when none was
	Profile     *Profile // nil when no profile applies
	ProfileFrom string   // "--profile", "$SMTPX_PROFILE", "--msmtp-account" or "default"
	Settings    []Setting
	Warnings    []string
	// PasswordCommand is the profile's password_command when it is used.
	PasswordCommand string
}

// Applied returns the settings that fill flags (or password_command).
func (r *Result) Applied() []Setting {
	var s []Setting
	for _, x := range r.Settings {
		if x.Skip == "" {
			s = append(s, x)
		}
	}
	return s
}

// UsageError is a mistake on the command line or in the environment (as
// opposed to one inside a config file, which is an *Error).
type UsageError struct{ Msg, Hint string }

func (e *UsageError) Error() string { return e.Msg }

// Home returns the user's home directory, from the environment given
// (HOME, or USERPROFILE on Windows), or "" when neither is set.
func Home(getenv func(string) string) string {
	if h := getenv("HOME"); h != "" {
		return h
	}
	if runtime.GOOS == "windows" {
		return getenv("USERPROFILE")
	}
	return ""
}

// ConfigDir returns $XDG_CONFIG_HOME, else ~/.config (on Windows without
// HOME, %APPDATA%).
func ConfigDir(getenv func(string) string) string {
	if d := getenv("XDG_CONFIG_HOME"); d != "" && filepath.IsAbs(d) {
		return d
	}
	if runtime.GOOS == "windows" && getenv("HOME") == "" {
		return getenv("APPDATA")
	}
	if h := Home(getenv); h != "" {
		return filepath.Join(h, ".config")
	}
	return ""
}

// DefaultPath is where the config file is looked for when none is named.
func DefaultPath(getenv func(string) string) string {
	d := ConfigDir(getenv)
	if d == "" {
		return ""
	}
	return filepath.Join(d, "smtpx", "config.toml")
}

// Resolve reads the config file or msmtp account the request selects and
// returns the settings to apply under the flags the user gave.
func Resolve(r Request) (*Result, error) {
	getenv := r.env
	res := &Result{}

	// The environment.
	for _, e := range envFlags {
		v := getenv(e.env)
		if v == "" {
			continue
		}
		if strings.ContainsAny(v, "\r\n\x00") {
			return nil, &UsageError{Msg: fmt.Sprintf("%s contains a line break or NUL", e.env), Hint: "set " + e.env + " to a single line"}
		}
		s := Setting{Key: e.key, Value: v, Flag: e.flag, FlagValue: v, Origin: "$" + e.env}
		if r.given(e.flag) {
			s.Skip = "--" + e.flag + " is given"
		} else if e.flag == "server" && r.given("socket") {
			s.Skip = "--socket is given"
		}
		res.Settings = append(res.Settings, s)
	}

	// The profile.
	p, err := selectProfile(r, res)
	if err != nil {
		return nil, err
	}
	if p != nil {
		res.Profile = p
		profileSettings(r, res, p)
	}
	unbindCredentials(r, res)
	if res.PasswordCommand != "" {
		if err := secret.CheckCommandFile(res.File); err != nil {
			return nil, &UsageError{
				Msg:  fmt.Sprintf("%s in %s can be changed by other users, and its password command would run as you: not running it", res.Profile.Origin, res.File),
				Hint: "make it yours and writable by you alone: chmod go-w " + res.File}
		}
	}
	return res, nil
}

// credentialKeys are the settings that make send authenticate.
var credentialKeys = map[string]bool{"user": true, "auth": true, "password_command": true, "password_file": true}

// NoServer is why credentials from the environment or a profile are not
// used when no server is named: a send routed by DNS goes to whatever
// server the recipient's domain names, which may be anybody's.
const NoServer = "no server is named: a send routed by DNS never authenticates"

// unbindCredentials keeps the environment's and the profile's credentials
// for a server the user named (--server, --socket, $SMTPX_SERVER or the
// profile's own server). Without one, send would route by DNS and hand the
// password to the recipient domain's MX, so they are dropped, with one
// warning naming where they came from.
func unbindCredentials(r Request, res *Result) {
	if r.given("server") || r.given("socket") {
		return
	}
	for _, s := range res.Settings {
		if s.Key == "server" && s.Skip == "" {
			return
		}
	}
	var from []string
	seen := map[string]bool{}
	for i := range res.Settings {
		s := &res.Settings[i]
		if !credentialKeys[s.Key] || s.Skip != "" {
			continue
		}
		s.Skip = NoServer
		if !seen[s.Origin] {
			seen[s.Origin] = true
			from = append(from, s.Origin)
		}
	}
	res.PasswordCommand = ""
	if len(from) == 0 {
		return
	}
	for _, k := range []string{EnvPassword, EnvOAuthToken} {
		if r.env(k) != "" {
			from = append(from, "$"+k)
		}
	}
	res.Warnings = append(res.Warnings, fmt.Sprintf("credentials from %s are not used: no server is named, and a send routed by DNS never authenticates; name the submission server with --server or $%s",
		strings.Join(from, ", "), EnvServer))
}

func selectProfile(r Request, res *Result) (*Profile, error) {
	getenv := r.env
	if r.Msmtp != "" {
		if r.Profile != "" {
			return nil, &UsageError{Msg: "--profile and --msmtp-account cannot be combined", Hint: "use one of --profile and --msmtp-account"}
		}
		p, err := LoadMsmtp(getenv, r.Msmtp)
		if err != nil {
			return nil, err
		}
		res.File, res.ProfileFrom = p.File, "--msmtp-account"
		return p, nil
	}
	path, pathFrom := r.Config, "--config"
	if path == "" {
		if path = getenv(EnvConfig); path != "" {
			pathFrom = "$" + EnvConfig
		} else {
			path, pathFrom = DefaultPath(getenv), ""
		}
	}
	name, from := r.Profile, "--profile"
	if name == "" {
		if name = getenv(EnvProfile); name != "" {
			from = "$" + EnvProfile
		} else {
			name, from = DefaultProfile, "default"
		}
	}
	if path == "" {
		if from != "default" {
			return nil, &UsageError{Msg: fmt.Sprintf("profile %q (%s): no config file (HOME and XDG_CONFIG_HOME are not set)", name, from), Hint: "name the file with --config FILE"}
		}
		return nil, nil
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		switch {
		case pathFrom != "":
			return nil, &UsageError{Msg: fmt.Sprintf("config file %s (%s) does not exist", path, pathFrom), Hint: "check the path given to " + pathFrom}
		case from != "default":
			return nil, &UsageError{Msg: fmt.Sprintf("profile %q (%s): there is no config file %s", name, from, path),
				Hint: "create it (see docs/configuration.md or 'smtpx config --help') or name one with --config FILE"}
		}
		return nil, nil // no config file: nothing to apply
	}
	f, err := Load(path, Home(getenv))
	if err != nil {
		return nil, err
	}
	res.File = path
	p, ok := f.Profiles[name]
	if !ok {
		if from == "default" {
			return nil, nil
		}
		names := f.Names()
		hint := "the file defines no profiles; add a [profile." + name + "] table"
		if len(names) > 0 {
			hint = "profiles in the file: " + strings.Join(names, ", ")
		}
		return nil, &UsageError{Msg: fmt.Sprintf("no profile %q (%s) in %s", name, from, path), Hint: hint}
	}
	res.ProfileFrom = from
	return p, nil
}

// ServerWithPort is the profile's server with its port key folded in.
func (p *Profile) ServerWithPort() string {
	if p.Server == "" || p.Port == 0 {
		return p.Server
	}
	port := strconv.Itoa(p.Port)
	if strings.Contains(p.Server, "://") || strings.HasPrefix(p.Server, "[") {
		return p.Server + ":" + port
	}
	return net.JoinHostPort(p.Server, port)
}

// serverBound are the keys that belong to the profile's server: they are
// not used when the server comes from elsewhere, so that credentials and
// TLS settings never go to a server they were not written for.
var serverBound = map[string]bool{"port": true, "tls": true, "auth": true, "user": true, "password_command": true,
	"password_file": true, "ca_file": true, "insecure": true, "cert_file": true, "key_file": true, "tls_sni": true}

func profileSettings(r Request, res *Result, p *Profile) {
	getenv := r.env
	add := func(key, value, flag, flagValue string) *Setting {
		res.Settings = append(res.Settings, Setting{Key: key, Value: value, Flag: flag, FlagValue: flagValue, Origin: p.Origin})
		return &res.Settings[len(res.Settings)-1]
	}
	// Where the server comes from, when not from the profile.
	elsewhere := ""
	if p.Server != "" {
		switch {
		case r.given("socket"):
			elsewhere = "the server comes from --socket"
		case r.given("server") && !sameServer(r.value("server"), p.ServerWithPort()):
			elsewhere = "the server comes from --server"
		case !r.given("server") && getenv(EnvServer) != "" && !sameServer(getenv(EnvServer), p.ServerWithPort()):
			elsewhere = "the server comes from $" + EnvServer
		}
	}
	skipIf := func(s *Setting, flags ...string) {
		if elsewhere != "" && serverBound[s.Key] {
			s.Skip = elsewhere
			return
		}
		for _, f := range flags {
			if strings.HasPrefix(f, "$") {
				if getenv(f[1:]) != "" {
					s.Skip = f + " is set"
					return
				}
				continue
			}
			if r.given(f) {
				s.Skip = "--" + f + " is given"
				return
			}
		}
	}

	if p.Server != "" {
		s := add("server", p.ServerWithPort(), "server", p.ServerWithPort())
		skipIf(s, "server", "socket", "$"+EnvServer)
	} else if p.Port != 0 {
		s := add("port", strconv.Itoa(p.Port), "port", strconv.Itoa(p.Port))
		skipIf(s, "port")
	}
	if p.TLS != "" && p.TLS != TLSAuto {
		flag := map[string]string{TLSStartTLS: "tls", TLSImplicit: "tls-on-connect", TLSNone: "no-tls"}[p.TLS]
		s := add("tls", p.TLS, flag, "true")
		skipIf(s, "tls", "no-tls", "tls-on-connect")
	}
	for _, x := range []struct{ key, value, flag string }{
		{"ca_file", p.CAFile, "ca-file"},
		{"cert_file", p.CertFile, "cert"},
		{"key_file", p.KeyFile, "key"},
		{"tls_sni", p.TLSSNI, "tls-sni"},
	} {
		if x.value != "" {
			skipIf(add(x.key, x.value, x.flag, x.value), x.flag)
		}
	}
	if p.Insecure {
		skipIf(add("insecure", "true", "insecure", "true"), "insecure")
	}
	if p.Auth != "" {
		v := p.Auth
		if strings.EqualFold(v, "auto") {
			v = "auto"
		} else {
			v = strings.ToUpper(v)
		}
		skipIf(add("auth", v, "auth", v), "auth")
	}
	userElsewhere := ""
	if p.User != "" {
		s := add("user", p.User, "user", p.User)
		skipIf(s, "user", "$"+EnvUser)
		if s.Skip != "" && elsewhere == "" {
			other := r.value("user")
			if !r.given("user") {
				other = getenv(EnvUser)
			}
			if other != p.User {
				userElsewhere = "the user comes from " + strings.TrimSuffix(strings.TrimSuffix(s.Skip, " is given"), " is set")
			}
		}
	}
	passwordFlags := []string{"password-file", "password-env", "password", "$" + EnvPassword}
	if p.PasswordCommand != "" || p.PasswordFile != "" {
		var s *Setting
		if p.PasswordCommand != "" {
			s = add("password_command", "(command)", "", "")
		} else {
			s = add("password_file", p.PasswordFile, "password-file", p.PasswordFile)
		}
		skipIf(s, passwordFlags...)
		if s.Skip == "" && userElsewhere != "" {
			s.Skip = userElsewhere
		}
		if s.Skip == "" && p.PasswordCommand != "" {
			res.PasswordCommand = p.PasswordCommand
		}
	}
	if p.PlainPassword {
		given := false
		for _, f := range passwordFlags {
			if strings.HasPrefix(f, "$") && getenv(f[1:]) != "" || r.given(f) {
				given = true
			}
		}
		if !given && elsewhere == "" {
			res.Warnings = append(res.Warnings, fmt.Sprintf("%s in %s: its password is not used; use passwordeval there, or --password-file, $%s or the prompt",
				p.Origin, p.File, EnvPassword))
		}
	}
	if p.From != "" {
		skipIf(add("from", p.From, "from", p.From), "from", "$"+EnvFrom)
	}
	if p.Helo != "" {
		skipIf(add("helo", p.Helo, "helo", p.Helo), "helo", "$"+EnvHelo)
	}
	if len(p.Headers) > 0 {
		mine := map[string]bool{}
		if r.given("header") && r.Value != nil {
			for _, h := range r.Value("header") {
				mine[HeaderName(h)] = true
			}
		}
		for _, h := range p.Headers {
			s := add("headers", h, "header", h)
			switch {
			case r.given("data"):
				s.Skip = "--data sends the message as it is"
			case mine[HeaderName(h)]:
				s.Skip = "--header " + strings.TrimSpace(strings.SplitN(h, ":", 2)[0]) + " is given"
			}
		}
	}
}

// sameServer compares two server strings as targets, so that "h" and
// "h:25" are the same server.
func sameServer(a, b string) bool {
	if a == b {
		return true
	}
	ta, err1 := target.Parse(a, 25)
	tb, err2 := target.Parse(b, 25)
	if err1 != nil || err2 != nil {
		return false
	}
	return ta.Network == tb.Network && strings.EqualFold(ta.Host, tb.Host) && ta.Port == tb.Port && ta.Path == tb.Path
}

// ProfileNames lists the profiles in the config file a command line would
// read (for shell completion); errors give no names.
func ProfileNames(getenv func(string) string, file string) []string {
	if file == "" {
		if file = getenv(EnvConfig); file == "" {
			file = DefaultPath(getenv)
		}
	}
	f, err := Load(file, Home(getenv))
	if err != nil {
		return nil
	}
	return f.Names()
}
