package send

import (
	"context"
	"fmt"
	"net"
	"strconv"

	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/route"
	"github.com/smtpx/smtpx/internal/session"
)

// Candidate is one server to try for a destination.
type Candidate struct {
	Address string // ip:port to dial
	Name    string // MX host name, for SNI and certificate checks
}

// Dest is a group of recipients that go to the same place.
type Dest struct {
	Domain     string
	Rcpts      []Rcpt
	Candidates []Candidate
	Err        error // routing failed: NXDOMAIN, null MX, no addresses, DNS down
}

// PlanRoutes groups recipients by domain and resolves each domain's mail
// servers (RFC 5321 §5.1): MX hosts by preference, each address in turn,
// the implicit MX when there is none, null MX as a permanent failure. A
// destination gets at most route.DefaultLimits.MaxAddresses candidates,
// however many its DNS lists.
func PlanRoutes(ctx context.Context, r *route.Resolver, rcpts []Rcpt, port int) []Dest {
	var dests []Dest
	index := map[string]int{}
	for _, rc := range rcpts {
		i, ok := index[rc.Domain]
		if !ok {
			i = len(dests)
			index[rc.Domain] = i
			dests = append(dests, Dest{Domain: rc.Domain})
		}
		dests[i].Rcpts = append(dests[i].Rcpts, rc)
	}
	for i := range dests {
		res, err := r.RouteWithin(ctx, dests[i].Domain, route.DefaultLimits)
		if err != nil {
			dests[i].Err = err
			continue
		}
		for _, h := range res.Hosts {
			for _, a := range h.Addrs() {
				name := h.Name
				if res.Literal {
					name = ""
				}
				dests[i].Candidates = append(dests[i].Candidates, Candidate{
					Address: net.JoinHostPort(a.String(), strconv.Itoa(port)), Name: name})
			}
		}
		if len(dests[i].Candidates) == 0 {
			dests[i].Err = &route.Error{Kind: route.KindNoData, Name: dests[i].Domain, Msg: "no mail server address found"}
		}
	}
	return dests
}

// RunRoutes delivers to each destination, trying its servers in order and
// moving to the next one on a connection failure or a transient (4xx)
// refusal before any recipient was accepted, within route.DefaultLimits:
// after two servers that answered and failed, the rest are left alone.
func RunRoutes(ctx context.Context, o *Options, dests []Dest) []*Transaction {
	var txs []*Transaction
	for _, d := range dests {
		if d.Err != nil {
			tx := &Transaction{Server: d.Domain}
			for _, rc := range d.Rcpts {
				tx.Rcpts = append(tx.Rcpts, RcptResult{Mailbox: rc.Mailbox})
			}
			err := RouteError(d.Domain, d.Err)
			o.info(err.Error())
			tx.fail(err)
			txs = append(txs, tx)
			continue
		}
		var tx *Transaction
		tries := route.DefaultLimits.Tries()
		for i, c := range d.Candidates {
			if !tries.Next() {
				break
			}
			oo := *o
			oo.Session.Address = c.Address
			oo.Session.Network = "tcp"
			oo.Session.ServerName = c.Name
			if oo.Session.TLSConfig != nil && c.Name != "" && oo.Session.TLSConfig.ServerName == "" {
				cfg := oo.Session.TLSConfig.Clone()
				cfg.ServerName = c.Name
				oo.Session.TLSConfig = cfg
			}
			tx = Deliver(ctx, &oo, d.Rcpts)
			tx.MX = c.Name
			if answered(tx) {
				tries.Answered()
			}
			if i < len(d.Candidates)-1 && retryable(tx) {
				if !tries.More() {
					o.info(fmt.Sprintf("%s failed (%v); not trying the other mail servers: %s", c.Address, tx.Err, tries.Why()))
					break
				}
				o.info(fmt.Sprintf("%s failed (%v); trying the next mail server", c.Address, tx.Err))
				continue
			}
			break
		}
		txs = append(txs, tx)
	}
	return txs
}

// answered reports whether the server sent any reply: the attempt reached
// an SMTP session, which counts against route.Limits.MaxSessions.
func answered(tx *Transaction) bool {
	return tx.Final != nil || tx.Session != nil && tx.Session.Banner != nil
}

// retryable: nothing was accepted and the failure was a network error or
// a 4xx at the banner, EHLO or MAIL.
func retryable(tx *Transaction) bool {
	for _, r := range tx.Rcpts {
		if r.Reply != nil && r.Reply.Code/100 == 2 {
			return false
		}
	}
	if tx.Err == nil {
		return false
	}
	if se, ok := tx.Err.(*session.Error); ok {
		switch se.Kind {
		case session.KindNetwork:
			return true
		case session.KindReply:
			return se.Reply != nil && se.Reply.Code/100 == 4
		}
	}
	return false
}

// RouteError explains a routing failure the way a server would have
// answered it, so scripts and people see one vocabulary: a null MX is
// 556 5.1.10 (RFC 7505), a domain that does not exist or has no mail
// server is 550 5.1.2; DNS trouble stays a network failure (exit 3).
func RouteError(domain string, err error) error {
	switch route.KindOf(err) {
	case route.KindNullMX:
		return &exitcode.Error{Code: exitcode.Permanent, Err: err,
			Msg:  fmt.Sprintf("%s accepts no mail: it publishes a null MX (556 5.1.10)", domain),
			Hint: "the domain says it never receives mail; check the address (see 'smtpx codes 556 5.1.10')"}
	case route.KindNXDomain:
		return &exitcode.Error{Code: exitcode.Permanent, Err: err,
			Msg:  fmt.Sprintf("domain %s does not exist (550 5.1.2)", domain),
			Hint: "check the spelling of the domain (see 'smtpx codes 550 5.1.2')"}
	case route.KindNoData:
		return &exitcode.Error{Code: exitcode.Permanent, Err: err,
			Msg:  fmt.Sprintf("%s has no mail server: no MX and no address (550 5.1.2)", domain),
			Hint: "check the domain, or give --server"}
	case route.KindInvalid:
		return &exitcode.Error{Code: exitcode.Usage, Err: err, Msg: err.Error(), Hint: "check the recipient's domain"}
	}
	return &exitcode.Error{Code: exitcode.Network, Err: err, Msg: fmt.Sprintf("cannot look up the mail servers of %s: %v", domain, err),
		Hint: "check the network or name a resolver with --dns-server"}
}
