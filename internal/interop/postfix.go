package interop

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/smtpx/smtpx/internal/smtptest"
)

// Postfix is a private Postfix instance: its own configuration, queue,
// data and mail directories under a temporary directory, listening on two
// loopback ports, delivering example.net into Maildirs.
type Postfix struct {
	// Full offers everything Postfix 3.7 offers, SMTPUTF8 and 8BITMIME
	// among it.
	Full string
	// Plain is the same server with SMTPUTF8 and 8BITMIME hidden
	// (smtpd_discard_ehlo_keywords).
	Plain string
	dir   string
}

// The mailboxes of example.net and the recipients check_recipient_access
// refuses.
const (
	PostfixUser    = "bob@example.net"
	PostfixUTF8    = "jörg@example.net"
	PostfixLater   = "later@example.net"  // 450 4.2.0
	PostfixGrey    = "grey@example.net"   // 450 4.7.1 Greylisted
	PostfixRefused = "reject@example.net" // 554 5.7.1
)

const postfixMain = `compatibility_level = 3.6
queue_directory = {{dir}}/queue
data_directory = {{dir}}/data
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mx.smtpx-interop.test
mydomain = smtpx-interop.test
mydestination =
mynetworks = 127.0.0.0/8
relayhost =
relay_domains =
alias_maps =
alias_database =
smtputf8_enable = yes
biff = no
append_dot_mydomain = no
maillog_file = {{dir}}/maillog
maillog_file_prefixes = {{dir}}
virtual_mailbox_domains = example.net
virtual_mailbox_base = {{dir}}/mail
virtual_mailbox_maps = texthash:{{dir}}/conf/vmailbox
virtual_uid_maps = static:{{uid}}
virtual_gid_maps = static:{{gid}}
smtpd_recipient_restrictions = check_recipient_access texthash:{{dir}}/conf/access, permit_mynetworks, reject_unauth_destination
`

// Services without chroot, so the instance needs nothing outside its
// directory; the rest is Debian's master.cf.
const postfixMaster = `{{full}} inet n - n - - smtpd
{{plain}} inet n - n - - smtpd -o smtpd_discard_ehlo_keywords=smtputf8,8bitmime
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
virtual   unix  - n n - - virtual
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
`

// StartPostfix runs a private Postfix instance for the test. Postfix's
// master runs as root and its daemons as the postfix user, so it needs
// root and the Debian package (postfix, "No configuration").
func StartPostfix(t testing.TB) *Postfix {
	t.Helper()
	postfix := smtptest.NeedTool(t, "postfix", "/usr/sbin")
	master := "/usr/lib/postfix/sbin/master"
	if out, err := exec.Command("postconf", "-dh", "daemon_directory").Output(); err == nil {
		master = filepath.Join(strings.TrimSpace(string(out)), "master")
	}
	if os.Geteuid() != 0 {
		need(t, "a private Postfix instance needs root (its master starts the daemons as the postfix user)")
	}
	pf, err := user.Lookup("postfix")
	if err != nil {
		need(t, "the postfix user does not exist: install Debian's postfix package")
	}
	// Mail is delivered as nobody; the instance's files must be reachable
	// by the postfix user, so the directory is not t.TempDir()'s 0700.
	dir, err := os.MkdirTemp("", "smtpx-postfix-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	p := &Postfix{Full: smtptest.FreePort(t), Plain: smtptest.FreePort(t), dir: dir}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Fatal(err)
	}
	fill := strings.NewReplacer("{{dir}}", dir, "{{uid}}", nobody.Uid, "{{gid}}", nobody.Gid, "{{full}}", p.Full, "{{plain}}", p.Plain)
	files := map[string]string{
		"conf/main.cf":   fill.Replace(postfixMain),
		"conf/master.cf": fill.Replace(postfixMaster),
		"conf/vmailbox":  PostfixUser + " bob/\n" + PostfixUTF8 + " joerg/\n",
		"conf/access": PostfixLater + " 450 4.2.0 try again later\n" +
			PostfixGrey + " 450 4.7.1 Greylisted, try again in 5 minutes\n" +
			PostfixRefused + " 554 5.7.1 refused by policy\n",
	}
	for _, d := range []string{"conf", "queue", "data", "mail"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	chown(t, filepath.Join(dir, "data"), pf.Uid, pf.Gid)
	chown(t, filepath.Join(dir, "mail"), nobody.Uid, nobody.Gid)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// "postfix check" creates the queue directories with their owners.
	if out, err := exec.Command(postfix, "-c", filepath.Join(dir, "conf"), "check").CombinedOutput(); err != nil {
		t.Fatalf("postfix check: %v\n%s%s", err, out, p.log())
	}
	// master in the foreground (-d), in a session of its own so that its
	// daemons go with it; stopped by its process id.
	cmd := exec.Command(master, "-c", filepath.Join(dir, "conf"), "-d")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	run(t, cmd)
	smtptest.WaitListening(t, p.Full)
	smtptest.WaitListening(t, p.Plain)
	return p
}

func chown(t testing.TB, path, uid, gid string) {
	t.Helper()
	u, uerr := strconv.Atoi(uid)
	g, gerr := strconv.Atoi(gid)
	if err := errors.Join(uerr, gerr); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(path, u, g); err != nil {
		t.Fatal(err)
	}
}

// log is the instance's mail log, for failure messages.
func (p *Postfix) log() string {
	b, _ := os.ReadFile(filepath.Join(p.dir, "maillog"))
	return string(b)
}

// Mailbox returns the messages delivered to a mailbox of example.net so
// far.
func (p *Postfix) Mailbox(t testing.TB, mailbox string) [][]byte {
	t.Helper()
	sub := map[string]string{PostfixUser: "bob", PostfixUTF8: "joerg"}[mailbox]
	if sub == "" {
		t.Fatalf("%s has no mailbox", mailbox)
	}
	return readAll(t, filepath.Join(p.dir, "mail", sub, "new", "*"))
}

// Delivered waits until mailbox holds the message with the Message-ID
// id (Postfix delivers after its 250 to the end of data) and returns it.
// More than one such message is a failure: it was delivered twice.
func (p *Postfix) Delivered(t testing.TB, mailbox, id string) []byte {
	t.Helper()
	field := []byte("\nMessage-ID: <" + id + ">\n")
	deadline := time.Now().Add(30 * time.Second)
	for {
		var found [][]byte
		for _, m := range p.Mailbox(t, mailbox) {
			if bytes.Contains(m, field) {
				found = append(found, m)
			}
		}
		switch {
		case len(found) > 1:
			t.Fatalf("%s holds %d messages with Message-ID <%s>", mailbox, len(found), id)
		case len(found) == 1:
			return found[0]
		case time.Now().After(deadline):
			t.Fatalf("%s: no message with Message-ID <%s> after 30s\n%s", mailbox, id, p.log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// need skips the test with why, or fails it under SMTPX_INTEROP=1.
func need(t testing.TB, why string) {
	t.Helper()
	if smtptest.Interop() {
		t.Fatalf("%s (SMTPX_INTEROP=1)", why)
	}
	t.Skipf("%s (set SMTPX_INTEROP=1 to make this a failure)", why)
}
