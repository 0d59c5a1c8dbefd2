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
		Long: longHelp(`Explain what an SMTP reply means and what to do about it, offline: no
network, no server.

INPUT
  A reply code (550), an enhanced status code (5.7.1), both in either order
  (550 5.7.26), or a whole reply as a server sends it, single or multi-line
  ("550-5.7.26 ..."). Patterns such as 5yz, x5z, 5.XXX.YYY, X.7.YYY or X.1.1
  explain a class, a category, a subject or a code of any class. With - (or
  with no argument, when standard input is not a terminal) standard input
  is searched for replies: a pasted bounce (Postfix's "said:" and
  Exchange's "Remote Server returned '...'" are understood, wrapped lines
  included) or a saved transcript with swaks-style markers (<-  <**  <~
  <~*; sent lines " -> " and info lines "=== " are skipped). Every reply
  found is explained in order; in a transcript, 2xx and 3xx replies get one
  line (-v explains them in full). Anything the input contains is shown
  escaped: control characters never reach the terminal. --list shows every
  known code by class, --search WORD those whose description mentions
  WORD.

WHAT IT SAYS
  For each reply: the class (first digit: success, intermediate, transient,
  permanent) and category (second digit: syntax, information, connections,
  mail system); a short name and a plain explanation; which commands return
  the code (RFC 5321 §4.3.2) and the defining RFC; for an enhanced code its
  class, subject and detail, the registry's name and the reply codes it
  usually comes with; the other meanings an extension gives the same code
  (STARTTLS, AUTH, ETRN; the one the text points at first); and what to do
  ("do"), always fitted to the class: a 5xx is never told to retry later.
  When the reply code and the enhanced code disagree in class (250 5.1.1)
  a mismatch line says so; clients go by the reply code.

  A well-formed code with no registered meaning is read the way the RFCs
  say: a reply code by its first and second digit (RFC 5321 §4.2.1), or by
  its first digit alone when the second is outside 0-5 (577, RFC 5321
  §4.2), an enhanced code by its subject, then its class (RFC 3463 §2).
  The output marks it as a fallback and still exits 0. 999, 6.1.1 or hello
  are not codes: exit 2 with a hint.

THE REPLY TEXT
  The text is read too, whatever server sent it: blocklists (which list,
  its lookup page), DMARC, SPF, DKIM, reverse DNS, HELO, relaying, AUTH,
  STARTTLS, app passwords, full mailboxes, unknown users, greylisting,
  rate limits, size, loops, spam, malware, unknown sender domains and null
  MX each get what happened, why it usually happens, how to check and what
  to do, with the source of the pattern.

  Gmail, Microsoft 365, Yahoo/AOL, Apple iCloud, Comcast, GMX/WEB.DE,
  Mimecast, Proofpoint and Barracuda attach their own meanings to some
  texts and even reuse registered codes: Gmail's 5.7.26 (unauthenticated
  sender, DMARC), 4.7.28 (rate limited), 5.7.25 and 4.7.23 (no PTR),
  5.7.27, 5.7.29 and 5.7.30 (SPF, TLS, DKIM, where the registry means null
  MX, ARC and REQUIRETLS); Microsoft's 5.7.708, 5.7.606-649, 5.4.1
  (recipient not found, where the registry means no answer from host),
  5.1.10, 5.7.515 and 5.7.1 variants; Yahoo's [TSS04], [TSS09], [TS03],
  [PHnn], [BLnn]. They are recognised from the reply text and shown beside
  the registry meaning, labelled provider-specific, with the provider's
  documented fix and its public source. A bare code that a provider reuses
  lists those uses (smtpx codes 5.7.27); --search gmail lists Gmail's.

  In a pasted bounce (DSN Final-Recipient/Diagnostic-Code, Postfix or Exim)
  each reply is tied to its recipient, and a reply the bounce repeats is
  shown once.

--exit-class makes the exit status the class of the last reply explained,
so a script can write smtpx codes --exit-class "$reply" || retry_or_bounce
(add -q to print nothing). --json prints one object per reply, one per
line when there are several; its fields are in the JSON OUTPUT section of
smtpx-codes(1) and in docs/json.md.`,
			`  smtpx codes 550
  smtpx codes 5.7.1
  smtpx codes 550 5.7.26
  smtpx codes "421-4.7.28 Gmail has detected an unusual rate of email ... - gsmtp"
  smtpx codes "554 5.7.1 Service unavailable; Client host [192.0.2.7] blocked using zen.spamhaus.org"
  smtpx codes "550 5.7.1 Unauthenticated email from example.com is not accepted due to domain's DMARC policy"
  smtpx codes --json - < bounce.eml | jq -r '[.recipient, .category] | @tsv'
  smtpx send ... 2>&1 | smtpx codes -
  smtpx codes 5yz
  smtpx codes --search tls
  smtpx codes --exit-class "$reply" || echo "not delivered"
`,
			exitcode.Case{Code: exitcode.OK, When: "every input was a well-formed code or reply (fallbacks included, 577 too), or --list or --search listed something; with --exit-class, the last reply was 2xx or 3xx"},
			exitcode.Case{Code: exitcode.Check, When: "--search found nothing"},
			exitcode.Case{Code: exitcode.Usage, When: "the input is not a code or a reply, standard input has no reply, or the flags conflict"},
			exitcode.Case{Code: exitcode.Transient, When: "--exit-class, and the last reply explained was 4xx"},
			exitcode.Case{Code: exitcode.Permanent, When: "--exit-class, and the last reply explained was 5xx"}),
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
