package route

import (
	"strings"

	"golang.org/x/net/idna"
)

// lookupProfile converts Unicode input the way a user expects a browser or
// mail client to (UTS #46 mapping, non-transitional, Bidi rule), but without
// the STD3 letter-digit-hyphen rule, which would refuse the underscore labels
// of _mta-sts, _dmarc and _25._tcp names.
var lookupProfile = idna.New(
	idna.MapForLookup(),
	idna.BidiRule(),
	idna.Transitional(false),
	idna.StrictDomainName(false),
	idna.VerifyDNSLength(true),
)

// ToASCII returns the DNS form of a domain name: Unicode labels converted to
// A-labels (RFC 5890, via UTS #46 mapping), lower case, without a trailing
// dot. Names that are already ASCII are only lower-cased and checked, not run
// through IDNA, so that any name a resolver could answer can be asked about.
// The error has KindInvalid.
func ToASCII(domain string) (string, error) {
	name := strings.TrimSuffix(domain, ".")
	if name == "" {
		return "", invalid(domain, "empty domain name")
	}
	if !isASCII(name) {
		a, err := lookupProfile.ToASCII(name)
		if err != nil {
			return "", invalid(domain, "not a valid internationalised domain name: %v", err)
		}
		name = strings.TrimSuffix(a, ".")
	}
	name = strings.ToLower(name)
	if len(name) > 253 {
		return "", invalid(domain, "domain name longer than 253 characters")
	}
	for label := range strings.SplitSeq(name, ".") {
		switch {
		case label == "":
			return "", invalid(domain, "empty label in domain name")
		case len(label) > 63:
			return "", invalid(domain, "label %q longer than 63 characters", label)
		}
		for i := 0; i < len(label); i++ {
			if !isNameByte(label[i]) {
				return "", invalid(domain, "character %q not allowed in a domain name", label[i])
			}
		}
	}
	return name, nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// isNameByte allows letters, digits, hyphen and underscore: host names plus
// the service labels (RFC 8552) the probe asks about. Anything else (spaces,
// '@', control characters) is a caller's mistake, not a name to send.
func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}
