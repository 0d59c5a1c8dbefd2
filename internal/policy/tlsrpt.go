package policy

import (
	"fmt"
	"strings"
)

// ParseTLSRPT reads the _smtp._tls TXT answers (RFC 8460 §3): exactly one
// record starting with v=TLSRPTv1, whose rua tag lists mailto: or https:
// URIs.
func ParseTLSRPT(txts []string) Record {
	r, ok := pickTagged(txts, "v=TLSRPTv1")
	switch {
	case !ok:
	case r.Tags["v"] != "TLSRPTv1":
		r.Err = fmt.Errorf("the record must start with v=TLSRPTv1")
	case r.Tags["rua"] == "":
		r.Err = fmt.Errorf("the record has no rua tag")
	default:
		for _, u := range strings.Split(r.Tags["rua"], ",") {
			u = strings.TrimSpace(u)
			l := strings.ToLower(u)
			if !strings.HasPrefix(l, "mailto:") && !strings.HasPrefix(l, "https:") {
				r.Err = fmt.Errorf("rua %q is neither mailto: nor https:", u)
				break
			}
		}
	}
	return r
}
