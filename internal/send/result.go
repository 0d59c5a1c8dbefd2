package send

import (
	"errors"

	"github.com/smtpx/smtpx/internal/session"
	"github.com/smtpx/smtpx/internal/transcript"
)

// RcptJSON is one recipient in --json output.
type RcptJSON struct {
	Address  string            `json:"address"`
	Server   string            `json:"server"`
	Accepted bool              `json:"accepted"`
	Status   string            `json:"status"` // accepted, retry or failed (see StatusAccepted)
	Reply    *transcript.Reply `json:"reply"`  // the reply to RCPT TO, null if never sent
	Data     *transcript.Reply `json:"data"`   // LMTP or PRDR: this recipient's reply after the data
}

// TxJSON is one transaction in --json output.
type TxJSON struct {
	Server    string             `json:"server"`
	MX        string             `json:"mx,omitempty"`
	TLS       *transcript.TLS    `json:"tls"`
	Auth      string             `json:"auth,omitempty"`
	Pipelined bool               `json:"pipelined"`
	Chunked   bool               `json:"chunked"`
	Size      int64              `json:"size"`
	QueueID   string             `json:"queue_id"`
	Stopped   string             `json:"stopped_after,omitempty"`
	Dropped   bool               `json:"dropped,omitempty"` // closed at stopped_after without QUIT
	XClient   *transcript.Reply  `json:"xclient,omitempty"`
	PRDR      bool               `json:"prdr"` // MAIL asked for per-recipient replies (recipients[].data)
	Mail      *transcript.Reply  `json:"mail"`
	Data      *transcript.Reply  `json:"data"`
	End       *transcript.Reply  `json:"end"`
	Error     string             `json:"error,omitempty"`
	TimingsMS map[string]float64 `json:"timings_ms"`
}

// JSON is the --json result of a send.
type JSON struct {
	From         string     `json:"from"`
	Recipients   []RcptJSON `json:"recipients"`
	Transactions []TxJSON   `json:"transactions"`
	QueueID      string     `json:"queue_id"`
	// LongLines counts the message's lines over 998 octets, sent as given.
	LongLines int `json:"long_lines"`
	transcript.Final
	Events []transcript.JSONEvent `json:"events"`
}

// ToJSON builds the result object. exit and err come from Exit; hint from
// the caller's hint table.
func ToJSON(o *Options, txs []*Transaction, exit int, err error, hint string, events []session.Event, showAuth bool) JSON {
	j := JSON{From: o.From, Recipients: []RcptJSON{}, Transactions: []TxJSON{}, Events: transcript.ToJSON(events, showAuth)}
	if o.Source != nil {
		j.LongLines = LongLines(o.Source)
	}
	var last *session.Reply
	for _, tx := range txs {
		tj := TxJSON{
			Server: tx.Server, MX: tx.MX, Auth: tx.Mech, Pipelined: tx.Pipelined, Chunked: tx.Chunked,
			Size: tx.Size, QueueID: tx.QueueID, Stopped: tx.Stopped, Dropped: tx.Dropped,
			XClient: transcript.FromReply(tx.XClient), PRDR: tx.PRDR,
			Mail: transcript.FromReply(tx.Mail), Data: transcript.FromReply(tx.Data), End: transcript.FromReply(tx.End),
			TimingsMS: transcript.Timings(tx.Timings),
		}
		if tx.Session != nil && tx.Session.TLS != nil {
			insecure := o.Session.TLSConfig != nil && o.Session.TLSConfig.InsecureSkipVerify
			tj.TLS = transcript.FromTLS(tx.Session.TLS, !insecure)
		}
		if tx.Err != nil {
			tj.Error = tx.Err.Error()
		}
		if j.QueueID == "" {
			j.QueueID = tx.QueueID
		}
		j.Transactions = append(j.Transactions, tj)
		for i, r := range tx.Rcpts {
			j.Recipients = append(j.Recipients, RcptJSON{
				Address: r.Mailbox, Server: tx.Server, Accepted: r.Accepted, Status: tx.RcptStatus(i),
				Reply: transcript.FromReply(r.Reply), Data: transcript.FromReply(r.Data),
			})
		}
		if tx.Final != nil {
			last = tx.Final
		}
	}
	j.SetReply(FinalReply(txs, err, last))
	j.Exit = exit
	if err != nil {
		j.Error = err.Error()
		j.Hint = hint
	}
	return j
}

// FinalReply is the reply that ended the dialogue: the one behind the first
// failure when it was a reply, else the last one before QUIT.
func FinalReply(txs []*Transaction, err error, last *session.Reply) *session.Reply {
	var se *session.Error
	if err != nil && errors.As(err, &se) && se.Reply != nil {
		return se.Reply
	}
	if last == nil {
		for _, tx := range txs {
			if tx.Final != nil {
				last = tx.Final
			}
		}
	}
	return last
}
