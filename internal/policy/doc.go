// Package policy reads the mail-security policies a domain publishes and
// evaluates them against what a server presents. It only parses and
// compares: looking records up and fetching policies is the caller's
// business (internal/route asks DNS, internal/probe fetches and reports),
// so everything here is a pure function of its input, and its input is
// untrusted text anyone can publish.
//
// What it implements, and from where:
//
//   - RFC 8461 (MTA-STS): the _mta-sts TXT record (§3.1), the policy body
//     and its limits (§3.2), where the policy lives (§3.3), and matching an
//     MX host against the policy's mx patterns (§4.1).
//   - RFC 6698, RFC 7671 and RFC 7672 (DANE for SMTP): a TLSA record's
//     selector and matching type (RFC 6698 §2.1), DANE-EE(3) matched against
//     the leaf alone and DANE-TA(2) against a certificate of the chain the
//     leaf verifies up to, with the reference names (RFC 7671 §5, RFC 7672
//     §3.1); PKIX-TA(0) and PKIX-EE(1) are unusable in SMTP (RFC 7672
//     §3.1.3).
//   - RFC 7208 (SPF): one v=spf1 record (§4.5), its mechanisms and
//     modifiers (§4.6.1, §12), and the limit of ten terms that cost a DNS
//     lookup (§4.6.4, counted at the top level only).
//   - RFC 7489 (DMARC): one v=DMARC1 record with a p tag of none,
//     quarantine or reject, and valid sp and pct tags (§6.3, §6.4).
//   - RFC 8460 (TLS-RPT): one v=TLSRPTv1 record whose rua names mailto: or
//     https: URIs (§3).
package policy
