// Package message builds and streams the messages smtpx sends.
//
// Two kinds of message implement [Source], the interface the send verb uses
// for SIZE=, BODY=8BITMIME, SMTPUTF8, DATA and BDAT:
//
//   - [Message], built by [Build] from [Options]: the default test message
//     or one assembled from a subject, headers, a text body, an HTML
//     alternative and attachments (inline images included).
//   - [Data], a complete message given by the user (--data @FILE|-) and
//     sent byte-exact except for line-end normalisation.
//
// Both are streamed: content is read from files each time the message is
// opened, stdin is spooled to an unlinked temporary file, and no buffer
// exceeds 1 MiB, so a message of any size is sent in bounded memory. Open
// yields the content with CRLF line ends and no dot-stuffing (that is the
// session's DotWriter's job on the wire); Size is the exact length of what
// Open yields, so SIZE= and BDAT counts are right.
//
// A built message is deterministic: the same Options (with Date and
// MessageID fixed) give the same bytes, because --dump-mail must show
// exactly what is sent whatever the server offers. That is also why text
// with 8-bit bytes is always quoted-printable rather than 8bit.
//
// Implemented:
//   - RFC 5322 (Internet Message Format): header order, folding at 78
//     characters where possible and never past 998, date and msg-id syntax,
//     quoted display names.
//   - RFC 2045, 2046 (MIME): MIME-Version, Content-Type,
//     Content-Transfer-Encoding 7bit, quoted-printable and base64 (76-character
//     lines), multipart/mixed and multipart/alternative with boundaries that
//     cannot occur in the encoded content.
//   - RFC 2047 (encoded-words): non-ASCII text in unstructured headers and in
//     display names, Q or B whichever is shorter, at most 75 characters each,
//     never splitting a UTF-8 character.
//   - RFC 2183 (Content-Disposition) and RFC 2231 (parameter values and
//     continuations) for attachment file names.
//   - RFC 2387 (multipart/related) and RFC 2392 (Content-ID, cid: URLs) for
//     inline images referenced from the HTML part.
//   - RFC 6532 (internationalised headers): non-ASCII addresses are written
//     as UTF-8 and reported by UTF8Headers so the sender can ask for SMTPUTF8.
package message
