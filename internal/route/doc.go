// Package route finds where mail for a domain goes, and answers the other DNS
// questions the send, probe and verify verbs ask. It is the only package that
// speaks DNS, through github.com/miekg/dns, so that --dns-server can name any
// resolver and tests can point it at an in-process server (internal/dnstest).
//
// What it implements, and from where:
//
//   - RFC 5321 §5.1: MX records by preference, each MX host resolved to its
//     addresses, the implicit MX (the domain's own A/AAAA) when there is no MX,
//     a CNAME at the domain followed, address literals ("[192.0.2.1]") taken
//     as they are.
//   - RFC 7505: a null MX ("MX 0 .") is reported as its own error kind so
//     callers can explain it as 556 5.1.10 instead of trying to deliver.
//   - RFC 1035: queries over UDP, retried over TCP when the answer is
//     truncated; response codes (NXDOMAIN, SERVFAIL, REFUSED) mapped to kinds.
//   - RFC 3596: AAAA records; IPv4 and IPv6 addresses are kept apart because
//     servers behind one name often differ per family.
//   - RFC 6698 and RFC 7672: TLSA records for _PORT._tcp.HOST (DANE for SMTP).
//   - RFC 4035 (with RFC 6840 §5.7): the DNSSEC OK bit is set on TLSA queries
//     and the AD bit is requested on every query; the AD bit of the answer is
//     reported, because DANE only applies to answers a validating resolver
//     vouched for. The AD bit is only as trustworthy as the path to the
//     resolver: a local validating resolver, or one reached over a trusted
//     network.
//
// What a zone can make it do is bounded (a 64 KiB answer can name
// thousands of hosts or addresses): Route looks up at most MaxMXHosts MX
// hosts, four at a time, and keeps at most 16 addresses per A or AAAA
// answer. Delivery and verification use RouteWithin and Limits, in the
// spirit of Postfix's smtp_mx_address_limit and smtp_mx_session_limit: 5
// addresses tried over all MX hosts, 2 of them with a session, and no more
// MX hosts looked up than that needs (10 at most).
//
// Search lists and ndots from resolv.conf are deliberately not applied: mail
// domains are fully qualified (RFC 5321 §2.3.5), and appending a local search
// domain to a recipient's domain would route mail somewhere the sender never
// named.
package route
