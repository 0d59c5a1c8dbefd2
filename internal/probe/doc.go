// Package probe runs `smtpx probe`: it inspects mail servers the way
// posttls-finger, testssl.sh, CheckTLS and MxToolbox do together, reports
// every finding as a check with a stable id and a PASS, WARN, FAIL or INFO
// status, and turns the findings into one exit status a CI job can gate on.
//
// A target is one endpoint (HOST:PORT, a server URL, a unix socket) or a
// mail domain, whose MX hosts are probed address by address and port by
// port, a few at a time. Every dialogue is read-only: the probe never sends
// DATA, and the checks that send more than EHLO and STARTTLS (relay, VRFY,
// injection, legacy TLS, SIZE) run only when asked for.
//
// What it implements, and from where:
//
//   - RFC 5321: the greeting, EHLO/HELO, VRFY and EXPN (§3.5, §4.1.1), the
//     MX order of a domain and the implicit MX (§5.1), through internal/route.
//   - RFC 7505: a null MX is reported, not probed.
//   - RFC 3207: STARTTLS, the second EHLO and the rule that STARTTLS is not
//     advertised again inside TLS (§4.2); the plaintext-injection check
//     follows the CVE-2011-0411 pattern.
//   - RFC 8314: implicit TLS on port 465, and the warning for AUTH PLAIN or
//     LOGIN offered in clear text on a submission port.
//   - RFC 8996: TLS 1.0 and 1.1 are deprecated (--check-legacy-tls).
//   - RFC 5280 and RFC 6125: the certificate chain as sent, its validity and
//     its names, verified against the system roots or --ca-file.
//   - RFC 6066 / RFC 6960: whether an OCSP response was stapled.
//   - RFC 8461 (MTA-STS): the _mta-sts TXT record (§3.1), the policy fetched
//     over HTTPS without redirects, as text/plain, size-capped (§3.2, §3.3),
//     and every MX matched against its patterns with a valid certificate
//     (§4.1, §4.2).
//   - RFC 8460 (TLS-RPT): the _smtp._tls TXT record (§3).
//   - RFC 6698, RFC 7671 and RFC 7672 (DANE): TLSA records for
//     _PORT._tcp.MXHOST looked up with the DNSSEC OK bit, used only when the
//     resolver set the AD bit, and DANE-TA(2) and DANE-EE(3) records matched
//     against the presented chain; PKIX-TA(0) and PKIX-EE(1) are unusable in
//     SMTP (RFC 7672 §3.1.3).
//   - RFC 7208 (SPF) and RFC 7489 (DMARC): the records are present and
//     parse (informational).
//   - RFC 1870 (SIZE), RFC 2920, RFC 3030, RFC 3461, RFC 2034, RFC 6152,
//     RFC 6531, RFC 8689 and others: the EHLO inventory, described through
//     internal/ehlo.
//
// The records and policies themselves are parsed and matched by
// internal/policy; this package looks them up, fetches the MTA-STS policy,
// and turns what policy says into checks.
//
// Exit status (DESIGN §4): every check that fails carries the status it
// stands for (1 for a failed check, 3 for the network, 4 and 5 for a
// rejecting greeting or EHLO, 6 for TLS where TLS was required, 7 for a
// protocol violation); warnings count as failures with --fail-on warn. The
// result's status is the highest of them, so with several endpoints the
// most severe wins.
package probe
