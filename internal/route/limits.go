package route

import "fmt"

// Limits bound how much one destination may cost a delivery (send) or an
// address check (verify), whatever its DNS publishes: in the spirit of
// Postfix's smtp_mx_address_limit and smtp_mx_session_limit, whose
// defaults they share. Without them, a domain with 30 MX hosts that accept
// connections and never speak held a run for 30 reply timeouts, and a host
// with 508 A records got 508 connection attempts.
type Limits struct {
	// MaxAddresses is how many addresses are tried at most, over all MX
	// hosts of the destination together, in MX order. Zero means
	// DefaultLimits.MaxAddresses.
	MaxAddresses int
	// MaxSessions is how many of those tries may reach an SMTP session
	// (the server answered, even if only to refuse) before the tries
	// stop: a destination whose servers answer and then fail is not
	// helped by asking more of them. Tries that never got an answer
	// (refused, timed out, silent) count only against MaxAddresses. Zero
	// means DefaultLimits.MaxSessions.
	MaxSessions int
}

// DefaultLimits are Postfix's defaults: 5 addresses, 2 sessions.
var DefaultLimits = Limits{MaxAddresses: 5, MaxSessions: 2}

func (l Limits) orDefault() Limits {
	if l.MaxAddresses <= 0 {
		l.MaxAddresses = DefaultLimits.MaxAddresses
	}
	if l.MaxSessions <= 0 {
		l.MaxSessions = DefaultLimits.MaxSessions
	}
	return l
}

// Trim keeps the first MaxAddresses addresses of hosts in the order they
// are tried (host by host, each host's Addrs order) and drops the hosts
// left without any. It returns the hosts kept and how many were dropped.
// Hosts that had no address to begin with are kept while the limit is not
// reached, so a report can say why they were not tried.
func (l Limits) Trim(hosts []Host) ([]Host, int) {
	left := l.orDefault().MaxAddresses
	var out []Host
	for _, h := range hosts {
		if left == 0 {
			break
		}
		h.IPv6 = h.IPv6[:min(len(h.IPv6), left)]
		left -= len(h.IPv6)
		h.IPv4 = h.IPv4[:min(len(h.IPv4), left)]
		left -= len(h.IPv4)
		out = append(out, h)
	}
	return out, len(hosts) - len(out)
}

// Tries counts one destination's attempts against its Limits. Make one
// with Limits.Tries for each destination (send) or each session sought
// (verify); it is not safe for concurrent use.
type Tries struct {
	lim             Limits
	addrs, sessions int
}

// Tries starts counting against l.
func (l Limits) Tries() *Tries { return &Tries{lim: l.orDefault()} }

// Next reports whether another address may be tried, and counts it when
// it may.
func (t *Tries) Next() bool {
	if !t.More() {
		return false
	}
	t.addrs++
	return true
}

// More reports whether Next would allow another address, without counting
// one.
func (t *Tries) More() bool {
	return t.addrs < t.lim.MaxAddresses && t.sessions < t.lim.MaxSessions
}

// Answered records that the address just tried reached an SMTP session:
// the server sent a reply (its banner, or a refusal).
func (t *Tries) Answered() { t.sessions++ }

// Why says which limit stopped the tries, for a message that explains why
// the remaining servers were left alone; "" while More holds.
func (t *Tries) Why() string {
	switch {
	case t.sessions >= t.lim.MaxSessions:
		return fmt.Sprintf("%d servers answered without success, the most one destination gets", t.sessions)
	case t.addrs >= t.lim.MaxAddresses:
		return fmt.Sprintf("%d addresses tried, the most one destination gets", t.addrs)
	}
	return ""
}
