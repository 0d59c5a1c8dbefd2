package ehlo

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/smtpx/smtpx/internal/session"
)

// known gives a short meaning for registered keywords.
var known = map[string]string{
	"8BITMIME":            "8-bit message content (RFC 6152)",
	"AUTH":                "SASL authentication (RFC 4954)",
	"AUTH=":               "SASL authentication, legacy syntax",
	"BINARYMIME":          "binary content with BDAT (RFC 3030)",
	"CHUNKING":            "BDAT message chunks (RFC 3030)",
	"DELIVERBY":           "delivery deadline (RFC 2852)",
	"DSN":                 "delivery status notifications (RFC 3461)",
	"ENHANCEDSTATUSCODES": "enhanced status codes in replies (RFC 2034)",
	"ETRN":                "remote queue start (RFC 1985)",
	"EXPN":                "mailing list expansion (RFC 5321)",
	"FUTURERELEASE":       "hold for future release (RFC 4865)",
	"HELP":                "HELP command (RFC 5321)",
	"LIMITS":              "advertised limits (RFC 9422)",
	"MT-PRIORITY":         "message priorities (RFC 6710)",
	"NO-SOLICITING":       "no solicitation (RFC 3865)",
	"PIPELINING":          "command pipelining (RFC 2920)",
	"REQUIRETLS":          "require TLS along the path (RFC 8689)",
	"RRVS":                "recipient validity since (RFC 7293)",
	"SIZE":                "message size declaration (RFC 1870)",
	"SMTPUTF8":            "UTF-8 addresses and headers (RFC 6531)",
	"STARTTLS":            "TLS upgrade (RFC 3207)",
	"VRFY":                "address verification (RFC 5321)",
	"XCLIENT":             "Postfix XCLIENT",
	"XFORWARD":            "Postfix XFORWARD",
}

// Meaning returns a short description of a keyword, "" when unknown.
func Meaning(kw string) string { return known[strings.ToUpper(kw)] }

// Describe renders one extension for people, e.g. "SIZE 52428800 (50 MiB)".
// Unknown keywords are shown verbatim. The text comes from the server:
// callers must escape it before printing.
func Describe(x session.Extension) string {
	s := x.Keyword
	if x.Keyword == "AUTH=" {
		s = "AUTH="
		return s + strings.Join(x.Params, " ")
	}
	if len(x.Params) > 0 {
		s += " " + strings.Join(x.Params, " ")
	}
	if x.Keyword == "SIZE" {
		switch {
		case len(x.Params) == 0:
			s += " (no limit given)"
		default:
			n, err := strconv.ParseUint(x.Params[0], 10, 64)
			switch {
			case err != nil:
				s += " (not a valid size)"
			case n == 0:
				s += " (no fixed limit)"
			default:
				s += " (" + HumanBytes(n) + ")"
			}
		}
	}
	return s
}

// HumanBytes formats n in binary units: 52428800 is "50 MiB".
func HumanBytes(n uint64) string {
	units := []string{"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	f := float64(n)
	i := 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%d bytes", n)
	}
	if f == float64(int64(f)) {
		return fmt.Sprintf("%d %s", int64(f), units[i])
	}
	return fmt.Sprintf("%.1f %s", f, units[i])
}
