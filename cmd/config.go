package cmd

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/smtpx/smtpx/internal/config"
	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/help"
)

// configFlags select where send's settings come from.
type configFlags struct {
	file    string
	profile string
	msmtp   string
	print   bool
}

func (cf *configFlags) register(c *cobra.Command) {
	cf.registerSelect(c)
	c.Flags().BoolVar(&cf.print, "print-config", false, "print the resolved settings and where each comes from (password masked), and send nothing")
}

// registerSelect adds the flags that choose the config file and profile.
func (cf *configFlags) registerSelect(c *cobra.Command) {
	fs := c.Flags()
	fs.StringVar(&cf.file, "config", "", "read profiles from `FILE` (default: $SMTPX_CONFIG, else $XDG_CONFIG_HOME/smtpx/config.toml)")
	fs.StringVar(&cf.profile, "profile", "", "use profile `NAME` from the config file (default: $SMTPX_PROFILE, else the profile named default)")
	fs.StringVar(&cf.msmtp, "msmtp-account", "", "use msmtp's account `NAME` from ~/.msmtprc instead of a profile")
	_ = c.MarkFlagFilename("config", "toml")
	_ = c.RegisterFlagCompletionFunc("profile", func(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
		return config.ProfileNames(getenvOS, cf.file), cobra.ShellCompDirectiveNoFileComp
	})
	_ = c.RegisterFlagCompletionFunc("msmtp-account", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return config.MsmtpAccounts(getenvOS), cobra.ShellCompDirectiveNoFileComp
	})
}

// getenvOS is the process environment, for shell completion (which runs
// outside any test's injected environment).
func getenvOS(k string) string { return StdIO().Env(k) }

// request describes the command line to the config package. It must be
// built before any setting is applied: fs.Set marks flags as changed.
func (cf *configFlags) request(env *Env, fs *pflag.FlagSet, defaults *pflag.FlagSet) config.Request {
	given := map[string]bool{}
	fs.Visit(func(fl *pflag.Flag) { given[fl.Name] = true })
	if defaults == nil {
		defaults = fs
	}
	return config.Request{
		Getenv: env.IO.Env,
		Given:  func(name string) bool { return given[name] },
		Value: func(name string) []string {
			fl := fs.Lookup(name)
			if !given[name] {
				// Not given: the built-in default (send's, for config).
				if fl = defaults.Lookup(name); fl == nil {
					return nil
				}
				return []string{fl.DefValue}
			}
			if sv, ok := fl.Value.(pflag.SliceValue); ok {
				return sv.GetSlice()
			}
			return []string{fl.Value.String()}
		},
		Config:  cf.file,
		Profile: cf.profile,
		Msmtp:   cf.msmtp,
	}
}

// applySendConfig fills send flags the user did not give from the
// environment and the selected profile: flags beat environment beat
// profile beat built-in defaults. With --print-config it prints the
// result and stops.
func applySendConfig(env *Env, c *cobra.Command, f *sendFlags) error {
	fs := c.Flags()
	req := f.cfg.request(env, fs, nil)
	res, err := resolveConfig(env, req)
	if err != nil {
		return err
	}
	if f.cfg.print {
		return printConfig(env, config.BuildReport(req, res))
	}
	f.origin = map[string]string{}
	for _, s := range res.Applied() {
		if s.Flag == "" {
			continue
		}
		if err := fs.Set(s.Flag, s.FlagValue); err != nil {
			return exitcode.Usagef("fix "+s.Key+" in "+s.Origin, "%s: %s: %v", s.Origin, s.Key, err)
		}
		f.origin[s.Flag] = s.Origin
	}
	f.passwordCommand = res.PasswordCommand
	return nil
}

func printConfig(env *Env, rep config.Report) error {
	var err error
	if env.G.JSON {
		err = env.printJSON(rep)
	} else {
		err = rep.WriteText(env.IO.Out)
	}
	if err != nil {
		return err
	}
	// Nothing more to do: stop here with status 0.
	return exitcode.Silent(exitcode.OK)
}

// configErr turns the config package's errors into usage errors (exit 2).
func configErr(err error) error {
	var ue *config.UsageError
	if errors.As(err, &ue) {
		return exitcode.Usagef(ue.Hint, "%s", ue.Msg)
	}
	var ce *config.Error
	if errors.As(err, &ce) {
		hint := "fix the file, or name another with --config FILE"
		if ce.File == "" {
			hint = "create ~/.msmtprc, or use a profile (--profile) instead"
		}
		return exitcode.Usagef(hint, "%v", err)
	}
	return exitcode.Usagef("", "%v", err)
}

func newConfigCmd(env *Env) *cobra.Command {
	cf := &configFlags{}
	c := &cobra.Command{
		Use:   "config [flags]",
		Short: "Show the settings send would use, and where each comes from",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			// The send verb's flags (none given) supply the defaults.
			send := newSendCmd(env, nil)
			req := cf.request(env, cmd.Flags(), send.Flags())
			res, err := resolveConfig(env, req)
			if err != nil {
				return err
			}
			return printConfig(env, config.BuildReport(req, res))
		},
	}
	env.lazyLong(c, func() string {
		return longHelp(help.Body("config"), help.Examples("config"),
			exitcode.Case{Code: exitcode.OK, When: "the settings were printed"},
			exitcode.Case{Code: exitcode.Usage, When: "a bad flag, or a config or msmtp file that cannot be read, parsed or trusted (the error names its file and line)"})
	})
	cf.registerSelect(c)
	return c
}

// resolveConfig resolves the settings and prints the warnings the
// resolution produced (unless -q).
func resolveConfig(env *Env, req config.Request) (*config.Result, error) {
	res, err := config.Resolve(req)
	if err != nil {
		return nil, configErr(err)
	}
	if !env.G.Quiet {
		for _, w := range res.Warnings {
			fmt.Fprintf(env.IO.Err, "smtpx: warning: %s\n", w)
		}
	}
	return res, nil
}
