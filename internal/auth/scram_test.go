package auth

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/xdg-go/scram"
	"github.com/xdg-go/stringprep"
)

func fixedNonce(n string) func() (string, error) { return func() (string, error) { return n, nil } }

// The exchanges of RFC 5802 §5 (SHA-1) and RFC 7677 §3 (SHA-256), byte
// for byte.
func TestSCRAMRFCExamples(t *testing.T) {
	for _, tc := range []struct {
		name                                          string
		sc                                            *scramClient
		nonce, first, serverFirst, final, serverFinal string
	}{
		{
			"RFC 5802", must(newScram("SCRAM-SHA-1", sha1.New, Credentials{User: "user", Password: "pencil"})),
			"fyko+d2lbbFgONRv9qkxdawL", "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
			"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
			"c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
			"v=rmF9pqV8S7suAoZWja4dJRkFsKQ=",
		},
		{
			"RFC 7677", must(newScram("SCRAM-SHA-256", sha256.New, Credentials{User: "user", Password: "pencil"})),
			"rOprNGfwEbeRWgbNEkqO", "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
			"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
			"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
			"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
		},
	} {
		tc.sc.nonce = fixedNonce(tc.nonce)
		mech, first, err := tc.sc.Start()
		if err != nil || mech != tc.sc.name || string(first) != tc.first {
			t.Fatalf("%s: start %s %q %v", tc.name, mech, first, err)
		}
		final, err := tc.sc.Next([]byte(tc.serverFirst))
		if err != nil || string(final) != tc.final {
			t.Fatalf("%s: final %q %v", tc.name, final, err)
		}
		if resp, err := tc.sc.Next([]byte(tc.serverFinal)); err != nil || len(resp) != 0 {
			t.Fatalf("%s: server-final: %q %v", tc.name, resp, err)
		}
		if _, err := tc.sc.Next([]byte("v=x")); err == nil {
			t.Errorf("%s: a challenge after completion was accepted", tc.name)
		}
	}
}

func must(s *scramClient, err error) *scramClient {
	if err != nil {
		panic(err)
	}
	return s
}

// Against another implementation's server (xdg-go/scram, linked into the
// tests only): both hashes, names and passwords that need escaping or
// preparing.
func TestSCRAMAgainstXdgServer(t *testing.T) {
	for _, mech := range []string{"SCRAM-SHA-256", "SCRAM-SHA-1"} {
		h := scram.SHA256
		if mech == "SCRAM-SHA-1" {
			h = scram.SHA1
		}
		for _, cr := range []Credentials{
			{User: "user", Password: "pencil"},
			{User: "a,b=c@example.com", Password: "p,=w"},
			{User: "jürgen", Password: "pässwörd\u00ad with\u2003space"},
			{User: "ｕｓｅｒ", Password: "Ⅸ\u00aa"}, // NFKC: "user", "IXa"
		} {
			ref, _ := h.NewClient(cr.User, cr.Password, "")
			creds, err := ref.GetStoredCredentialsWithError(scram.KeyFactors{Salt: "QSXCR+Q6sek8bf92", Iters: 4096})
			if err != nil {
				t.Fatal(err)
			}
			var asked string
			srv, _ := h.NewServer(func(u string) (scram.StoredCredentials, error) { asked = u; return creds, nil })
			conv := srv.NewConversation()
			c, err := Client(mech, cr)
			if err != nil {
				t.Fatal(err)
			}
			_, ir, _ := c.Start()
			msg, err := conv.Step(string(ir))
			for err == nil {
				var resp []byte
				if resp, err = c.Next([]byte(msg)); err != nil || conv.Done() {
					break
				}
				msg, err = conv.Step(string(resp))
			}
			if err != nil || !conv.Valid() {
				t.Errorf("%s %q: %v valid=%v", mech, cr.User, err, conv.Valid())
			}
			if want, _ := stringprep.SASLprep.Prepare(cr.User); asked != want {
				t.Errorf("%s: the server was asked for %q, want %q", mech, asked, want)
			}
		}
	}
}

