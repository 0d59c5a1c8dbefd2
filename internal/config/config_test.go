package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

const good = `# smtpx profiles
[profile.default]
server = "127.0.0.1:1025"

[profile.work]
server = "mail.example.com"
port = 587
tls = "starttls"
auth = "plain"
user = "me@example.com"
password_command = "pass show smtp"
from = "Me <me@example.com>"
helo = "laptop.example.com"
headers = ["X-Tag: ci", "Reply-To: team@example.com"]
ca_file = "~/ca.pem"

[profile."with space"]
server = "smtps://mx.example.com"
insecure = true
`

func TestParseGood(t *testing.T) {
	f, err := Parse("c.toml", []byte(good), "/home/u")
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Names(); !reflect.DeepEqual(got, []string{"default", "with space", "work"}) {
		t.Errorf("names %q", got)
	}
	w := f.Profiles["work"]
	want := Profile{Name: "work", Origin: `profile "work"`, File: "c.toml", Server: "mail.example.com", Port: 587, TLS: "starttls",
		Auth: "plain", User: "me@example.com", PasswordCommand: "pass show smtp", From: "Me <me@example.com>",
		Helo: "laptop.example.com", Headers: []string{"X-Tag: ci", "Reply-To: team@example.com"}, CAFile: "/home/u/ca.pem"}
	if !reflect.DeepEqual(*w, want) {
		t.Errorf("work:\n got %+v\nwant %+v", *w, want)
	}
	if s := w.ServerWithPort(); s != "mail.example.com:587" {
		t.Errorf("ServerWithPort %q", s)
	}
	if !f.Profiles["with space"].Insecure {
		t.Error("quoted profile name")
	}
}

func TestServerWithPort(t *testing.T) {
	for _, tt := range []struct {
		server string
		port   int
		want   string
	}{
		{"h", 0, "h"},
		{"h", 2525, "h:2525"},
		{"::1", 2525, "[::1]:2525"},
		{"[::1]", 2525, "[::1]:2525"},
		{"submission://h", 2587, "submission://h:2587"},
	} {
		p := Profile{Server: tt.server, Port: tt.port}
		if got := p.ServerWithPort(); got != tt.want {
			t.Errorf("%q %d: %q, want %q", tt.server, tt.port, got, tt.want)
		}
	}
}

// Every mistake names the file and the line it is on.
func TestParseErrors(t *testing.T) {
	for _, tt := range []struct {
		in   string
		line int
		msg  string
	}{
		{"[profile.a]\nserver = \n", 2, "invalid TOML: unexpected character U+000A at start of value"},
		{"[profile.a]\nserver = 'x'\n[profile.a]\n", 3, "invalid TOML: table a already exists"},
		{"server = \"x\"\n", 1, `unknown key "server": settings go in a [profile.NAME] table`},
		{"[profile.a]\n\nsever = \"x\"\n", 3, `profile "a": sever: unknown key (a profile may set server, port,`},
		{"[profile.a]\nport = \"587\"\n", 2, `profile "a": port: want a number, got a string`},
		{"[profile.a]\nport = 70000\n", 2, `profile "a": port: 70000 is not a port from 1 to 65535`},
		{"[profile.a]\nserver = \"h:25\"\nport = 26\n", 3, `profile "a": port: the server "h:25" already names a port`},
		{"[profile.a]\nserver = \"h\"\ntls = \"yes\"\n", 3, `profile "a": tls: "yes" is not one of auto, starttls, implicit, none`},
		{"[profile.a]\nserver = \"smtps://h\"\ntls = \"starttls\"\n", 3, `tls: "starttls" contradicts the server's URL scheme`},
		{"[profile.a]\nserver = \"ftp://h\"\n", 2, `server: "ftp://h": unknown scheme`},
		{"[profile.a]\nauth = \"NTLM\"\n", 2, `auth: "NTLM" is not auto or one of`},
		{"[profile.a]\nuser = 'a'\npassword_command = 'x'\npassword_file = 'y'\n", 4, "give one of password_command and password_file"},
		{"[profile.a]\nheaders = \"X: y\"\n", 2, "headers: want a list of strings"},
		{"[profile.a]\nheaders = [\"no colon\"]\n", 2, `headers: "no colon" is not "Name: value"`},
		{"[profile.a]\nhelo = \"a\\r\\nMAIL\"\n", 2, "helo: must not contain a line break"},
		{"[profile.a]\ninsecure = \"yes\"\n", 2, "insecure: want true or false"},
		{"profile = 3\n", 1, "profile must be a table"},
		{"[profile]\na = 3\n", 2, "profile.a must be a table"},
		{"[profile.a.b]\nc = 1\n", 1, `profile "a": b: unknown key`},
	} {
		_, err := Parse("/etc/c.toml", []byte(tt.in), "")
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%q: %v is not an *Error", tt.in, err)
			continue
		}
		if e.File != "/etc/c.toml" || e.Line != tt.line || !strings.Contains(e.Msg, tt.msg) {
			t.Errorf("%q:\n got %s (line %d)\nwant line %d: %s", tt.in, err, e.Line, tt.line, tt.msg)
		}
		if !strings.HasPrefix(err.Error(), "/etc/c.toml:") {
			t.Errorf("%q: %s does not start with the file", tt.in, err)
		}
	}
}

