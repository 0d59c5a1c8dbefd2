package send

import (
	"errors"
	"strings"
	"time"

	"github.com/smtpx/smtpx/internal/auth"
	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/secret"
	"github.com/smtpx/smtpx/internal/target"
)

// NewDSN checks the RFC 3461 options as the user gave them.
func NewDSN(notify, ret, envid string, orcpt bool) (DSN, error) {
	if notify != "" {
		parts := strings.Split(strings.ToUpper(notify), ",")
		for _, p := range parts {
			switch p {
			case "SUCCESS", "FAILURE", "DELAY":
			case "NEVER":
				if len(parts) > 1 {
					return DSN{}, exitcode.Usagef("NEVER stands alone", "--notify NEVER cannot be combined with other values")
				}
			default:
				return DSN{}, exitcode.Usagef("use NEVER or a list of SUCCESS,FAILURE,DELAY", "--notify: %q is not a DSN notify value", p)
			}
		}
	}
	if r := strings.ToUpper(ret); r != "" && r != "FULL" && r != "HDRS" {
		return DSN{}, exitcode.Usagef("use --ret FULL or --ret HDRS", "--ret %q is not FULL or HDRS", ret)
	}
	for i := 0; i < len(envid); i++ {
		if envid[i] < 0x20 || envid[i] > 0x7e {
			return DSN{}, exitcode.Usagef("use printable ASCII in --envid", "--envid contains a control or non-ASCII byte")
		}
	}
	if len(envid) > 100 {
		return DSN{}, exitcode.Usagef("keep --envid to 100 characters (RFC 3461 §4.4)", "--envid is too long")
	}
	return DSN{Notify: strings.ToUpper(notify), Ret: strings.ToUpper(ret), EnvID: envid, ORcpt: orcpt}, nil
}

// CheckParams refuses raw MAIL or RCPT parameters that are empty or would
// break the command line.
func CheckParams(params ...[]string) error {
	for _, list := range params {
		for _, p := range list {
			if strings.ContainsAny(p, "\r\n") || strings.TrimSpace(p) == "" {
				return exitcode.Usagef("give one KEYWORD[=VALUE] per --mail-param/--rcpt-param", "parameter %q is empty or has a line break", p)
			}
		}
	}
	return nil
}

// AuthInput is what the user said about authentication.
type AuthInput struct {
	Mech                string // "", "auto" or a mechanism name
	User                string
	PasswordFile        string
	PasswordEnv         string
	Password            string // from argv: works, with a warning
	PasswordCommand     string // a profile's password_command
	TokenFile, TokenEnv string
	CertAuth            bool // a client certificate is configured (EXTERNAL)
	Host                string
	Port                int
	Routed              bool // no server was named: the recipients' domains choose it
	Getenv              func(string) string
	Prompt              func(string) (string, error) // nil: no terminal to ask on
	CommandTimeout      time.Duration
	PasswordEnvDefault  string // e.g. SMTPX_PASSWORD
	TokenEnvDefault     string // e.g. SMTPX_OAUTH_TOKEN
}

// Wanted reports whether the user asked for AUTH in any way.
func (in AuthInput) Wanted() bool {
	return in.Mech != "" || in.User != "" || in.PasswordFile != "" || in.PasswordEnv != "" || in.Password != "" ||
		in.TokenFile != "" || in.TokenEnv != ""
}

// NewAuth resolves the credentials, or returns nil when no AUTH is wanted.
// Warnings (a password on argv, a password file others can read) are
// returned for the caller to show.
//
// Credentials never go to a server chosen by DNS: any domain can name any
// MX, with a valid certificate for its own name. The environment's and a
// profile's credentials are dropped before this (config); what is left
// came from the command line, and with Routed is a usage error.
func NewAuth(in AuthInput) (*AuthOptions, []string, error) {
	if !in.Wanted() {
		return nil, nil, nil
	}
	if in.Routed {
		return nil, nil, exitcode.Usagef("name the submission server with --server", "AUTH needs a server named with --server: a send routed by DNS never authenticates")
	}
	mech := strings.ToUpper(in.Mech)
	if mech == "AUTO" {
		mech = ""
	}
	if mech != "" && !auth.Supported(mech) {
		return nil, nil, exitcode.Usagef("use one of "+strings.Join(auth.Mechanisms, ", "), "--auth: unsupported mechanism %q", in.Mech)
	}
	creds := auth.Credentials{User: in.User, CertAuth: in.CertAuth, Host: in.Host, Port: in.Port}
	var warnings []string
	needToken := mech == "XOAUTH2" || mech == "OAUTHBEARER" || in.TokenFile != "" || in.TokenEnv != ""
	switch {
	case mech == "EXTERNAL":
		if !creds.CertAuth {
			return nil, nil, exitcode.Usagef("give --cert and --key", "--auth=EXTERNAL needs a client certificate")
		}
	case needToken:
		s, err := secret.Sources{Name: "OAuth token", File: in.TokenFile, EnvVar: in.TokenEnv, Default: in.TokenEnvDefault,
			Getenv: in.Getenv, Prompt: in.Prompt}.Find()
		if err != nil {
			return nil, nil, secretErr(err, "--oauth-token-file or --oauth-token-env")
		}
		warnings = appendWarning(warnings, s)
		creds.Token = s.Value
	default:
		if in.User == "" {
			return nil, nil, exitcode.Usagef("add --user NAME", "AUTH needs a user name")
		}
		if strings.ContainsAny(in.User, "\r\n\x00") {
			return nil, nil, exitcode.Usagef("give the user name on one line", "--user contains a line break or NUL")
		}
		s, err := secret.Sources{Name: "password", File: in.PasswordFile, EnvVar: in.PasswordEnv, Argv: in.Password, Command: in.PasswordCommand,
			Default: in.PasswordEnvDefault, Getenv: in.Getenv, Prompt: in.Prompt, Timeout: in.CommandTimeout}.Find()
		if err != nil {
			return nil, nil, secretErr(err, "--password-file, --password-env or $"+in.PasswordEnvDefault)
		}
		warnings = appendWarning(warnings, s)
		creds.Password = s.Value
	}
	return &AuthOptions{Mech: mech, Creds: creds}, warnings, nil
}

func appendWarning(w []string, s secret.Secret) []string {
	if s.Warning != "" {
		w = append(w, s.Warning)
	}
	return w
}

func secretErr(err error, how string) error {
	if errors.Is(err, secret.ErrNone) {
		return exitcode.Usagef("give it with "+how+" (or run on a terminal to be asked)", "no secret given for AUTH")
	}
	return exitcode.Usagef("check "+how, "%v", err)
}

// TLSMode applies --tls (require) and --no-tls (never) to the mode the
// server's address implies.
func TLSMode(mode target.TLSMode, require, never bool) (target.TLSMode, error) {
	switch {
	case require && never:
		return mode, exitcode.Usagef("use one of --tls and --no-tls", "--tls and --no-tls cannot be combined")
	case never && (mode == target.TLSImplicit || mode == target.TLSRequired):
		return mode, exitcode.Usagef("drop --no-tls or use an smtp:// server", "--no-tls conflicts with the server's TLS mode")
	case never:
		return target.TLSNone, nil
	case require && mode == target.TLSImplicit:
		return mode, exitcode.Usagef("use one of --tls (STARTTLS) and --tls-on-connect", "--tls and implicit TLS cannot be combined")
	case require:
		return target.TLSRequired, nil
	}
	return mode, nil
}
