package config

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/smtpx/smtpx/internal/auth"
)

// MsmtpPaths returns where msmtp looks for its configuration, in order:
// ~/.msmtprc, then $XDG_CONFIG_HOME/msmtp/config.
func MsmtpPaths(getenv func(string) string) []string {
	var p []string
	if home := Home(getenv); home != "" {
		p = append(p, filepath.Join(home, ".msmtprc"))
	}
	if dir := ConfigDir(getenv); dir != "" {
		p = append(p, filepath.Join(dir, "msmtp", "config"))
	}
	return p
}

// LoadMsmtp reads account name from the first msmtp configuration file
// that exists.
func LoadMsmtp(getenv func(string) string, name string) (*Profile, error) {
	paths := MsmtpPaths(getenv)
	for _, path := range paths {
		data, err := readFile(path)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, &Error{File: path, Msg: "cannot read the msmtp configuration: " + plainErr(err)}
		}
		return ParseMsmtp(path, data, name, Home(getenv), getenv)
	}
	return nil, &Error{Msg: fmt.Sprintf("--msmtp-account %s: no msmtp configuration (looked for %s)", name, strings.Join(paths, " and "))}
}

// msmtpAccount is one account as written: its settings and their lines.
type msmtpAccount struct {
	set   map[string]string
	lines map[string]int
	line  int
}

// ParseMsmtp reads account name from an msmtp configuration: "defaults",
// "account NAME [: PARENT[,PARENT...]]" and "key value" lines, with
// double-quoted values. Only the keys that mean something to smtpx are
// read (host, port, from, domain, auth, user, password, passwordeval,
// tls, tls_starttls, tls_trust_file, tls_certcheck, tls_cert_file,
// tls_key_file, tls_host_override, protocol); the rest are ignored.
func ParseMsmtp(path string, data []byte, name, home string, getenv func(string) string) (*Profile, error) {
	defaults := &msmtpAccount{set: map[string]string{}, lines: map[string]int{}}
	accounts := map[string]*msmtpAccount{}
	var order []string
	cur := defaults
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		cmd, arg, _ := strings.Cut(line, " ")
		if i := strings.IndexByte(cmd, '\t'); i >= 0 {
			cmd, arg = line[:i], line[i+1:]
		}
		arg = strings.TrimSpace(arg)
		switch cmd {
		case "defaults":
			cur = defaults
			continue
		case "account":
			acctName, parents, hasParents := strings.Cut(arg, ":")
			acctName = strings.TrimSpace(acctName)
			if acctName == "" {
				return nil, &Error{File: path, Line: n, Msg: "account without a name"}
			}
			a := &msmtpAccount{set: map[string]string{}, lines: map[string]int{}, line: n}
			for k, v := range defaults.set {
				a.set[k], a.lines[k] = v, defaults.lines[k]
			}
			if hasParents {
				for _, pn := range strings.Split(parents, ",") {
					pn = strings.TrimSpace(pn)
					pa, ok := accounts[pn]
					if !ok {
						return nil, &Error{File: path, Line: n, Msg: fmt.Sprintf("account %q inherits from %q, which is not defined above it", acctName, pn)}
					}
					for k, v := range pa.set {
						a.set[k], a.lines[k] = v, pa.lines[k]
					}
				}
			}
			if _, dup := accounts[acctName]; !dup {
				order = append(order, acctName)
			}
			accounts[acctName] = a
			cur = a
			continue
		}
		v, err := msmtpValue(arg)
		if err != nil {
			return nil, &Error{File: path, Line: n, Msg: fmt.Sprintf("%s: %v", cmd, err)}
		}
		cur.set[cmd], cur.lines[cmd] = v, n
	}
	a, ok := accounts[name]
	if !ok {
		msg := fmt.Sprintf("no account %q", name)
		if len(order) > 0 {
			msg += " (accounts: " + strings.Join(order, ", ") + ")"
		}
		return nil, &Error{File: path, Msg: msg}
	}
	p, err := a.profile(name, path, home, getenv)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// msmtpValue unquotes a value: "a \"b\"" -> a "b"; bare values are as written.
func msmtpValue(s string) (string, error) {
	if !strings.HasPrefix(s, `"`) {
		return s, nil
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			}
		case '"':
			if strings.TrimSpace(s[i+1:]) != "" {
				return "", fmt.Errorf("text after the closing quote")
			}
			return b.String(), nil
		default:
			b.WriteByte(c)
		}
	}
	return "", fmt.Errorf("missing closing quote")
}

func onOff(v string) (bool, bool) {
	switch strings.ToLower(v) {
	case "", "on":
		return true, true
	case "off":
		return false, true
	}
	return false, false
}

