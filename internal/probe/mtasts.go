package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"time"

	"github.com/smtpx/smtpx/internal/policy"
	"github.com/smtpx/smtpx/internal/route"
)

// MaxPolicySize caps the MTA-STS policy body; RFC 8461 §3.3 suggests
// senders limit it, and 64 KiB is far above any real policy.
const MaxPolicySize = 64 << 10

// fetchPolicy gets the policy body over HTTPS (RFC 8461 §3.3): the
// certificate must be valid for mta-sts.DOMAIN, redirects are not
// followed, only 200 with text/plain counts, and the body is capped.
// Names are resolved through the probe's resolver so that --dns-server
// applies here too; no proxy is used, for the same reason.
func fetchPolicy(ctx context.Context, res *route.Resolver, domain string, port int, roots *x509.CertPool, timeout time.Duration) (string, error) {
	if port == 0 {
		port = 443
	}
	host := "mta-sts." + domain
	dialer := &net.Dialer{Timeout: timeout}
	tr := &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			h, err := res.LookupHost(ctx, host)
			if err != nil {
				return nil, err
			}
			var last error
			for _, a := range append(append([]netip.Addr(nil), h.IPv4...), h.IPv6...) {
				c, err := dialer.DialContext(ctx, "tcp", netip.AddrPortFrom(a, uint16(port)).String())
				if err == nil {
					return c, nil
				}
				last = err
			}
			return nil, last
		},
		TLSClientConfig:        &tls.Config{RootCAs: roots, ServerName: host, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    timeout,
		ResponseHeaderTimeout:  timeout,
		DisableKeepAlives:      true,
		MaxResponseHeaderBytes: 64 << 10,
	}
	defer tr.CloseIdleConnections()
	cl := &http.Client{
		Transport: tr,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, policy.STSURL(domain, port), nil)
	if err != nil {
		return "", err
	}
	resp, err := cl.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "", fmt.Errorf("fetch failed: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return "", fmt.Errorf("the server redirects (HTTP %d to %q); RFC 8461 §3.3 forbids following it", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("HTTP %d, not 200", resp.StatusCode)
	}
	ct := resp.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != "text/plain" {
		return "", fmt.Errorf("media type is %q, not text/plain", ct)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxPolicySize+1))
	if err != nil {
		return "", fmt.Errorf("reading the policy: %w", err)
	}
	if len(body) > MaxPolicySize {
		return "", fmt.Errorf("the policy is larger than %d bytes", MaxPolicySize)
	}
	return string(body), nil
}
