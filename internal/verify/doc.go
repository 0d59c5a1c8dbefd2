// Package verify runs `smtpx verify`: it asks the mail servers of an
// address whether they would accept it, politely and in bulk, and turns the
// evidence into an honest verdict.
//
// For each address it checks the syntax (internal/address), finds the mail
// servers (internal/route), then holds the dialogue through internal/session:
// EHLO with a real name, opportunistic STARTTLS, MAIL FROM (the null sender
// by default), RCPT TO, and — when the target was accepted — RCPT TO a random
// local part of the same domain to detect a catch-all; RSET between
// addresses, QUIT at the end, never DATA. Many addresses share one session
// per MX; catch-all answers are cached per domain.
//
// What a domain can cost is bounded: a session is sought over at most 5
// addresses of its MX hosts, and no more once 2 of them answered without
// serving (route.Limits, shared with send). Politeness (Options.PerMX and
// Delay) is per server IP address, not per MX name, because many names can
// point at one server.
//
// Standards it follows:
//
//   - RFC 5321: §5.1 routing (MX by preference, the implicit MX, the next MX
//     only after a connection failure or a 4xx before RCPT, never after a
//     5xx), §4.1.1 the commands (RSET, VRFY, EXPN, QUIT), §4.5.1 postmaster,
//     §4.1.4 the HELO name, §3.3 the null reverse-path;
//   - RFC 3463 (with RFC 5248's registry): verdicts are decided by the
//     enhanced status code first and the reply text second, so a 5.7.x policy
//     refusal of the prober is reported as "blocked", never as undeliverable;
//   - RFC 7505: a null MX is reported as 556 5.1.10 without connecting;
//   - RFC 6531: a non-ASCII local part is only sent to a server offering
//     SMTPUTF8, with the SMTPUTF8 parameter on MAIL FROM;
//   - RFC 5890/5891: Unicode domains are looked up and sent as A-labels;
//   - RFC 2920: MAIL, RCPT and RSET travel in one write when the server
//     offers PIPELINING, so a run is bounded by round trips, not by the tool;
//   - RFC 3207: STARTTLS when offered; the certificate is checked and the
//     result reported, but, as for any MTA doing opportunistic TLS (RFC
//     7435), a certificate that does not verify does not stop the check.
//
// Acceptance at RCPT does not prove that a message would be delivered: a
// server may accept and bounce later. Only a refusal is hard evidence.
package verify