// What a hostile or broken server sends is refused with an error, and
// the work it can ask for is bounded.
func TestSCRAMHostileServer(t *testing.T) {
	const nonce = "clientnonce"
	salt := base64.StdEncoding.EncodeToString([]byte("salt"))
	for _, tc := range []struct{ name, serverFirst, serverFinal, err string }{
		{"foreign nonce", "r=othernonce,s=" + salt + ",i=4096", "", "does not extend"},
		{"same nonce", "r=" + nonce + ",s=" + salt + ",i=4096", "", "does not extend"},
		{"no salt", "r=" + nonce + "x,i=4096", "", "malformed"},
		{"salt in the wrong place", "r=" + nonce + "x,i=4096,s=" + salt, "", "expected s="},
		{"bad salt", "r=" + nonce + "x,s=!!,i=4096", "", "invalid salt"},
		{"empty salt", "r=" + nonce + "x,s=,i=4096", "", "invalid salt"},
		{"zero iterations", "r=" + nonce + "x,s=" + salt + ",i=0", "", "invalid iteration count"},
		{"negative iterations", "r=" + nonce + "x,s=" + salt + ",i=-1", "", "invalid iteration count"},
		{"word iterations", "r=" + nonce + "x,s=" + salt + ",i=many", "", "invalid iteration count"},
		{"signed iterations", "r=" + nonce + "x,s=" + salt + ",i=+4096", "", "invalid iteration count"},
		{"zero-led iterations", "r=" + nonce + "x,s=" + salt + ",i=04096", "", "invalid iteration count"},
		{"spaced iterations", "r=" + nonce + "x,s=" + salt + ",i= 4096", "", "invalid iteration count"},
		{"no iterations", "r=" + nonce + "x,s=" + salt + ",i=", "", "invalid iteration count"},
		{"huge iterations", "r=" + nonce + "x,s=" + salt + ",i=1000001", "", "more than the 1000000"},
		{"overflowing iterations", "r=" + nonce + "x,s=" + salt + ",i=99999999999999999999", "", "invalid iteration count"},
		{"mandatory extension", "m=ext,r=" + nonce + "x,s=" + salt + ",i=4096", "", "extension"},
		{"server error first", "e=other-error", "", `the server refused: "other-error"`},
		{"garbage", "hello", "", "malformed"},
		{"empty", "", "", "malformed"},
		{"server error last", "r=" + nonce + "x,s=" + salt + ",i=1", "e=invalid-proof", `the server refused: "invalid-proof"`},
		{"wrong signature", "r=" + nonce + "x,s=" + salt + ",i=1", "v=" + base64.StdEncoding.EncodeToString(make([]byte, 32)), "signature is wrong"},
		{"bad signature", "r=" + nonce + "x,s=" + salt + ",i=1", "v=***", "signature is wrong"},
		{"no signature", "r=" + nonce + "x,s=" + salt + ",i=1", "", "malformed"},
	} {
		sc := must(newScram("SCRAM-SHA-256", sha256.New, Credentials{User: "u", Password: "p"}))
		sc.nonce = fixedNonce(nonce)
		if _, _, err := sc.Start(); err != nil {
			t.Fatal(err)
		}
		_, err := sc.Next([]byte(tc.serverFirst))
		if err == nil {
			_, err = sc.Next([]byte(tc.serverFinal))
		}
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.err)
		}
	}
}

// Once an exchange has failed, nothing more is accepted: in particular
// not an empty server signature, which would equal the one never
// computed. The server is verified only by its server-final message.
func TestSCRAMNothingAfterError(t *testing.T) {
	const nonce = "clientnonce"
	salt := base64.StdEncoding.EncodeToString([]byte("salt"))
	for _, first := range []string{"r=othernonce,s=" + salt + ",i=4096", "r=" + nonce + "x,s=" + salt + ",i=0", "e=other-error", "garbage"} {
		c, err := Client("SCRAM-SHA-256", Credentials{User: "u", Password: "p"})
		if err != nil {
			t.Fatal(err)
		}
		c.(*withSecrets).Client.(*scramClient).nonce = fixedNonce(nonce)
		if _, _, err := c.Start(); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Next([]byte(first)); err == nil {
			t.Fatalf("%q accepted", first)
		}
		for _, final := range []string{"v=", "v=x"} {
			if _, err := c.Next([]byte(final)); err == nil {
				t.Errorf("after %q failed, %q was accepted", first, final)
			}
		}
		if err := c.(*withSecrets).Verified(); err == nil {
			t.Errorf("after %q failed, the server counts as verified", first)
		}
	}
}

// Verified (session.Verifier) holds only once the server-final message
// proved the server: not at the start, not after client-final, not after
// a wrong signature. Mechanisms without a proof of the server have
// nothing to verify.
func TestSCRAMVerified(t *testing.T) {
	run := func(serverFinal string, steps int) error {
		c, err := Client("SCRAM-SHA-1", Credentials{User: "user", Password: "pencil"})
		if err != nil {
			t.Fatal(err)
		}
		c.(*withSecrets).Client.(*scramClient).nonce = fixedNonce("fyko+d2lbbFgONRv9qkxdawL")
		if steps > 0 {
			c.Start()
		}
		if steps > 1 {
			if _, err := c.Next([]byte("r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096")); err != nil {
				t.Fatal(err)
			}
		}
		if steps > 2 {
			c.Next([]byte(serverFinal))
		}
		return c.(*withSecrets).Verified()
	}
	good := "v=rmF9pqV8S7suAoZWja4dJRkFsKQ="
	if err := run(good, 3); err != nil {
		t.Errorf("after the RFC's server-final: %v", err)
	}
	for steps, final := range map[int]string{0: good, 1: good, 2: good, 3: "v=" + base64.StdEncoding.EncodeToString(make([]byte, 20))} {
		if err := run(final, steps); err == nil {
			t.Errorf("after %d steps (server-final %q) the server counts as verified", steps, final)
		}
	}
	for _, mech := range []string{"PLAIN", "LOGIN", "CRAM-MD5"} {
		c, err := Client(mech, Credentials{User: "u", Password: "p"})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.(*withSecrets).Verified(); err != nil {
			t.Errorf("%s: %v", mech, err)
		}
	}
}

