// Package interop runs real SMTP servers that nobody here wrote, for the
// tests that check smtpx against them (issue 17): a private Postfix smtpd
// instance, aiosmtpd and Nodemailer's smtp-server. Each starts on a free
// loopback port from the test, with its own files under a temporary
// directory, and is stopped by its process id when the test ends.
//
// A server that is not installed skips the test with a message, unless
// SMTPX_INTEROP=1 (as in CI, where .ci/run installs them): then it fails.
package interop
