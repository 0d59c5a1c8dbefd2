package transport

import (
	"context"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/pires/go-proxyproto"

	"github.com/smtpx/smtpx/internal/exitcode"
)

// headerWait bounds the write of the header when the caller set no
// deadline; it fits in any socket buffer, so it waits only on a peer that
// reads nothing at all.
const headerWait = 10 * time.Second

// writeProxyHeader sends the HAProxy PROXY protocol header (v1: one text
// line; v2: a binary block) on c before anything else, announcing
// --proxy-source and --proxy-dest, or the connection's own addresses.
func (d *Dialer) writeProxyHeader(ctx context.Context, c *Conn) error {
	src, dst := d.ppSrc, d.ppDst
	if !src.IsValid() {
		src = addrPort(c.LocalAddr())
	}
	if !dst.IsValid() {
		dst = addrPort(c.RemoteAddr())
	}
	if !src.IsValid() || !dst.IsValid() {
		return exitcode.Usagef("give --proxy-source ADDR:PORT and --proxy-dest ADDR:PORT",
			"--proxy-protocol: the connection has no TCP address to announce")
	}
	if src.Addr().Is4() != dst.Addr().Is4() {
		return exitcode.Usagef("give --proxy-source and --proxy-dest of the same family as the connection",
			"--proxy-protocol: the source and destination addresses are of different families")
	}
	h := proxyproto.HeaderProxyFromAddrs(d.ppVersion, net.TCPAddrFromAddrPort(src), net.TCPAddrFromAddrPort(dst))
	b, err := h.Format()
	if err != nil {
		return exitcode.Usagef("check --proxy-source and --proxy-dest", "--proxy-protocol: %v", err)
	}
	deadline := time.Now().Add(headerWait)
	if dl, ok := ctx.Deadline(); ok {
		deadline = dl
	}
	_ = c.SetWriteDeadline(deadline)
	_, err = c.Conn.Write(b)
	_ = c.SetWriteDeadline(time.Time{})
	if err != nil {
		return &exitcode.Error{Code: exitcode.Network, Err: err, Msg: fmt.Sprintf("cannot send the PROXY header: %v", err),
			Hint: "the server closed the connection at once; check that it is the one expecting the PROXY protocol"}
	}
	c.notes.add(describeHeader(d.ppVersion, b, src, dst))
	return nil
}

func addrPort(a net.Addr) netip.AddrPort {
	if ta, ok := a.(*net.TCPAddr); ok {
		ap := ta.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	return netip.AddrPort{}
}

// describeHeader is the transcript's line for a header: v1 as it went out,
// v2 decoded and in hex.
func describeHeader(v byte, b []byte, src, dst netip.AddrPort) string {
	if v == 1 {
		return "PROXY v1 header sent: " + strings.TrimRight(string(b), "\r\n")
	}
	fam := "TCP4"
	if src.Addr().Is6() {
		fam = "TCP6"
	}
	return fmt.Sprintf("PROXY v2 header sent (%d bytes): %s %s -> %s: %s", len(b), fam, src, dst, hex.EncodeToString(b))
}
