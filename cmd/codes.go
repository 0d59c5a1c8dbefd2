package cmd

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/smtpx/smtpx/internal/codes"
	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/help"
	"github.com/smtpx/smtpx/internal/replycode"
)

// newCodesCmd builds the codes verb; runF, when set, gets the options
// instead of running them.
func newCodesCmd(env *Env, runF func(codes.Options) error) *cobra.Command {
	o := &codes.Options{}
	c := &cobra.Command{
		Use:               "codes [CODE [ENHANCED] | REPLY | -]",
		Short:             "Explain an SMTP reply code, enhanced status code or whole reply, offline",
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: completeCodes,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Args = args
			return codesRun(env, o, runF)
		},
	}
	env.lazyLong(c, func() string {
		return longHelp(help.Body("codes"), help.Examples("codes"),
			exitcode.Case{Code: exitcode.OK, When: "every input was a well-formed code or reply (fallbacks included, 577 too), or --list or --search listed something; with --exit-class, the last reply was 2xx or 3xx"},
			exitcode.Case{Code: exitcode.Check, When: "--search found nothing"},
			exitcode.Case{Code: exitcode.Usage, When: "the input is not a code or a reply, standard input has no reply, or the flags conflict"},
			exitcode.Case{Code: exitcode.Transient, When: "--exit-class, and the last reply explained was 4xx"},
			exitcode.Case{Code: exitcode.Permanent, When: "--exit-class, and the last reply explained was 5xx"})
	})
	f := c.Flags()
	f.BoolVar(&o.List, "list", false, "list every known code, grouped by class")
	f.StringVar(&o.Search, "search", "", "list the codes whose description mentions `WORD`")
	f.BoolVar(&o.ExitClass, "exit-class", false, "exit with the class of the last reply: 0 (2xx/3xx), 4 or 5")
	_ = c.RegisterFlagCompletionFunc("search", cobra.NoFileCompletions)
	return c
}

// completeCodes offers the known reply codes, and enhanced codes once a
// class and a dot are typed ("5." offers 5.0.0 to 5.7.30), each with its name.
func completeCodes(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	var out []cobra.Completion
	enhanced := len(toComplete) >= 2 && toComplete[1] == '.' && strings.ContainsRune("245", rune(toComplete[0]))
	seen := map[string]bool{}
	for _, e := range replycode.List() {
		code := e.Code
		switch {
		case e.Kind == "basic" && !enhanced && !seen[code]:
		case e.Kind == "enhanced" && enhanced:
			code = toComplete[:1] + strings.TrimPrefix(code, "X")
		default:
			continue
		}
		seen[code] = true
		if strings.HasPrefix(code, toComplete) {
			out = append(out, cobra.CompletionWithDesc(code, e.Name))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

func codesRun(env *Env, o *codes.Options, runF func(codes.Options) error) error {
	if len(o.Args) == 1 && o.Args[0] == "-" || len(o.Args) == 0 && !o.List && o.Search == "" && !env.IO.InIsTTY {
		o.Stdin = env.IO.In
		if env.IO.InIsTTY && !env.G.Quiet {
			fmt.Fprintln(env.IO.Err, "smtpx: reading replies from standard input; end with Ctrl-D")
		}
	}
	if runF != nil {
		return runF(*o)
	}
	res, err := codes.Run(*o)
	if err != nil {
		return err
	}
	switch {
	case env.G.JSON:
		err = res.WriteJSON(env.IO.Out)
	case !env.G.Quiet:
		err = res.WriteHuman(env.IO.Out, codes.View{Palette: env.palette(), Width: env.IO.Width(), Verbose: env.G.Verbose})
	}
	if err != nil {
		return err
	}
	if code := res.Exit(); code != 0 {
		return exitcode.Silent(code)
	}
	return nil
}
