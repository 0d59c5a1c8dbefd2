package session

import "time"

// Dir is the direction or nature of an Event.
type Dir int

// Event directions.
const (
	Sent     Dir = iota // a line the client wrote
	Received            // a line of a server reply
	Info                // something the client noticed: connected, TLS established
	Failure             // a failure the client reports, e.g. a protocol violation
)

// Event is one line of a dialogue, reported to an Observer as it happens.
type Event struct {
	Dir    Dir
	TLS    bool          // the line travelled inside TLS
	At     time.Duration // offset from the start of the session
	Line   string        // the bytes, without line end; untrusted for Received, credentials sent in AUTH hidden
	Secret bool          // an AUTH payload: renderers redact it
	Code   int           // for Received: the reply code the line belongs to
	Last   bool          // for Received: the last line of its reply
	// Wait, on the last line of a reply, is how long the reply took: from
	// the end of the write it answers (the connection or TLS handshake
	// for a greeting) to its last line. Pipelined replies all count from
	// the one write that carried their commands.
	Wait time.Duration
	Body bool // for Sent: a line of message content
}

// Observer receives events in order. It is called synchronously from the
// goroutine driving the session.
type Observer func(Event)
