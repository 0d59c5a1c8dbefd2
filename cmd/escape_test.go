package cmd

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/smtpx/smtpx/internal/smtptest"
)

// hiddenText has what issue 14 found passing raw: DEL, C1 controls, bidi
// controls and invisible format characters.
const hiddenText = "a\x7fb \u0085\u009b \u202eevil\u202c \u2066\u061c\u200f \u200b\ufeff\u00ad \U000e0041"

// Its escaped forms: as the human output shows it, and as JSON writes it.
const (
	hiddenHuman = `a\x7fb \u0085\u009b \u202eevil\u202c \u2066\u061c\u200f \u200b\ufeff\u00ad \U000e0041`
	hiddenJSON  = `a\u007fb \u0085\u009b \u202eevil\u202c \u2066\u061c\u200f \u200b\ufeff\u00ad \udb40\udc41`
)

// A certificate name is the server's to choose: the TLS line and the JSON
// show it escaped (issue 14).
func TestCertificateNameEscaped(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(14),
		Subject:      pkix.Name{CommonName: hiddenText},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	script := "S: 220 mx.test\nC~ EHLO\nS: 250-mx.test\nS: 250 STARTTLS\nC: STARTTLS\nS: 220 go\ntls\nC~ EHLO\nS: 250 mx.test\nC: QUIT\nS: 221 bye\nclose\n"
	for _, mode := range []string{"human", "json"} {
		t.Run(mode, func(t *testing.T) {
			srv, err := smtptest.Start(script)
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
			argv := []string{"ehlo", "--tls", "--insecure", "-v", srv.Addr()}
			if mode == "json" {
				argv = append(argv, "--json")
			}
			stdout, stderr, code := run(t, "", nil, argv...)
			if code != 0 {
				t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
			}
			checkHidden(t, stdout+stderr)
			want := hiddenHuman
			if mode == "json" {
				want = hiddenJSON
				var v map[string]any
				if err := json.Unmarshal([]byte(stdout), &v); err != nil {
					t.Fatalf("not JSON: %v\n%s", err, stdout)
				}
				if !strings.Contains(stdout, `"peer_subject":"CN=`) {
					t.Errorf("no peer_subject:\n%s", stdout)
				}
			}
			if !strings.Contains(stdout, want) {
				t.Errorf("the name is not shown escaped as %s:\n%s", want, stdout)
			}
		})
	}
}

// codes explains replies a user pastes; under --json the reply text goes
// through the same escaping.
func TestCodesJSONEscapes(t *testing.T) {
	stdout, stderr, code := run(t, "550 5.1.1 "+hiddenText+"\n", nil, "codes", "--json", "-")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	checkHidden(t, stdout)
	var v struct{ Text string }
	if err := json.Unmarshal([]byte(stdout), &v); err != nil || v.Text != hiddenText {
		t.Errorf("text %q, %v\n%s", v.Text, err, stdout)
	}
	if !strings.Contains(stdout, `"text":"`+hiddenJSON+`"`) {
		t.Errorf("not escaped as %s:\n%s", hiddenJSON, stdout)
	}
	stdout, _, _ = run(t, "550 5.1.1 "+hiddenText+"\n", nil, "codes", "-")
	checkHidden(t, stdout)
	// The human form is cut to the terminal's width.
	if !strings.Contains(stdout, hiddenHuman[:50]) {
		t.Errorf("not escaped as %s:\n%s", hiddenHuman, stdout)
	}
}

func checkHidden(t *testing.T, out string) {
	t.Helper()
	if i := strings.IndexFunc(out, invisible); i >= 0 {
		t.Errorf("raw %q at %d in\n%s", []rune(out[i:])[0], i, out)
	}
}
