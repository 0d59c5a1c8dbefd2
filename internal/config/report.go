package config

import (
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/smtpx/smtpx/internal/target"
)

// Masked stands for a secret in reports.
const Masked = "********"

// Row is one line of --print-config: a setting, its value and its origin.
type Row struct {
	Name  string `json:"name"`
	Value string `json:"value"`
	From  string `json:"from"`
	Why   string `json:"why,omitempty"` // for settings not used
}

// Report is what --print-config shows.
type Report struct {
	ConfigFile  string `json:"config_file"`
	Profile     string `json:"profile"`
	ProfileFrom string `json:"profile_from"`
	Settings    []Row  `json:"settings"`
	NotUsed     []Row  `json:"not_used"`
}

// BuildReport lists the resolved send settings: for each, the value the
// flags, the environment, the profile or the built-in default give it.
// Passwords are masked; a password_command is not shown (it may hold one).
func BuildReport(r Request, res *Result) Report {
	rep := Report{ConfigFile: res.File, Settings: []Row{}, NotUsed: []Row{}}
	if res.Profile != nil {
		rep.Profile, rep.ProfileFrom = res.Profile.Name, res.ProfileFrom
	}
	applied := map[string]Setting{}
	for _, s := range res.Applied() {
		if _, dup := applied[s.Key]; !dup {
			applied[s.Key] = s
		}
	}
	add := func(name, value, from string) {
		rep.Settings = append(rep.Settings, Row{Name: name, Value: value, From: from})
	}
	// pick returns the value of flag from the command line, else the
	// setting for key, else def.
	pick := func(flag, key, def string) (string, string) {
		if r.given(flag) {
			return r.value(flag), "--" + flag
		}
		if s, ok := applied[key]; ok {
			return s.Value, s.Origin
		}
		return def, "default"
	}

	server, serverFrom := "", ""
	switch {
	case r.given("socket"):
		add("server", "unix:"+r.value("socket"), "--socket")
	default:
		server, serverFrom = pick("server", "server", "")
		if server == "" {
			add("server", "(route by DNS: each recipient domain's MX)", serverFrom)
		} else {
			add("server", server, serverFrom)
		}
	}
	// The port matters only for servers found through DNS.
	v, from := pick("port", "port", r.value("port"))
	if server == "" && !r.given("socket") || from != "default" {
		add("port", v, from)
	}

	switch {
	case r.given("tls"):
		add("tls", TLSStartTLS, "--tls")
	case r.given("no-tls"):
		add("tls", TLSNone, "--no-tls")
	case r.given("tls-on-connect"):
		add("tls", TLSImplicit, "--tls-on-connect")
	default:
		v, from := pick("", "tls", TLSAuto)
		// A URL scheme fixes the mode when nothing else does.
		if t, err := target.Parse(server, 25); from == "default" && err == nil && strings.Contains(server, "://") {
			switch t.TLS {
			case target.TLSImplicit:
				v, from = TLSImplicit, serverFrom+" (URL scheme)"
			case target.TLSRequired:
				v, from = TLSStartTLS, serverFrom+" (URL scheme)"
			}
		}
		add("tls", v, from)
	}

	user, userFrom := pick("user", "user", "")
	authV, authFrom := pick("auth", "auth", "")
	if authV == "" {
		authV = "off"
		if user != "" || r.given("password-file") || r.given("password-env") || r.given("password") {
			authV = "auto"
		}
	}
	add("auth", authV, authFrom)
	if user == "" {
		user = "(none)"
	}
	add("user", user, userFrom)

	pw, pwFrom := Masked, ""
	_, pwFileApplied := applied["password_file"]
	switch {
	case r.given("password-file"):
		pwFrom = "--password-file " + r.value("password-file")
	case r.given("password-env"):
		pwFrom = "--password-env " + r.value("password-env")
	case r.given("password"):
		pwFrom = "--password (visible to other users)"
	case pwFileApplied:
		pwFrom = applied["password_file"].Origin + " password_file " + applied["password_file"].Value
	case res.PasswordCommand != "":
		o := applied["password_command"].Origin
		key := " password_command"
		if strings.HasPrefix(o, "msmtp") {
			key = " passwordeval"
		}
		pwFrom = o + key
	case r.env(EnvPassword) != "":
		pwFrom = "$" + EnvPassword
	default:
		pw, pwFrom = "(none: asked on a terminal when AUTH needs it)", "default"
	}
	add("password", pw, pwFrom)

	v, from = pick("from", "from", "(your user name @ this host)")
	add("from", v, from)
	v, from = pick("helo", "helo", "(this host's name)")
	add("helo", v, from)
	if r.given("header") && r.Value != nil {
		for _, h := range r.Value("header") {
			add("header", h, "--header")
		}
	}
	for _, s := range res.Applied() {
		if s.Key == "headers" {
			add("header", s.Value, s.Origin)
		}
	}
	for _, x := range []struct{ name, flag, key string }{
		{"ca_file", "ca-file", "ca_file"},
		{"insecure", "insecure", "insecure"},
		{"cert_file", "cert", "cert_file"},
		{"key_file", "key", "key_file"},
		{"tls_sni", "tls-sni", "tls_sni"},
	} {
		if v, from := pick(x.flag, x.key, ""); from != "default" {
			add(x.name, v, from)
		}
	}
	for _, s := range res.Settings {
		if s.Skip != "" {
			rep.NotUsed = append(rep.NotUsed, Row{Name: s.Key, Value: s.Value, From: s.Origin, Why: s.Skip})
		}
	}
	return rep
}

// WriteText prints the report for people, in aligned columns.
func (rep Report) WriteText(w io.Writer) error {
	file := rep.ConfigFile
	if file == "" {
		file = "(none)"
	}
	profile := "(none)"
	if rep.Profile != "" {
		from := rep.ProfileFrom
		if from == "default" {
			from = "applies when none is named"
		}
		profile = fmt.Sprintf("%s (%s)", rep.Profile, from)
	}
	rows := [][]string{{"config file", file}, {"profile", profile}, nil}
	for _, r := range rep.Settings {
		rows = append(rows, []string{r.Name, r.Value, r.From})
	}
	if len(rep.NotUsed) > 0 {
		rows = append(rows, nil, []string{"not used:"})
		for _, r := range rep.NotUsed {
			rows = append(rows, []string{r.Name, r.Value, r.From + ": " + r.Why})
		}
	}
	width := [3]int{}
	for _, row := range rows {
		for i, cell := range row {
			if i < len(row)-1 && len([]rune(clean(cell))) > width[i] {
				width[i] = len([]rune(clean(cell)))
			}
		}
	}
	var b strings.Builder
	for _, row := range rows {
		for i, cell := range row {
			cell = clean(cell)
			b.WriteString(cell)
			if i < len(row)-1 {
				b.WriteString(strings.Repeat(" ", width[i]-len([]rune(cell))+2))
			}
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// clean shows control characters escaped, so a config value cannot drive
// the terminal.
func clean(s string) string {
	if strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) && r != ' ' }) < 0 {
		return s
	}
	q := fmt.Sprintf("%q", s)
	return q[1 : len(q)-1]
}
