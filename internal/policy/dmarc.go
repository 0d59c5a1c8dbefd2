package policy

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseDMARC reads the _dmarc TXT answers (RFC 7489 §6.3, §6.4): exactly
// one record starting with v=DMARC1, a p tag of none, quarantine or
// reject, an sp tag (if any) of the same, and a pct tag (if any) of 0 to
// 100.
func ParseDMARC(txts []string) Record {
	r, ok := pickTagged(txts, "v=DMARC1")
	if !ok {
		return r
	}
	tags := r.Tags
	first := strings.TrimSpace(strings.SplitN(r.Text, ";", 2)[0])
	valid := func(v string) bool { return v == "none" || v == "quarantine" || v == "reject" }
	switch {
	case first != "v=DMARC1":
		r.Err = fmt.Errorf("the record must start with v=DMARC1")
	case tags["p"] == "":
		r.Err = fmt.Errorf("the record has no p tag")
	case !valid(strings.ToLower(tags["p"])):
		r.Err = fmt.Errorf("p=%s is not none, quarantine or reject", tags["p"])
	case tags["sp"] != "" && !valid(strings.ToLower(tags["sp"])):
		r.Err = fmt.Errorf("sp=%s is not none, quarantine or reject", tags["sp"])
	case tags["pct"] != "":
		if n, e := strconv.Atoi(tags["pct"]); e != nil || n < 0 || n > 100 {
			r.Err = fmt.Errorf("pct=%s is not 0 to 100", tags["pct"])
		}
	}
	return r
}