// A real nonce is random, long and has no comma.
func TestSCRAMNonce(t *testing.T) {
	a, _ := randomNonce()
	b, _ := randomNonce()
	if a == b || len(a) < 24 || strings.ContainsAny(a, ",=") {
		t.Errorf("nonces %q %q", a, b)
	}
}

// FuzzSCRAMServer feeds any server-first and server-final message: an
// error or success, never a panic, and never more hashing than the
// iteration cap allows. The cap is lowered to 64 so that each input is
// fast; the work is measured by the hash writes, not by the parsed count,
// so a count that slipped past the check would show.
func FuzzSCRAMServer(f *testing.F) {
	f.Add("r=cnx,s=c2FsdA==,i=1", "v=abc")
	f.Add("r=cnx,s=c2FsdA==,i=64", "v=")
	f.Add("r=cnx,s=c2FsdA==,i=65", "v=")
	f.Add("r=cnx,s=c2FsdA==,i=4096", "v=")
	f.Add("r=cnx,s=c2FsdA==,i=+0064", "v=")
	f.Add("m=x,r=cn", "e=bad")
	f.Add("r=cn\xff,s=,i=1,ext=1", "v=")
	const maxIter = 64
	f.Fuzz(func(t *testing.T, first, final string) {
		var writes int
		counting := func() hash.Hash { return &countingHash{Hash: sha1.New(), writes: &writes} }
		sc := must(newScram("SCRAM-SHA-1", counting, Credentials{User: "u", Password: "p"}))
		sc.nonce = fixedNonce("cn")
		sc.maxIter = maxIter
		if _, _, err := sc.Start(); err != nil {
			t.Fatal(err)
		}
		if _, err := sc.Next([]byte(first)); err == nil {
			_, _ = sc.Next([]byte(final))
		}
		// PBKDF2 writes 4 times per iteration (HMAC's inner and outer
		// hash, each reset with its pad); the keys and signatures a few
		// dozen more.
		if limit := 4*maxIter + 64; writes > limit {
			t.Fatalf("%d hash writes for %q, more than %d", writes, first, limit)
		}
	})
}

// countingHash counts the writes into a hash: the work done.
type countingHash struct {
	hash.Hash
	writes *int
}

func (c *countingHash) Write(p []byte) (int, error) {
	*c.writes++
	return c.Hash.Write(p)
}

// RFC 4013 §3's examples, and agreement with xdg-go/stringprep (the
// implementation this replaces) on names and passwords of every kind.
func TestSASLprep(t *testing.T) {
	for in, want := range map[string]string{
		"I\u00adX": "IX", "user": "user", "USER": "USER", "\u00aa": "a", "\u2168": "IX",
		"a\u00a0b": "a b", "\u0627\u0628": "\u0627\u0628", "": "",
	} {
		if got, err := saslPrep(in); err != nil || got != want {
			t.Errorf("%q: %q %v, want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"\u0007", "\u0627\u0031", "a\u0627", "\u0627a\u0628", "\ue000", "\ufffd", "\u200e", "\U000e0001", "x\x00", "\xff"} {
		if got, err := saslPrep(bad); err == nil {
			t.Errorf("%q: %q accepted", bad, got)
		}
	}
}

func FuzzSASLprep(f *testing.F) {
	for _, s := range []string{"user", "I\u00adX", "\u2168", "\u0627\u0031", "pä ss", "\u3000x", "\ufe0fa"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := saslPrep(s)
		want, werr := stringprep.SASLprep.Prepare(s)
		if !utf8Valid(s) {
			if err == nil {
				t.Fatalf("%q: invalid UTF-8 accepted", s)
			}
			return
		}
		// Both refuse, or both give the same string. Unicode has grown
		// since RFC 3454's tables: characters unassigned in 3.2 (and so
		// without a bidirectional class there) are the only difference.
		if (err == nil) != (werr == nil) || err == nil && got != want {
			if newerThan32(s) {
				return
			}
			t.Fatalf("%q: %q %v; stringprep %q %v", s, got, err, want, werr)
		}
	})
}

func utf8Valid(s string) bool { return utf8.ValidString(s) }

// newerThan32 reports whether s has a character that Unicode 3.2 (RFC
// 3454's tables) did not assign, before or after NFKC.
func newerThan32(s string) bool {
	for _, x := range []string{s, norm.NFKC.String(s)} {
		for _, r := range x {
			if stringprep.TableA1.Contains(r) {
				return true
			}
		}
	}
	return false
}
