package probe

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/netip"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/smtpx/smtpx/internal/route"
)

// MaxPolicySize caps the MTA-STS policy body; RFC 8461 §3.3 suggests
// senders limit it, and 64 KiB is far above any real policy.
const MaxPolicySize = 64 << 10

// maxPolicyHeader caps the status line and header section of the reply,
// and maxInterim the informational (1xx) replies skipped before it.
const (
	maxPolicyHeader = 64 << 10
	maxInterim      = 5
)

// fetchPolicy gets the policy body over HTTPS (RFC 8461 §3.3): the
// certificate must be valid for mta-sts.DOMAIN, redirects are not
// followed, only 200 with text/plain counts, and the body is capped.
// Names are resolved through the probe's resolver so that --dns-server
// applies here too; no proxy is used, for the same reason.
//
// It speaks HTTP/1.1 (RFC 9112) itself, for this one GET, instead of
// linking net/http: that client, never used but by `probe DOMAIN`, made up
// a megabyte of the binary and part of every command's start-up. What it
// reads is bounded: the header section, the body in each of its three
// framings (Content-Length, chunked, until close), and the time.
func fetchPolicy(ctx context.Context, res *route.Resolver, domain string, port int, roots *x509.CertPool, timeout time.Duration) (string, error) {
	if port == 0 {
		port = 443
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	host := "mta-sts." + domain
	conn, err := dialPolicy(ctx, res, host, port)
	if err != nil {
		return "", fmt.Errorf("fetch failed: %w", err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	tc := tls.Client(conn, &tls.Config{RootCAs: roots, ServerName: host, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}})
	if err := tc.HandshakeContext(ctx); err != nil {
		return "", fmt.Errorf("fetch failed: %w", err)
	}
	hostHeader := host
	if port != 443 {
		hostHeader = net.JoinHostPort(host, strconv.Itoa(port))
	}
	req := "GET /.well-known/mta-sts.txt HTTP/1.1\r\nHost: " + hostHeader +
		"\r\nUser-Agent: smtpx\r\nAccept: text/plain\r\nConnection: close\r\n\r\n"
	if _, err := io.WriteString(tc, req); err != nil {
		return "", fmt.Errorf("fetch failed: %w", err)
	}
	body, err := readPolicyResponse(tc)
	// The connection's deadline is the context's: either may be seen first.
	if err != nil && (ctx.Err() != nil || errors.Is(err, os.ErrDeadlineExceeded)) {
		cause := context.Cause(ctx)
		if cause == nil {
			cause = context.DeadlineExceeded
		}
		return "", fmt.Errorf("fetch failed: %w", cause)
	}
	return body, err
}

// dialPolicy connects to the first address of host that answers.
func dialPolicy(ctx context.Context, res *route.Resolver, host string, port int) (net.Conn, error) {
	h, err := res.LookupHost(ctx, host)
	if err != nil {
		return nil, err
	}
	var d net.Dialer
	last := fmt.Errorf("%s has no address", host)
	for _, a := range append(append([]netip.Addr(nil), h.IPv4...), h.IPv6...) {
		c, err := d.DialContext(ctx, "tcp", netip.AddrPortFrom(a, uint16(port)).String())
		if err == nil {
			return c, nil
		}
		last = err
	}
	return nil, last
}

// readPolicyResponse reads one HTTP/1.x response and returns its body if
// it is a 200 with text/plain.
func readPolicyResponse(r io.Reader) (string, error) {
	// One budget for the header section (and the interim replies before
	// it); the body has its own, counted in decoded bytes.
	head := &io.LimitedReader{R: r, N: maxPolicyHeader}
	br := bufio.NewReader(head)
	tp := textproto.NewReader(br)
	var (
		code int
		hdr  textproto.MIMEHeader
		err  error
	)
	for i := 0; ; i++ {
		code, hdr, err = readHead(tp)
		if err != nil {
			if head.N <= 0 {
				return "", fmt.Errorf("the reply's header is larger than %d bytes", maxPolicyHeader)
			}
			return "", err
		}
		if code >= 200 {
			break
		}
		if i == maxInterim {
			return "", fmt.Errorf("more than %d informational (1xx) replies", maxInterim)
		}
	}
	if code >= 300 && code < 400 {
		return "", fmt.Errorf("the server redirects (HTTP %d to %q); RFC 8461 §3.3 forbids following it", code, hdr.Get("Location"))
	}
	if code != 200 {
		return "", fmt.Errorf("HTTP %d, not 200", code)
	}
	ct := hdr.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "text/plain" {
		return "", fmt.Errorf("media type is %q, not text/plain", ct)
	}
	// What the buffer holds past the header, then the connection itself,
	// no longer under the header's budget.
	head.N = 1<<63 - 1
	body, err := readBody(br, hdr)
	if err != nil {
		return "", err
	}
	return string(body), nil
}

// readHead reads a status line and its header fields.
func readHead(tp *textproto.Reader) (int, textproto.MIMEHeader, error) {
	line, err := tp.ReadLine()
	if err != nil {
		return 0, nil, fmt.Errorf("reading the reply: %w", noEOF(err))
	}
	proto, rest, _ := strings.Cut(line, " ")
	status, _, _ := strings.Cut(rest, " ")
	code, err := strconv.Atoi(status)
	if !strings.HasPrefix(proto, "HTTP/1.") || len(status) != 3 || err != nil || code < 100 {
		return 0, nil, fmt.Errorf("not an HTTP/1.x status line: %.80q", line)
	}
	hdr, err := tp.ReadMIMEHeader()
	if err != nil {
		return 0, nil, fmt.Errorf("reading the reply's header: %w", noEOF(err))
	}
	return code, hdr, nil
}

// readBody reads the body in the framing hdr names (RFC 9112 §6.3), at
// most MaxPolicySize bytes of it.
func readBody(br *bufio.Reader, hdr textproto.MIMEHeader) ([]byte, error) {
	tooBig := fmt.Errorf("the policy is larger than %d bytes", MaxPolicySize)
	if te := hdr.Values("Transfer-Encoding"); len(te) > 0 {
		if len(te) != 1 || !strings.EqualFold(strings.TrimSpace(te[0]), "chunked") {
			return nil, fmt.Errorf("unsupported Transfer-Encoding %q", strings.Join(te, ", "))
		}
		return readChunked(br, tooBig)
	}
	if cl := hdr.Values("Content-Length"); len(cl) > 0 {
		n, err := strconv.ParseInt(strings.TrimSpace(cl[0]), 10, 64)
		if err != nil || n < 0 || len(cl) > 1 && slicesDiffer(cl) {
			return nil, fmt.Errorf("invalid Content-Length %q", strings.Join(cl, ", "))
		}
		if n > MaxPolicySize {
			return nil, tooBig
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(br, body); err != nil {
			return nil, fmt.Errorf("reading the policy: %w", noEOF(err))
		}
		return body, nil
	}
	body, err := io.ReadAll(io.LimitReader(br, MaxPolicySize+1))
	if err != nil {
		return nil, fmt.Errorf("reading the policy: %w", err)
	}
	if len(body) > MaxPolicySize {
		return nil, tooBig
	}
	return body, nil
}

// readChunked decodes a chunked body (RFC 9112 §7.1): chunk extensions
// and trailer fields are read and ignored, within the same bounds.
func readChunked(br *bufio.Reader, tooBig error) ([]byte, error) {
	var body []byte
	line := func() (string, error) {
		// A chunk-size line or trailer field is short; 4 KiB is generous.
		s, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull || len(s) > 4096 {
			return "", errors.New("a chunk line is too long")
		}
		if err != nil {
			return "", fmt.Errorf("reading the policy: %w", noEOF(err))
		}
		return strings.TrimRight(string(s), "\r\n"), nil
	}
	for trailers := 0; ; {
		l, err := line()
		if err != nil {
			return nil, err
		}
		sz, _, _ := strings.Cut(l, ";")
		n, err := strconv.ParseUint(strings.TrimSpace(sz), 16, 32)
		if err != nil {
			return nil, fmt.Errorf("invalid chunk size %.40q", l)
		}
		if n == 0 {
			for {
				t, err := line()
				if err != nil {
					return nil, err
				}
				if t == "" {
					return body, nil
				}
				if trailers++; trailers > 100 {
					return nil, errors.New("too many trailer fields")
				}
			}
		}
		if uint64(len(body))+n > MaxPolicySize {
			return nil, tooBig
		}
		start := len(body)
		body = append(body, make([]byte, n)...)
		if _, err := io.ReadFull(br, body[start:]); err != nil {
			return nil, fmt.Errorf("reading the policy: %w", noEOF(err))
		}
		if crlf, err := line(); err != nil || crlf != "" {
			return nil, errors.New("a chunk does not end with CRLF")
		}
	}
}

// slicesDiffer reports whether repeated Content-Length values disagree
// (identical repeats are allowed, RFC 9110 §8.6).
func slicesDiffer(v []string) bool {
	for _, s := range v[1:] {
		if strings.TrimSpace(s) != strings.TrimSpace(v[0]) {
			return true
		}
	}
	return false
}

// noEOF turns the end of the stream in the middle of a reply into an
// error that says so.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
