package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

const profiles = `[profile.default]
server = "127.0.0.1:1025"
from = "default@example.com"

[profile.work]
server = "mail.example.com"
port = 587
tls = "starttls"
user = "me@example.com"
password_command = "echo secret"
from = "me@example.com"
helo = "laptop.example.com"
headers = ["X-Tag: work", "Reply-To: team@example.com"]

[profile.nohost]
port = 2525
user = "u"
password_file = "~/pw"
`

// setup writes the config file under a fresh XDG_CONFIG_HOME.
func setup(t *testing.T, env map[string]string) map[string]string {
	t.Helper()
	home := t.TempDir()
	dir := filepath.Join(home, "xdg", "smtpx")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "config.toml"), []byte(profiles), 0o600)
	all := map[string]string{"HOME": home, "XDG_CONFIG_HOME": filepath.Join(home, "xdg")}
	for k, v := range env {
		all[k] = v
	}
	return all
}

// request builds a Request from flags given as name=value.
func request(env map[string]string, flags ...string) Request {
	given := map[string][]string{}
	for _, f := range flags {
		k, v, _ := strings.Cut(f, "=")
		given[k] = append(given[k], v)
	}
	r := Request{
		Getenv: func(k string) string { return env[k] },
		Given:  func(f string) bool { _, ok := given[f]; return ok },
		Value: func(f string) []string {
			if v, ok := given[f]; ok {
				return v
			}
			return map[string][]string{"port": {"25"}}[f]
		},
	}
	if v, ok := given["profile"]; ok {
		r.Profile = v[0]
	}
	if v, ok := given["config"]; ok {
		r.Config = v[0]
	}
	if v, ok := given["msmtp-account"]; ok {
		r.Msmtp = v[0]
	}
	return r
}

// applied renders the applied settings as flag=value (origin), sorted.
func applied(res *Result) []string {
	var s []string
	for _, x := range res.Applied() {
		flag := x.Flag
		if flag == "" {
			flag = x.Key
		}
		s = append(s, flag+"="+x.FlagValue+" ("+x.Origin+")")
	}
	sort.Strings(s)
	return s
}

func skipped(res *Result) []string {
	var s []string
	for _, x := range res.Settings {
		if x.Skip != "" {
			s = append(s, x.Key+": "+x.Skip)
		}
	}
	sort.Strings(s)
	return s
}

