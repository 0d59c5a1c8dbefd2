package ehlo

import (
	"strings"
	"testing"

	"github.com/smtpx/smtpx/internal/session"
)

// Meanings stand in a column; a keyword line longer than the column keeps
// a two-space gap before its meaning.
func TestDescribeAllColumn(t *testing.T) {
	lines := describeAll(session.Extensions{
		{Keyword: "PIPELINING"},
		{Keyword: "AUTH", Params: []string{"PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-256", "XOAUTH2"}},
	})
	if !strings.HasPrefix(lines[0], "PIPELINING"+strings.Repeat(" ", 19)+"command pipelining") {
		t.Errorf("short keyword: %q", lines[0])
	}
	if !strings.Contains(lines[1], "XOAUTH2  SASL authentication") {
		t.Errorf("long keyword: %q", lines[1])
	}
}
