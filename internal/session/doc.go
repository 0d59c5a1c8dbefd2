// Package session is the one place in smtpx that reads and writes SMTP on the
// wire. It drives a dialogue over a net.Conn (TCP, unix socket or implicit
// TLS), parses replies exactly and within bounds, and reports every line sent
// and received to an Observer. It knows nothing about flags, colour or JSON.
//
// Implemented:
//   - RFC 5321 (SMTP): reply syntax §4.2, multi-line replies, command syntax,
//     EHLO with HELO fallback, QUIT.
//   - RFC 3463 and RFC 2034: enhanced status codes on reply lines.
//   - RFC 2920 (PIPELINING): a group of commands in one write, replies in order.
//   - RFC 3030 (CHUNKING/BDAT).
//   - RFC 3207 (STARTTLS), with a check that no plaintext was buffered after 220.
//   - RFC 4954 (AUTH) through github.com/emersion/go-sasl clients; a server
//     that echoes the credentials back has them hidden in every reply line,
//     event and error that follows (see SecretHolder).
//   - RFC 2033 (LMTP): LHLO and one reply per recipient after the data.
package session