func TestPrecedence(t *testing.T) {
	for _, tt := range []struct {
		name    string
		env     map[string]string
		flags   []string
		applied []string
		skipped []string
		pwcmd   string
	}{
		{
			name:    "default profile applies when none is named",
			applied: []string{`from=default@example.com (profile "default")`, `server=127.0.0.1:1025 (profile "default")`},
		},
		{
			name:  "a named profile, fully",
			flags: []string{"profile=work"},
			applied: []string{
				`from=me@example.com (profile "work")`, `header=Reply-To: team@example.com (profile "work")`,
				`header=X-Tag: work (profile "work")`, `helo=laptop.example.com (profile "work")`, `password_command= (profile "work")`,
				`server=mail.example.com:587 (profile "work")`, `tls=true (profile "work")`, `user=me@example.com (profile "work")`,
			},
			pwcmd: "echo secret",
		},
		{
			name:  "SMTPX_PROFILE selects, environment beats profile, flags beat both",
			env:   map[string]string{"SMTPX_PROFILE": "work", "SMTPX_FROM": "env@example.com", "SMTPX_HELO": "envhelo"},
			flags: []string{"helo=flaghelo", "header=x-tag: mine", "tls-on-connect=true"},
			applied: []string{
				`from=env@example.com ($SMTPX_FROM)`, `header=Reply-To: team@example.com (profile "work")`,
				`password_command= (profile "work")`, `server=mail.example.com:587 (profile "work")`, `user=me@example.com (profile "work")`,
			},
			skipped: []string{"from: $SMTPX_FROM is set", "headers: --header X-Tag is given", "helo: --helo is given",
				"helo: --helo is given", "tls: --tls-on-connect is given"},
			pwcmd: "echo secret",
		},
		{
			name:    "another server: the profile's credentials and TLS stay home",
			flags:   []string{"profile=work", "server=127.0.0.1:2525"},
			applied: []string{`from=me@example.com (profile "work")`, `header=Reply-To: team@example.com (profile "work")`, `header=X-Tag: work (profile "work")`, `helo=laptop.example.com (profile "work")`},
			skipped: []string{"password_command: the server comes from --server", "server: --server is given",
				"tls: the server comes from --server", "user: the server comes from --server"},
		},
		{
			name:    "the same server named on the command line keeps them",
			flags:   []string{"profile=work", "server=MAIL.example.com:587"},
			applied: []string{`from=me@example.com (profile "work")`, `header=Reply-To: team@example.com (profile "work")`, `header=X-Tag: work (profile "work")`, `helo=laptop.example.com (profile "work")`, `password_command= (profile "work")`, `tls=true (profile "work")`, `user=me@example.com (profile "work")`},
			skipped: []string{"server: --server is given"},
			pwcmd:   "echo secret",
		},
		{
			name:    "SMTPX_SERVER names another server",
			env:     map[string]string{"SMTPX_SERVER": "localhost:1025"},
			flags:   []string{"profile=work", "data=@m.eml"},
			applied: []string{"server=localhost:1025 ($SMTPX_SERVER)", `from=me@example.com (profile "work")`, `helo=laptop.example.com (profile "work")`},
			skipped: []string{"headers: --data sends the message as it is", "headers: --data sends the message as it is",
				"password_command: the server comes from $SMTPX_SERVER", "server: $SMTPX_SERVER is set",
				"tls: the server comes from $SMTPX_SERVER", "user: the server comes from $SMTPX_SERVER"},
		},
		{
			name:    "another user: the profile's password is not theirs",
			env:     map[string]string{"SMTPX_USER": "other"},
			flags:   []string{"profile=work"},
			applied: []string{"user=other ($SMTPX_USER)", `from=me@example.com (profile "work")`, `header=Reply-To: team@example.com (profile "work")`, `header=X-Tag: work (profile "work")`, `helo=laptop.example.com (profile "work")`, `server=mail.example.com:587 (profile "work")`, `tls=true (profile "work")`},
			skipped: []string{"password_command: the user comes from $SMTPX_USER", "user: $SMTPX_USER is set"},
		},
		{
			name:    "SMTPX_PASSWORD beats password_command",
			env:     map[string]string{"SMTPX_PASSWORD": "x"},
			flags:   []string{"profile=work", "from=f@example.com", "helo=h", "header=X-Tag: a", "header=Reply-To: b"},
			applied: []string{`server=mail.example.com:587 (profile "work")`, `tls=true (profile "work")`, `user=me@example.com (profile "work")`},
			skipped: []string{"from: --from is given", "headers: --header Reply-To is given", "headers: --header X-Tag is given", "helo: --helo is given", "password_command: $SMTPX_PASSWORD is set"},
		},
		{
			name:    "--password-file beats password_command",
			flags:   []string{"profile=work", "password-file=pw", "server=mail.example.com:587", "tls=true", "user=me@example.com", "data=-", "from=a@b", "helo=h"},
			skipped: []string{"from: --from is given", "headers: --data sends the message as it is", "headers: --data sends the message as it is", "helo: --helo is given", "password_command: --password-file is given", "server: --server is given", "tls: --tls is given", "user: --user is given"},
		},
		{
			name:    "a profile without a server sets the DNS port and travels with any server",
			flags:   []string{"profile=nohost", "server=x"},
			applied: []string{"password-file=HOME/pw (profile \"nohost\")", `port=2525 (profile "nohost")`, `user=u (profile "nohost")`},
		},
		{
			name:    "no server named: the profile's credentials are not used for DNS routing",
			flags:   []string{"profile=nohost"},
			applied: []string{`port=2525 (profile "nohost")`},
			skipped: []string{"password_file: " + NoServer, "user: " + NoServer},
		},
		{
			name:    "no server named: the environment's user is not used",
			env:     map[string]string{"SMTPX_USER": "me", "SMTPX_PASSWORD": "pw"},
			flags:   []string{"profile=nohost"},
			applied: []string{`port=2525 (profile "nohost")`},
			skipped: []string{"password_file: $SMTPX_PASSWORD is set", "user: $SMTPX_USER is set", "user: " + NoServer},
		},
		{
			name:    "the environment's user goes to the server $SMTPX_SERVER names",
			env:     map[string]string{"SMTPX_USER": "me", "SMTPX_SERVER": "127.0.0.1:587"},
			applied: []string{"server=127.0.0.1:587 ($SMTPX_SERVER)", "user=me ($SMTPX_USER)", `from=default@example.com (profile "default")`},
			skipped: []string{"server: $SMTPX_SERVER is set"},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := setup(t, tt.env)
			res, err := Resolve(request(env, tt.flags...))
			if err != nil {
				t.Fatal(err)
			}
			got := applied(res)
			for i := range got {
				got[i] = strings.ReplaceAll(got[i], env["HOME"], "HOME")
			}
			want := append([]string{}, tt.applied...)
			sort.Strings(want)
			if !reflect.DeepEqual(got, want) && len(got)+len(want) > 0 {
				t.Errorf("applied:\n got %q\nwant %q", got, want)
			}
			if got, want := skipped(res), tt.skipped; !reflect.DeepEqual(got, want) && len(got)+len(want) > 0 {
				t.Errorf("skipped:\n got %q\nwant %q", got, want)
			}
			if res.PasswordCommand != tt.pwcmd {
				t.Errorf("password command %q, want %q", res.PasswordCommand, tt.pwcmd)
			}
		})
	}
}

