package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const msmtprc = `# Set default values for all following accounts.
defaults
auth           on
tls            on
tls_trust_file /etc/ssl/certs/ca-certificates.crt
logfile        ~/.msmtp.log

# Gmail
account        gmail
host           smtp.gmail.com
port           587
from           "me@gmail.com"
user           me
passwordeval   "gpg --quiet --for-your-eyes-only --no-tty --decrypt ~/.msmtp-gmail.gpg"

account        work : gmail
host           mail.example.com
tls_starttls   off
from           %U@example.com
domain         laptop.example.com
tls_certcheck  off
tls_trust_file system

account        plain
host           localhost
tls            off
auth           off
user           ignored

account        clear
host           mx.example.com
password       hunter2

account default : gmail
`

func parseMsmtp(t *testing.T, name string) (*Profile, error) {
	t.Helper()
	return ParseMsmtp("/home/u/.msmtprc", []byte(msmtprc), name, "/home/u", func(k string) string {
		return map[string]string{"USER": "alice"}[k]
	})
}

func TestMsmtpAccounts(t *testing.T) {
	for _, tt := range []struct {
		name string
		want Profile
	}{
		{"gmail", Profile{Server: "smtp.gmail.com:587", TLS: "starttls", Auth: "auto", User: "me",
			PasswordCommand: "gpg --quiet --for-your-eyes-only --no-tty --decrypt ~/.msmtp-gmail.gpg",
			From:            "me@gmail.com", CAFile: "/etc/ssl/certs/ca-certificates.crt"}},
		// Inherits from gmail; implicit TLS moves the default port, but the
		// parent's port 587 stays as written; tls_trust_file system means the
		// system's roots.
		{"work", Profile{Server: "mail.example.com:587", TLS: "implicit", Auth: "auto", User: "me",
			PasswordCommand: "gpg --quiet --for-your-eyes-only --no-tty --decrypt ~/.msmtp-gmail.gpg",
			From:            "alice@example.com", Helo: "laptop.example.com", Insecure: true}},
		{"plain", Profile{Server: "localhost:25", TLS: "none", CAFile: "/etc/ssl/certs/ca-certificates.crt"}},
		{"clear", Profile{Server: "mx.example.com:25", TLS: "starttls", Auth: "auto", PlainPassword: true, CAFile: "/etc/ssl/certs/ca-certificates.crt"}},
		{"default", Profile{Server: "smtp.gmail.com:587", TLS: "starttls", Auth: "auto", User: "me",
			PasswordCommand: "gpg --quiet --for-your-eyes-only --no-tty --decrypt ~/.msmtp-gmail.gpg",
			From:            "me@gmail.com", CAFile: "/etc/ssl/certs/ca-certificates.crt"}},
	} {
		p, err := parseMsmtp(t, tt.name)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		tt.want.Name, tt.want.Origin, tt.want.File = tt.name, `msmtp account "`+tt.name+`"`, "/home/u/.msmtprc"
		p.lines = nil
		if !reflect.DeepEqual(*p, tt.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.name, *p, tt.want)
		}
	}
}

func TestMsmtpErrors(t *testing.T) {
	if _, err := parseMsmtp(t, "nope"); err == nil || !strings.Contains(err.Error(), `no account "nope" (accounts: gmail, work, plain, clear, default)`) {
		t.Errorf("unknown account: %v", err)
	}
	for _, tt := range []struct {
		in   string
		line int
		msg  string
	}{
		{"account a\nhost h\nport x\n", 3, `account "a": port: "x" is not a port`},
		{"account a\nhost h\ntls maybe\n", 3, `tls: want on or off`},
		{"account a\nhost h\nauth gssapi\n", 3, "smtpx does not speak GSSAPI"},
		{"account a\nfrom x@y\n", 1, `account "a" has no host`},
		{"account a : b\nhost h\n", 1, `inherits from "b", which is not defined above it`},
		{"account a\nhost \"h\n", 2, "host: missing closing quote"},
		{"account\n", 1, "account without a name"},
	} {
		_, err := ParseMsmtp("rc", []byte(tt.in), "a", "", func(string) string { return "" })
		var e *Error
		if !errors.As(err, &e) || e.Line != tt.line || !strings.Contains(e.Msg, tt.msg) {
			t.Errorf("%q: got %v, want line %d: %s", tt.in, err, tt.line, tt.msg)
		}
	}
}

func TestLoadMsmtpPaths(t *testing.T) {
	home := t.TempDir()
	env := map[string]string{"HOME": home}
	getenv := func(k string) string { return env[k] }
	if _, err := LoadMsmtp(getenv, "a"); err == nil || !strings.Contains(err.Error(), "no msmtp configuration") {
		t.Errorf("missing: %v", err)
	}
	os.MkdirAll(filepath.Join(home, ".config", "msmtp"), 0o755)
	os.WriteFile(filepath.Join(home, ".config", "msmtp", "config"), []byte("account a\nhost xdg\n"), 0o600)
	if p, err := LoadMsmtp(getenv, "a"); err != nil || p.Server != "xdg:25" {
		t.Errorf("xdg: %+v %v", p, err)
	}
	os.WriteFile(filepath.Join(home, ".msmtprc"), []byte("account a\nhost rc\naccount b\nhost rc\n"), 0o600)
	if p, err := LoadMsmtp(getenv, "a"); err != nil || p.Server != "rc:25" {
		t.Errorf("~/.msmtprc first: %+v %v", p, err)
	}
	if got := MsmtpAccounts(getenv); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("accounts %q", got)
	}
}
