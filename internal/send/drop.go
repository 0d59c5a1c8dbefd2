package send

import (
	"fmt"
	"slices"
	"strings"

	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/session"
)

// Drop says how a send ends at its QuitAfter stage: with QUIT (the
// default), or by closing the connection abruptly, to see what a server
// does with an abandoned dialogue or transaction.
type Drop int

// The ways to end at the stage.
const (
	DropNone      Drop = iota // QUIT (--quit-after)
	DropAfterRead             // close once the stage's reply is read (--drop-after)
	DropAfterSend             // close once the stage's command is written, its reply unread (--drop-after-send)
)

// stageAliases are swaks' names for the stages that smtpx names otherwise.
var stageAliases = map[string]string{"first-helo": "ehlo", "first-ehlo": "ehlo", "helo": "ehlo", "lhlo": "ehlo"}

// ParseDrop reads --drop-after or --drop-after-send (flag): a stop point,
// or its swaks name, at which something is sent.
func ParseDrop(flag, stage string) (string, error) {
	s := strings.ToLower(stage)
	if a, ok := stageAliases[s]; ok {
		s = a
	}
	hint := "use " + flag + " " + strings.Join(StopPoints, ", ")
	if !slices.Contains(StopPoints, s) {
		return "", exitcode.Usagef(hint, "%s %q is not a stage", flag, stage)
	}
	if flag == "--drop-after-send" && (s == "connect" || s == "banner") {
		return "", exitcode.Usagef("use --drop-after "+s+": nothing is sent before the banner", "%s %s: nothing is sent at that stage", flag, s)
	}
	return s, nil
}

// dropSend reports whether the command of stage is the last thing to
// write before the connection is dropped.
func (o *Options) dropSend(stage string) bool {
	return o.Drop == DropAfterSend && o.QuitAfter == stage
}

// writeAndDrop writes lines and drops the connection without waiting for
// a reply; it reports false, for the dialogue is over.
func (o *Options) writeAndDrop(s *session.Session, tx *Transaction, stage string, lines ...string) bool {
	if err := s.Write(lines...); err != nil {
		tx.fail(err)
		return false
	}
	o.drop(s, tx, stage)
	return false
}

// drop closes the connection without QUIT at stage and says so.
func (o *Options) drop(s *session.Session, tx *Transaction, stage string) {
	tx.Stopped, tx.Dropped = stage, true
	how := "--drop-after"
	if o.Drop == DropAfterSend {
		how = "--drop-after-send"
	}
	o.info(fmt.Sprintf("dropping the connection after %s without QUIT (%s %s)", stage, how, stage))
	s.Close()
	tx.Timings = s.Timings
}

// SetStop sets where the dialogue ends early: --quit-after (with QUIT),
// or --drop-after / --drop-after-send (without), one of them at most.
func (o *Options) SetStop(quitAfter, dropAfter, dropAfterSend string) error {
	if quitAfter != "" && !slices.Contains(StopPoints, quitAfter) {
		return exitcode.Usagef("use --quit-after "+strings.Join(StopPoints, ", "), "--quit-after %q is not a stop point", quitAfter)
	}
	o.QuitAfter = quitAfter
	flag, stage, how := "--drop-after", dropAfter, DropAfterRead
	switch {
	case dropAfter != "" && dropAfterSend != "":
		return exitcode.Usagef("use one of --drop-after and --drop-after-send", "--drop-after and --drop-after-send cannot be combined")
	case dropAfterSend != "":
		flag, stage, how = "--drop-after-send", dropAfterSend, DropAfterSend
	case dropAfter == "":
		return nil
	}
	if quitAfter != "" {
		return exitcode.Usagef("use one of --quit-after (ends with QUIT) and "+flag+" (ends without)", "--quit-after and %s cannot be combined", flag)
	}
	s, err := ParseDrop(flag, stage)
	if err != nil {
		return err
	}
	o.QuitAfter, o.Drop = s, how
	return nil
}
