package smtptest

import (
	"fmt"
	"strings"
)

// SilentMX is a domain whose n MX hosts each accept connections and never
// say a word: the hostile domain of the MX limits tests.
type SilentMX struct {
	// Zone is the zone-file text for internal/dnstest: MX records for
	// domain, and an A record in 127.0.5.0/24 for each host.
	Zone string
	// Addrs maps each host's A-record address to its server's real
	// address, for a dialler that redirects.
	Addrs   map[string]string
	servers []*Server
}

// StartSilentMX starts the n servers. Close them with Close.
func StartSilentMX(domain string, n int) (*SilentMX, error) {
	m := &SilentMX{Addrs: map[string]string{}}
	var zone strings.Builder
	for i := range n {
		srv, err := Start("hang\n")
		if err != nil {
			m.Close()
			return nil, err
		}
		m.servers = append(m.servers, srv)
		ip := fmt.Sprintf("127.0.5.%d", i+1)
		fmt.Fprintf(&zone, "%s. MX %d mx%02d.%s.\nmx%02d.%s. A %s\n", domain, 10+i, i, domain, i, domain, ip)
		m.Addrs[ip] = srv.Addr()
	}
	m.Zone = zone.String()
	return m, nil
}

// Conns counts the connections all the servers accepted.
func (m *SilentMX) Conns() (n int) {
	for _, s := range m.servers {
		n += s.Conns()
	}
	return n
}

// Close stops every server.
func (m *SilentMX) Close() {
	for _, s := range m.servers {
		s.Close()
	}
}

// ManyAddressZone is a zone for internal/dnstest in which domain's one MX
// host has n A records in 127.1.0.0/16: the host that would get n
// connection attempts without a limit.
func ManyAddressZone(domain string, n int) string {
	var zone strings.Builder
	fmt.Fprintf(&zone, "%s. MX 10 mx.%s.\n", domain, domain)
	for i := range n {
		fmt.Fprintf(&zone, "mx.%s. A 127.1.%d.%d\n", domain, i/250, i%250+1)
	}
	return zone.String()
}
