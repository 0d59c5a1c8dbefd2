package cmd

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/smtpx/smtpx/internal/codes"
	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/replycode"
)

// newCodesCmd builds the codes verb; runF, when set, gets the options
// instead of running them.
func newCodesCmd(env *Env, runF func(codes.Options) error) *cobra.Command {
	o := &codes.Options{}
	c := &cobra.Command{
		Use:   "codes [CODE [ENHANCED] | REPLY | -]",
		Short: "Explain an SMTP reply code, enhanced status code or whole reply, offline",
		Long: `Explain what an SMTP reply means and what to do about it, without a network.

Give a reply code (550), an enhanced status code (5.7.1), both (550 5.7.26),
a whole reply as a server sent it, single or multi-line ("550-5.7.26 ..."),
or - to read replies from standard input (with no argument, standard input
is read when it is not a terminal): a pasted bounce or a saved transcript,
swaks-style markers (<-  <**  <~) included. Every reply found is
explained in order; there, 2xx and 3xx replies get one line (-v: in full). Patterns such as 5yz, x5z, 5.XXX.YYY, X.7.YYY or X.1.1
explain a class, a category, a subject or a code of any class.

For each reply: the class (success, intermediate, transient, permanent) and
category, a short name and plain explanation, what to do next, which commands
return it and the defining RFC; for an enhanced code its class, subject and
detail. Unknown but well-formed codes fall back on class and category, or on
subject and class (RFC 3463 §2), and say so; a code whose second digit is
outside 0-5 (577) is read by its first digit alone (RFC 5321 §4.2). A reply
whose two codes disagree in class is flagged. Advice always fits the class:
a 5xx is never told to retry later.

The reply text is read too, whatever server sent it: blocklists (which list,
its lookup page), DMARC, SPF, DKIM, reverse DNS, HELO, relaying, AUTH,
STARTTLS, app passwords, full mailboxes, unknown users, greylisting, rate
limits, size, loops, spam, malware, unknown sender domains and null MX each
get what happened, why it usually happens, how to check and what to do, with
the source of the pattern. Texts from Gmail, Microsoft 365, Yahoo/AOL, Apple
iCloud, Comcast, GMX/WEB.DE, Mimecast, Proofpoint and Barracuda get their
provider-specific meaning, labelled as such, with its public source. In a
pasted bounce (DSN Final-Recipient/Diagnostic-Code, Postfix or Exim) each
reply is tied to its recipient, and a reply the bounce repeats is shown once.

--json prints one JSON object per reply (JSON Lines when several): among the
fields, code, enhanced, text, class_name, retry (none, continue, later,
after_fix), action (the advice), category (blocklist, dmarc, spf, dkim,
unauthenticated, reverse_dns, helo, relay_denied, auth_required, auth_failed,
starttls_required, app_password, mailbox_full, unknown_user, greylisting,
rate_limit, message_too_big, mail_loop, spam_content, virus_content,
sender_domain, null_mx; "" if none), diagnosis (name, meaning, cause, fix,
check, rule, source, ip, domain, address, blocklist), provider (provider, id,
name, meaning, fix, source; null if none), source (of the most specific
explanation) and recipient ("" if the input does not say). --list shows
every known code by class, --search WORD those whose description mentions
WORD.

For codes: exit 0 when every input was a well-formed code or reply
(fallbacks included, 577 too), 1 when --search finds nothing, 2 when the
input is not a code or reply. --exit-class instead makes the status the class of the last reply
explained: 0 for 2xx and 3xx, 4 for 4xx, 5 for 5xx.

` + exitcode.HelpSection() + `
EXAMPLES
  smtpx codes 550
  smtpx codes 5.7.1
  smtpx codes 550 5.7.26
  smtpx codes "421-4.7.28 Gmail has detected an unusual rate of email ... - gsmtp"
  smtpx codes "554 5.7.1 Service unavailable; Client host [192.0.2.7] blocked using zen.spamhaus.org"
  smtpx codes "550 5.7.1 Unauthenticated email from example.com is not accepted due to domain's DMARC policy"
  smtpx codes --json - < bounce.eml | jq -r '[.recipient, .category] | @tsv'
  smtpx send ... 2>&1 | smtpx codes -
  smtpx codes --search tls
  smtpx codes --exit-class "$reply" || echo "not delivered"
`,
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: completeCodes,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Args = args
			return codesRun(env, o, runF)
		},
	}
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
