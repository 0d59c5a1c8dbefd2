package auth

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"

	"github.com/emersion/go-sasl"
)

// maxScramIterations bounds the PBKDF2 work a server can ask for. RFC 7677
// §4 recommends at least 4096 and servers commonly use 4096 to 100,000 for
// SHA-256 (some 600,000); a server asking for more is refused rather than
// let it make the client spin for minutes.
const maxScramIterations = 1_000_000

// scramClient is a SCRAM client (RFC 5802, with SHA-256 per RFC 7677)
// without channel binding (gs2 header "n,,"). The user name and password
// are prepared with SASLprep (RFC 4013) as both RFCs require.
type scramClient struct {
	name     string
	hash     func() hash.Hash
	user     string
	password string
	// nonce makes the client nonce; tests set it to replay the RFCs'
	// examples.
	nonce func() (string, error)
	// maxIter is maxScramIterations; the fuzz test lowers it to stay fast.
	maxIter int

	step        scramStep
	clientFirst string // client-first-message-bare
	serverSig   []byte
}

// scramStep is where a SCRAM exchange stands.
type scramStep int

const (
	scramNew       scramStep = iota
	scramSentFirst           // client-first sent, server-first due
	scramSentFinal           // client-final sent, server-final due
	scramVerified            // the server proved it knows the password
	scramFailed              // an error ended the exchange
)

func newScram(name string, h func() hash.Hash, c Credentials) (*scramClient, error) {
	user, err := saslPrep(c.User)
	if err != nil {
		return nil, fmt.Errorf("the user name: %w", err)
	}
	pass, err := saslPrep(c.Password)
	if err != nil {
		return nil, fmt.Errorf("the password: %w", err)
	}
	return &scramClient{name: name, hash: h, user: user, password: pass, nonce: randomNonce, maxIter: maxScramIterations}, nil
}

func newScramSHA256(c Credentials) (sasl.Client, error) {
	return asClient(newScram("SCRAM-SHA-256", sha256.New, c))
}

func newScramSHA1(c Credentials) (sasl.Client, error) {
	return asClient(newScram("SCRAM-SHA-1", sha1.New, c))
}

// asClient keeps a failed constructor's nil from becoming a non-nil
// interface.
func asClient(s *scramClient, err error) (sasl.Client, error) {
	if err != nil {
		return nil, err
	}
	return s, nil
}

// randomNonce is 24 random bytes in base64: printable, without ','.
func randomNonce() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawStdEncoding.EncodeToString(b), nil
}

// Start sends client-first-message: "n,," then n=USER,r=NONCE.
func (s *scramClient) Start() (string, []byte, error) {
	nonce, err := s.nonce()
	if err != nil {
		return "", nil, err
	}
	// saslname (RFC 5802 §5.1): "=" and "," are escaped as =3D and =2C.
	user := strings.NewReplacer("=", "=3D", ",", "=2C").Replace(s.user)
	s.clientFirst = "n=" + user + ",r=" + nonce
	s.step = scramSentFirst
	return s.name, []byte("n,," + s.clientFirst), nil
}

// Next answers server-first-message with client-final-message, then
// checks server-final-message: the server must prove it knows the
// password too (mutual authentication), or the exchange fails. After an
// error nothing more is accepted: a later server-final must not be
// checked against a signature that was never computed.
func (s *scramClient) Next(challenge []byte) (resp []byte, err error) {
	switch s.step {
	case scramSentFirst:
		resp, err = s.final(string(challenge))
		s.step = scramSentFinal
	case scramSentFinal:
		err = s.verify(string(challenge))
		s.step = scramVerified
	case scramNew:
		err = errors.New("a SCRAM challenge before the exchange started")
	default:
		err = errors.New("unexpected challenge after SCRAM completed")
	}
	if err != nil {
		s.step = scramFailed
		return nil, err
	}
	return resp, nil
}

