package session

import (
	"testing"

	smtp "github.com/smtpx/smtpx/internal/third_party/go-smtp"
)

func TestMailAndRcptCommands(t *testing.T) {
	auth := "a+b@x"
	for _, tt := range []struct{ got, want string }{
		{MailCmd("", nil), "MAIL FROM:<>"},
		{MailCmd("a@x", &smtp.MailOptions{}), "MAIL FROM:<a@x>"},
		{MailCmd("a@x", &smtp.MailOptions{Size: 12, Body: smtp.Body8BitMIME, UTF8: true, Return: smtp.DSNReturnHeaders,
			EnvelopeID: "id=1", RequireTLS: true, Auth: &auth}),
			"MAIL FROM:<a@x> SIZE=12 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=id+3D1 REQUIRETLS AUTH=<a+2Bb@x>"},
		{MailCmdWith("a@x", &smtp.MailOptions{Size: 12}, MailExtra{PRDR: true}), "MAIL FROM:<a@x> SIZE=12 PRDR"},
		{MailCmdWith("", nil, MailExtra{PRDR: true}), "MAIL FROM:<> PRDR"},
		{RcptCmd("b@y", nil), "RCPT TO:<b@y>"},
		{RcptCmd("b@y", &smtp.RcptOptions{Notify: []smtp.DSNNotify{smtp.DSNNotifySuccess, smtp.DSNNotifyFailure},
			OriginalRecipientType: smtp.DSNAddressTypeRFC822, OriginalRecipient: "b@y"}),
			"RCPT TO:<b@y> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b@y"},
		{RcptCmd("jürgen@y", &smtp.RcptOptions{OriginalRecipientType: smtp.DSNAddressTypeUTF8, OriginalRecipient: "jürgen@y"}),
			"RCPT TO:<jürgen@y> ORCPT=utf-8;j+C3+BCrgen@y"},
		{XText("a+b=c d\x01é"), "a+2Bb+3Dc+20d+01+C3+A9"},
	} {
		if tt.got != tt.want {
			t.Errorf("got  %q\nwant %q", tt.got, tt.want)
		}
	}
}

func TestParseEnhanced(t *testing.T) {
	for in, want := range map[string]smtp.EnhancedCode{"5.1.1": {5, 1, 1}, "4.7.26": {4, 7, 26}, "2.0.0": {2, 0, 0}, "5.999.999": {5, 999, 999}} {
		got, ok := ParseEnhanced(in)
		if !ok || got != want || FormatEnhanced(got) != in {
			t.Errorf("ParseEnhanced(%q) = %v %v", in, got, ok)
		}
	}
	for _, bad := range []string{"", "5.1", "6.1.1", "5.1.1000", "5..1", "x.1.1", "5.1.1 "} {
		if _, ok := ParseEnhanced(bad); ok {
			t.Errorf("ParseEnhanced(%q) accepted", bad)
		}
	}
}