// Errors found after decoding (a value out of range, keys that contradict
// each other) name the line of the key however the file is written.
func TestErrorLines(t *testing.T) {
	for _, tt := range []struct {
		in   string
		line int
		msg  string
	}{
		// an escaped quote in a profile name
		{"[profile.ok]\nserver = \"h\"\n\n[profile.\"a\\\"b\"]\nport = 70000\n", 5, `profile "a\"b": port: 70000 is not a port`},
		// a multi-line string that looks like keys and tables
		{"[profile.a]\npassword_command = \"\"\"\nport = 1\n[profile.b]\n\"\"\"\nport = 0\n", 6, "port: 0 is not a port"},
		// a dotted key at the top level
		{"# c\n\nprofile.a.server = \"h:25\"\nprofile.a.port = 26\n", 4, "already names a port"},
		// a profile written as an inline table, on one line
		{"[profile]\n\na = { server = \"h\", tls = \"yes\" }\n", 3, `tls: "yes" is not one of`},
		{"[profile]\na = { port = \"x\" }\n", 2, "port: want a number, got a string"},
		{"[profile]\na = { sever = \"x\" }\n", 2, `profile "a": sever: unknown key`},
		// a multi-line array: the element's line
		{"[profile.a]\nheaders = [\n  \"X: y\",\n  3,\n]\n", 4, "headers: want strings, got a number"},
		// a key made a table by a dotted key under it
		{"[profile.a]\nserver.x = 1\n", 2, "server: want a string, got a table"},
		{"[profile.a.server]\nx = 1\n", 1, "server: want a string, got a table"},
		// several unknown keys: the first in the file
		{"[profile.b]\nzzz = 1\n[profile.a]\naaa = 1\n", 2, `profile "b": zzz: unknown key`},
		{"[other]\nx = 1\n", 1, `unknown key "other": settings go in a [profile.NAME] table`},
		{"[[profile]]\nx = 1\n", 1, "profile must be a table of profiles"},
		{"[profile.a]\nserver = 1979-05-27\n", 2, "server: want a string, got a date"},
		{"[profile.a]\nport = 1.5\n", 2, "port: want a number, got a decimal number"},
	} {
		_, err := Parse("c.toml", []byte(tt.in), "")
		var e *Error
		if !errors.As(err, &e) || e.Line != tt.line || !strings.Contains(e.Msg, tt.msg) {
			t.Errorf("%q:\n got %v\nwant c.toml:%d: %s", tt.in, err, tt.line, tt.msg)
		}
	}
}

// Keys, which errors list, are the keys a profile table decodes.
func TestKeysAreTheTable(t *testing.T) {
	var tags []string
	ty := reflect.TypeFor[table]()
	for i := range ty.NumField() {
		tags = append(tags, ty.Field(i).Tag.Get("toml"))
	}
	if !reflect.DeepEqual(tags, Keys) {
		t.Errorf("table's keys %q, Keys %q", tags, Keys)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(good))
	f.Add([]byte("[profile.a]\nport = 1\n"))
	f.Add([]byte("[profile]\na = { server = \"h:25\", port = 26, headers = [\"X: y\", 1] }\n"))
	f.Add([]byte("profile.\"a.b\".tls = 'implicit'\nprofile.\"a.b\".server = \"submission://h\"\n"))
	f.Add([]byte("[profile.a]\npassword_command = \"\"\"\nx\n\"\"\"\nsever = 1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse("f.toml", data, "/h")
		if err != nil {
			// Every mistake is somewhere in the file: it has a line.
			var e *Error
			if !errors.As(err, &e) || e.File != "f.toml" || e.Line < 1 {
				t.Fatalf("error %v is not located", err)
			}
			return
		}
		for _, p := range file.Profiles {
			if err := p.Check(); err != nil {
				t.Fatalf("a parsed profile fails its check: %v", err)
			}
		}
	})
}