func TestSelectErrors(t *testing.T) {
	for _, tt := range []struct {
		env   map[string]string
		flags []string
		msg   string
		hint  string
	}{
		{nil, []string{"profile=nope"}, `no profile "nope" (--profile) in`, "profiles in the file: default, nohost, work"},
		{map[string]string{"SMTPX_PROFILE": "nope"}, nil, `no profile "nope" ($SMTPX_PROFILE)`, ""},
		{nil, []string{"config=/nonexistent/c.toml"}, "config file /nonexistent/c.toml (--config) does not exist", ""},
		{map[string]string{"SMTPX_CONFIG": "/nonexistent/c.toml"}, nil, "($SMTPX_CONFIG) does not exist", ""},
		{map[string]string{"XDG_CONFIG_HOME": "/nonexistent"}, []string{"profile=work"}, `profile "work" (--profile): there is no config file /nonexistent/smtpx/config.toml`, ""},
		{nil, []string{"profile=work", "msmtp-account=a"}, "--profile and --msmtp-account cannot be combined", ""},
		{map[string]string{"SMTPX_FROM": "a@b\r\nRCPT"}, nil, "SMTPX_FROM contains a line break", ""},
	} {
		env := setup(t, tt.env)
		_, err := Resolve(request(env, tt.flags...))
		var ue *UsageError
		if !errors.As(err, &ue) || !strings.Contains(ue.Msg, tt.msg) || !strings.Contains(ue.Hint, tt.hint) {
			t.Errorf("%v %v: got %v, want %s", tt.env, tt.flags, err, tt.msg)
		}
	}
	// No config file and no profile named: nothing to do.
	res, err := Resolve(request(map[string]string{"HOME": t.TempDir()}))
	if err != nil || res.Profile != nil || res.File != "" {
		t.Errorf("no config: %+v %v", res, err)
	}
	// A broken file is an *Error with its line, even for the default profile.
	env := setup(t, nil)
	os.WriteFile(filepath.Join(env["XDG_CONFIG_HOME"], "smtpx", "config.toml"), []byte("[profile.default]\nport = 'x'\n"), 0o600)
	_, err = Resolve(request(env))
	var ce *Error
	if !errors.As(err, &ce) || ce.Line != 2 {
		t.Errorf("broken default: %v", err)
	}
}

func TestMsmtpResolve(t *testing.T) {
	env := setup(t, nil)
	os.WriteFile(filepath.Join(env["HOME"], ".msmtprc"), []byte("account clear\nhost mx.example.com\nuser u\npassword hunter2\n"), 0o600)
	res, err := Resolve(request(env, "msmtp-account=clear"))
	if err != nil {
		t.Fatal(err)
	}
	if res.ProfileFrom != "--msmtp-account" || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "its password is not used") {
		t.Errorf("%+v", res)
	}
	for _, w := range res.Warnings {
		if strings.Contains(w, "hunter2") {
			t.Error("the password appears in a warning")
		}
	}
	env["SMTPX_PASSWORD"] = "x"
	if res, _ := Resolve(request(env, "msmtp-account=clear")); len(res.Warnings) != 0 {
		t.Errorf("warned although SMTPX_PASSWORD is set: %q", res.Warnings)
	}
}

func TestReport(t *testing.T) {
	env := setup(t, map[string]string{"SMTPX_FROM": "env@example.com"})
	r := request(env, "profile=work", "helo=flag.example.com")
	res, err := Resolve(r)
	if err != nil {
		t.Fatal(err)
	}
	rep := BuildReport(r, res)
	var b strings.Builder
	rep.WriteText(&b)
	out := strings.ReplaceAll(b.String(), env["HOME"], "HOME")
	want := `config file  HOME/xdg/smtpx/config.toml
profile      work (--profile)

server       mail.example.com:587        profile "work"
tls          starttls                    profile "work"
auth         auto                        default
user         me@example.com              profile "work"
password     ********                    profile "work" password_command
from         env@example.com             $SMTPX_FROM
helo         flag.example.com            --helo
header       X-Tag: work                 profile "work"
header       Reply-To: team@example.com  profile "work"

not used:
from         me@example.com              profile "work": $SMTPX_FROM is set
helo         laptop.example.com          profile "work": --helo is given
`
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
	if strings.Contains(out, "echo secret") {
		t.Error("the password command is shown")
	}
}
