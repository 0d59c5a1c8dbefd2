package replycode

// The reference tables live outside the repository, in ../shared/reference
// beside the clone; the generated facts are committed so builds need nothing.
//go:generate go run ./internal/genfacts -basic ../../../shared/reference/codes-basic.tsv -enhanced ../../../shared/reference/codes-enhanced.tsv -o facts_gen.go
//go:generate go run ./internal/genpatterns -in patterns.txt -o patterns_gen.go

// basicFact is one row of the basic reply-code reference: a code ("250"), a
// class ("2yz") or a category ("x5z") as used by core SMTP or an extension.
type basicFact struct {
	Code     string // "250", "2yz", "x5z", "xyz"
	Ext      string // extension that defines this use ("STARTTLS", "AUTH", "ETRN"), "" for core SMTP
	Commands string // commands that can return it (RFC 5321 §4.3.2 and extensions)
	Ref      string // defining RFC and sections
}

// enhancedFact is one row of the enhanced status code registry: a code with
// any class ("X.1.1"), a class ("5.XXX.YYY") or a subject ("X.7.YYY").
type enhancedFact struct {
	Code     string // "X.1.1", "5.XXX.YYY", "X.7.YYY"
	Registry string // the name the IANA registry gives it
	Standard string // the RFC(s) and their status
	Basic    string // associated basic reply codes, as the registry gives them
	Ref      string // defining RFC and section
}
