// Package replycode knows what SMTP replies mean. It holds the tables behind
// "smtpx codes": every basic reply code and every registered enhanced status
// code, explained in the project's own words with advice on what to do, the
// meanings big receivers (Gmail, Microsoft 365, Yahoo) give to some codes and
// texts, and a lenient parser that finds replies in pasted text such as a
// bounce or a swaks-style transcript. Hint gives other verbs a one-line
// annotation for a failing reply.
//
// Implemented:
//   - RFC 5321 §4.2 and §4.3.2: reply code syntax, classes (first digit),
//     categories (second digit), the codes and the commands that return them.
//   - RFC 7504: 521 and 556 for hosts and domains that accept no mail.
//   - RFC 7505: null MX (556, X.1.10, X.7.27).
//   - RFC 3463 and RFC 5248: enhanced status codes class.subject.detail and
//     their registry; unknown codes fall back by subject, then class (§2).
//   - RFC 2034: enhanced codes on reply lines, and the rule that a reply's
//     class and its enhanced code's class agree.
//   - Extension replies of RFC 3207 (STARTTLS), RFC 4954 (AUTH) and
//     RFC 1985 (ETRN).
//
// The facts (codes, references, associated codes, commands) are generated
// from the project's reference tables into facts_gen.go, so nothing is parsed
// at run time; the wording lives in basic.go, enhanced.go and provider.go.
package replycode