// profile turns an msmtp account into a Profile.
func (a *msmtpAccount) profile(name, path, home string, getenv func(string) string) (*Profile, error) {
	p := &Profile{Name: name, Origin: fmt.Sprintf("msmtp account %q", name), File: path, lines: map[string]int{}}
	errAt := func(key, format string, args ...any) error {
		return &Error{File: path, Line: a.lines[key], Msg: fmt.Sprintf("account %q: %s: ", name, key) + fmt.Sprintf(format, args...)}
	}
	get := func(k string) (string, bool) { v, ok := a.set[k]; return v, ok }
	mark := func(ours, theirs string) { p.lines[ours] = a.lines[theirs] }

	tls, starttls := false, true
	if v, ok := get("tls"); ok {
		b, valid := onOff(v)
		if !valid {
			return nil, errAt("tls", "want on or off, got %q", v)
		}
		tls = b
	}
	if v, ok := get("tls_starttls"); ok {
		b, valid := onOff(v)
		if !valid {
			return nil, errAt("tls_starttls", "want on or off, got %q", v)
		}
		starttls = b
	}
	switch {
	case !tls:
		p.TLS = TLSNone
	case starttls:
		p.TLS = TLSStartTLS
	default:
		p.TLS = TLSImplicit
	}
	mark("tls", "tls")

	host, _ := get("host")
	if host == "" {
		return nil, &Error{File: path, Line: a.line, Msg: fmt.Sprintf("account %q has no host", name)}
	}
	port := 25
	if p.TLS == TLSImplicit {
		port = 465
	}
	if v, ok := get("port"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 65535 {
			return nil, errAt("port", "%q is not a port from 1 to 65535", v)
		}
		port = n
	}
	p.Server = net.JoinHostPort(host, strconv.Itoa(port))
	mark("server", "host")
	if v, _ := get("protocol"); v == "lmtp" {
		p.Server = "lmtp://" + p.Server
	}

	authOn := true
	if v, ok := get("auth"); ok {
		switch strings.ToLower(v) {
		case "", "on":
			p.Auth = "auto"
		case "off":
			authOn = false
		default:
			m := strings.ToUpper(v)
			if !auth.Supported(m) {
				return nil, errAt("auth", "smtpx does not speak %s (it speaks %s)", m, strings.Join(auth.Mechanisms, ", "))
			}
			p.Auth = m
		}
		mark("auth", "auth")
	}
	if authOn {
		p.User, _ = get("user")
		mark("user", "user")
		p.PasswordCommand, _ = get("passwordeval")
		mark("password_command", "passwordeval")
		if v, _ := get("password"); v != "" && p.PasswordCommand == "" {
			p.PlainPassword = true
		}
	}
	if v, ok := get("from"); ok {
		p.From = msmtpExpand(v, a.set["maildomain"], getenv)
		mark("from", "from")
	}
	if v, ok := get("domain"); ok {
		p.Helo = v
		mark("helo", "domain")
	}
	if v, ok := get("tls_trust_file"); ok && v != "" && v != "system" {
		p.CAFile = v
		mark("ca_file", "tls_trust_file")
	}
	if v, ok := get("tls_certcheck"); ok {
		b, valid := onOff(v)
		if !valid {
			return nil, errAt("tls_certcheck", "want on or off, got %q", v)
		}
		p.Insecure = !b
		mark("insecure", "tls_certcheck")
	}
	p.CertFile, _ = get("tls_cert_file")
	mark("cert_file", "tls_cert_file")
	p.KeyFile, _ = get("tls_key_file")
	mark("key_file", "tls_key_file")
	p.TLSSNI, _ = get("tls_host_override")
	mark("tls_sni", "tls_host_override")
	p.expand(home)
	if err := p.Check(); err != nil {
		if ke, ok := err.(*keyError); ok {
			return nil, &Error{File: path, Line: p.lines[ke.key], Msg: fmt.Sprintf("account %q: %s", name, ke.msg)}
		}
		return nil, err
	}
	return p, nil
}

// msmtpExpand substitutes msmtp's from patterns: %U user, %H and %C host
// name, %M maildomain, %% a percent sign.
func msmtpExpand(s, maildomain string, getenv func(string) string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	host, _ := os.Hostname()
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case 'U':
			b.WriteString(getenv("USER"))
		case 'H', 'C':
			b.WriteString(host)
		case 'M':
			b.WriteString(maildomain)
		case '%':
			b.WriteByte('%')
		default:
			b.WriteByte('%')
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// MsmtpAccounts lists the accounts in the msmtp configuration (for shell
// completion).
func MsmtpAccounts(getenv func(string) string) []string {
	for _, path := range MsmtpPaths(getenv) {
		data, err := readFile(path)
		if err != nil {
			continue
		}
		var names []string
		seen := map[string]bool{}
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) >= 2 && f[0] == "account" {
				name := strings.TrimSpace(strings.SplitN(strings.Join(f[1:], " "), ":", 2)[0])
				if name != "" && !seen[name] {
					seen[name] = true
					names = append(names, name)
				}
			}
		}
		return names
	}
	return nil
}