// Verified reports whether the server has proved it knows the password
// (its server-final message). A server that answers 235 without sending
// one has not, and would pass for the real server if the success were
// trusted (session.Verifier).
func (s *scramClient) Verified() error {
	if s.step != scramVerified {
		return errors.New("the server did not prove it knows the password (no SCRAM server signature)")
	}
	return nil
}

// scramAttrs splits a SCRAM message into its attributes, which must come
// in the order given by names (the RFC's grammar fixes it); extensions
// after them are ignored.
func scramAttrs(msg string, names ...byte) ([]string, error) {
	parts := strings.Split(msg, ",")
	if len(parts) > 0 && strings.HasPrefix(parts[0], "e=") {
		return nil, fmt.Errorf("the server refused: %.64q", strings.TrimPrefix(parts[0], "e="))
	}
	if len(parts) > 0 && strings.HasPrefix(parts[0], "m=") {
		return nil, errors.New("the server requires a SCRAM extension smtpx does not know")
	}
	if len(parts) < len(names) {
		return nil, fmt.Errorf("malformed SCRAM message %.64q", msg)
	}
	vals := make([]string, len(names))
	for i, n := range names {
		if len(parts[i]) < 2 || parts[i][0] != n || parts[i][1] != '=' {
			return nil, fmt.Errorf("malformed SCRAM message %.64q: expected %c= at attribute %d", msg, n, i+1)
		}
		vals[i] = parts[i][2:]
	}
	return vals, nil
}

func (s *scramClient) final(serverFirst string) ([]byte, error) {
	a, err := scramAttrs(serverFirst, 'r', 's', 'i')
	if err != nil {
		return nil, err
	}
	nonce, salt64, iter := a[0], a[1], a[2]
	cnonce := s.clientFirst[strings.LastIndex(s.clientFirst, ",r=")+3:]
	if !strings.HasPrefix(nonce, cnonce) || len(nonce) == len(cnonce) {
		return nil, errors.New("the server's nonce does not extend the client's")
	}
	salt, err := base64.StdEncoding.DecodeString(salt64)
	if err != nil || len(salt) == 0 {
		return nil, fmt.Errorf("invalid salt %.64q", salt64)
	}
	// posit-number (RFC 5802 §7): a digit 1-9, then digits; Atoi alone
	// would take a sign or leading zeros.
	n, err := strconv.Atoi(iter)
	switch {
	case err != nil || n < 1 || iter[0] < '1' || iter[0] > '9':
		return nil, fmt.Errorf("invalid iteration count %.64q", iter)
	case n > s.maxIter:
		return nil, fmt.Errorf("the server asks for %d iterations, more than the %d smtpx allows", n, s.maxIter)
	}
	salted, err := pbkdf2.Key(s.hash, s.password, salt, n, s.hash().Size())
	if err != nil {
		return nil, err
	}
	clientKey := s.hmac(salted, "Client Key")
	h := s.hash()
	h.Write(clientKey)
	storedKey := h.Sum(nil)
	withoutProof := "c=" + base64.StdEncoding.EncodeToString([]byte("n,,")) + ",r=" + nonce
	authMessage := s.clientFirst + "," + serverFirst + "," + withoutProof
	proof := s.hmac(storedKey, authMessage)
	subtle.XORBytes(proof, proof, clientKey)
	s.serverSig = s.hmac(s.hmac(salted, "Server Key"), authMessage)
	return []byte(withoutProof + ",p=" + base64.StdEncoding.EncodeToString(proof)), nil
}

func (s *scramClient) verify(serverFinal string) error {
	a, err := scramAttrs(serverFinal, 'v')
	if err != nil {
		return err
	}
	sig, err := base64.StdEncoding.DecodeString(a[0])
	if err != nil || !hmac.Equal(sig, s.serverSig) {
		return errors.New("the server's signature is wrong: it does not know the password")
	}
	return nil
}

func (s *scramClient) hmac(key []byte, msg string) []byte {
	m := hmac.New(s.hash, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}
