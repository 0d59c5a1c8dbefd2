package cmd

// The completions and man pages are generated from this command tree by a
// separate program, so its dependencies stay out of the smtpx binary.
//go:generate go run ../internal/gendocs ..
