package probe

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/smtpx/smtpx/internal/certs"
	"github.com/smtpx/smtpx/internal/dnstest"
	"github.com/smtpx/smtpx/internal/route"
)

const okHead = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"

// Every framing of a policy reply is read, and every reply that is not a
// usable policy is refused with its reason.
func TestReadPolicyResponse(t *testing.T) {
	big := strings.Repeat("x", MaxPolicySize+1)
	for _, tc := range []struct{ name, in, body, err string }{
		{"length", okHead + "Content-Length: 5\r\n\r\nhello", "hello", ""},
		{"length, the same twice", okHead + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello", "hello", ""},
		{"chunked", okHead + "Transfer-Encoding: chunked\r\n\r\n3;ext=1\r\nhel\r\n2\r\nlo\r\n0\r\nX-Trailer: y\r\n\r\n", "hello", ""},
		{"until close", okHead + "\r\nhello", "hello", ""},
		{"HTTP/1.0", "HTTP/1.0 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhello", "hello", ""},
		{"interim replies first", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n" + okHead + "\r\nhello", "hello", ""},
		{"too many interim replies", strings.Repeat("HTTP/1.1 100 Continue\r\n\r\n", 6) + okHead + "\r\nhello", "", "more than 5 informational"},
		{"redirect", "HTTP/1.1 302 Found\r\nLocation: https://elsewhere.test/\r\n\r\n", "", `redirects (HTTP 302 to "https://elsewhere.test/")`},
		{"not found", "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", "", "HTTP 404, not 200"},
		{"media type", "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<p>", "", `media type is "text/html"`},
		{"no media type", "HTTP/1.1 200 OK\r\n\r\nhello", "", `media type is ""`},
		{"status line", "SMTP 220 hello\r\n\r\n", "", "not an HTTP/1.x status line"},
		{"status code", "HTTP/1.1 2000 OK\r\n\r\n", "", "not an HTTP/1.x status line"},
		{"empty", "", "", "unexpected EOF"},
		{"header cut", "HTTP/1.1 200 OK\r\nContent-Type: text/pl", "", "reading the reply's header"},
		{"header too large", okHead + "X-Big: " + strings.Repeat("a", maxPolicyHeader) + "\r\n\r\nhello", "", "header is larger than 65536 bytes"},
		{"length too large", okHead + "Content-Length: 65537\r\n\r\n" + big, "", "larger than 65536 bytes"},
		{"length invalid", okHead + "Content-Length: -1\r\n\r\n", "", "invalid Content-Length"},
		{"lengths differ", okHead + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", "", "invalid Content-Length"},
		{"length cut", okHead + "Content-Length: 10\r\n\r\nhello", "", "unexpected EOF"},
		{"until close too large", okHead + "\r\n" + big, "", "larger than 65536 bytes"},
		{"chunked too large", okHead + "Transfer-Encoding: chunked\r\n\r\n10001\r\n" + big + "\r\n0\r\n\r\n", "", "larger than 65536 bytes"},
		{"chunk size", okHead + "Transfer-Encoding: chunked\r\n\r\nzz\r\n", "", "invalid chunk size"},
		{"chunk without CRLF", okHead + "Transfer-Encoding: chunked\r\n\r\n3\r\nhelXX0\r\n\r\n", "", "does not end with CRLF"},
		{"chunked cut", okHead + "Transfer-Encoding: chunked\r\n\r\n5\r\nhel", "", "unexpected EOF"},
		{"other coding", okHead + "Transfer-Encoding: gzip, chunked\r\n\r\n", "", "unsupported Transfer-Encoding"},
	} {
		body, err := readPolicyResponse(strings.NewReader(tc.in))
		if tc.err == "" && (err != nil || body != tc.body) {
			t.Errorf("%s: %q, %v; want %q", tc.name, body, err, tc.body)
		}
		if tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%s: %q, %v; want an error with %q", tc.name, body, err, tc.err)
		}
	}
}

// endless repeats a line forever, counting what was read.
type endless struct {
	line string
	n    int
}

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = e.line[(e.n+i)%len(e.line)]
	}
	e.n += len(p)
	return len(p), nil
}

// A server that never ends its header or its chunks is read only up to
// the bounds, not for ever.
func TestReadPolicyResponseEndless(t *testing.T) {
	for _, tc := range []struct {
		name    string
		head    string
		counter *endless
		err     string
		limit   int
	}{
		{"header fields", okHead, &endless{line: "X: y\r\n"}, "header is larger", maxPolicyHeader + 8192},
		{"chunks", okHead + "Transfer-Encoding: chunked\r\n\r\n", &endless{line: "1\r\na\r\n"}, "larger than", maxPolicyHeader + 7*MaxPolicySize},
		{"interim replies", "", &endless{line: "HTTP/1.1 100 Continue\r\n\r\n"}, "informational", 8192},
	} {
		_, err := readPolicyResponse(io.MultiReader(strings.NewReader(tc.head), tc.counter))
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: %v", tc.name, err)
		}
		if read := tc.counter.n; read > tc.limit {
			t.Errorf("%s: read %d bytes", tc.name, read)
		}
	}
}

// A policy server that accepts the connection and then says nothing is
// given up on after the probe's timeout.
func TestFetchPolicySilentServer(t *testing.T) {
	cert := selfSigned(t, certs.Options{Hosts: []string{"mta-sts.example.test"}})
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert.TLS}})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
			_ = c.(*tls.Conn).Handshake() // then silence
		}
	}()
	dns := dnstest.Start(t, "mta-sts.example.test. A 127.0.0.1\n")
	res, err := route.New(route.Options{Server: dns.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_, err = fetchPolicy(context.Background(), res, "example.test", port, cert.Pool(), 300*time.Millisecond)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.HasPrefix(err.Error(), "fetch failed: ") {
		t.Fatalf("silent server: %v", err)
	}
}
