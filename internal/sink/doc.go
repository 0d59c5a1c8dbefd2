// Package sink is the server behind `smtpx sink`: a local SMTP (or LMTP)
// server for tests, demos and CI that accepts mail, stores every message
// byte-exact and reports what arrived.
//
// The protocol itself is github.com/emersion/go-smtp's server; this package
// configures it, supplies the backend (storage, scripted failures,
// greylisting, authentication) and observes each connection so a person can
// watch the dialogue from the server's side.
//
// Standards implemented (through go-smtp unless noted):
//   - RFC 5321 SMTP, with the server shutdown reply of §3.8 (421) done here
//   - RFC 2033 LMTP (--lmtp)
//   - RFC 1870 SIZE, RFC 2920 PIPELINING, RFC 6152 8BITMIME,
//     RFC 3030 CHUNKING and BINARYMIME, RFC 6531 SMTPUTF8, RFC 3461 DSN
//   - RFC 2034 / RFC 3463 enhanced status codes on every reply
//   - RFC 3207 STARTTLS, and implicit TLS as in RFC 8314 (--tls-on-connect)
//   - RFC 4954 AUTH with RFC 4616 PLAIN and the LOGIN mechanism (here)
//   - RFC 3848 with-protocol names (ESMTPSA...) in the JSON records (here)
//   - RFC 5322 / RFC 2045-2047 / RFC 2183 / RFC 2231 header, MIME and
//     attachment-name parsing for the summaries (here, read-only)
//
// Messages are stored as .eml files or in a Maildir (the de-facto format
// described at https://cr.yp.to/proto/maildir.html), always written under a
// temporary name and renamed into place, so a reader never sees half a file.
package sink
