package replycode

import (
	"strings"
	"testing"
)

// Replies as the providers send them (addresses and IPs from documentation
// ranges), with the provider meaning each must be recognised as.
var providerSamples = []struct {
	name, reply, id string
}{
	{"Gmail 5.7.26 multi-line", `550-5.7.26 This mail has been blocked because the sender is unauthenticated.
550-5.7.26 Gmail requires all senders to authenticate with either SPF or DKIM.
550-5.7.26
550-5.7.26  Authentication results:
550-5.7.26  DKIM = did not pass
550-5.7.26  SPF [example.org] with ip: [192.0.2.1] = did not pass
550-5.7.26
550-5.7.26  For instructions on setting up authentication, go to
550 5.7.26  https://support.google.com/mail/answer/81126#authentication d2si1 - gsmtp`, "gmail-unauthenticated"},
	{"Gmail DMARC", "550-5.7.26 Unauthenticated email from example.org is not accepted due to domain's\n550 5.7.26 DMARC policy. Please contact the administrator of example.org domain - gsmtp", "gmail-dmarc-policy"},
	{"Gmail DMARC temporary", "451-4.7.26 Unauthenticated email from example.org is not accepted due to domain's DMARC policy,\n451 4.7.26 but temporary DNS failures prevent authentication - gsmtp", "gmail-dmarc-policy"},
	{"Gmail SPF hard fail", "550-5.7.26 The MAIL FROM domain [example.org] has an SPF record with a hard fail\n550 5.7.26 policy (-all) but it fails to pass SPF checks with the ip: [192.0.2.1] - gsmtp", "gmail-spf-hardfail"},
	{"Gmail rate limited", "421-4.7.28 Gmail has detected an unusual rate of unsolicited email originating\n421-4.7.28 from your IP address 192.0.2.1. To protect our users from spam, email\n421 4.7.28 sent from your IP address has been temporarily rate limited. - gsmtp", "gmail-rate"},
	{"Gmail PTR", "550-5.7.25 The IP address sending this message does not have a PTR record setup, or\n550 5.7.25 the corresponding forward DNS entry does not point to the sending IP. - gsmtp", "gmail-ptr"},
	{"Gmail PTR temporary 4.7.23", "451-4.7.23 192.0.2.1 The sending IP address for this message doesn't have a PTR\n451 4.7.23 record. - gsmtp", "gmail-ptr-reuse"},
	{"Gmail SPF via 5.7.27", "550-5.7.27 This message was blocked because it didn't pass SPF authentication.\n550 5.7.27 Authentication results: SPF with 192.0.2.1 = did not pass - gsmtp", "gmail-spf"},
	{"Gmail TLS via 4.7.29", "421-4.7.29 Your email has been rate limited because this message wasn't sent over a TLS\n421 4.7.29 connection. Gmail requires all bulk email senders to use TLS/SSL - gsmtp", "gmail-tls"},
	{"Gmail DKIM via 5.7.30", "550-5.7.30 This message was blocked because it didn't pass DKIM authentication.\n550 5.7.30 Authentication results: DKIM = did not pass - gsmtp", "gmail-dkim"},
	{"Gmail no DMARC", "550 5.7.40 Your message was blocked because the sending domain doesn't have a DMARC record - gsmtp", "gmail-no-dmarc"},
	{"Gmail login", "535-5.7.8 Username and Password not accepted. For more information, go to\n535 5.7.8  https://support.google.com/mail/?p=BadCredentials - gsmtp", "gmail-auth-login"},
	{"Gmail spam", "550-5.7.1 This message is likely unsolicited email. To reduce the amount of spam sent\n550 5.7.1 to Gmail, this message has been blocked. - gsmtp", "gmail-reputation"},
	{"M365 5.7.708", "550 5.7.708 Service unavailable. Access denied, traffic not accepted from this IP. For more information please go to http://go.microsoft.com/fwlink/?LinkId=526653 AS(7171)", "ms-5.7.708"},
	{"M365 banned IP", "550 5.7.606 Access denied, banned sending IP [192.0.2.1]. To request removal from this list please visit https://sender.office.com/ and follow the directions. (AS16012609)", "ms-banned-ip"},
	{"M365 5.4.1", "550 5.4.1 Recipient address rejected: Access denied. AS(201806281) [BN1NAM02FT022.eop-nam02.prod.protection.outlook.com]", "ms-recipient-dbeb"},
	{"M365 5.7.1 Spamhaus", "550 5.7.1 Service unavailable, Client host [192.0.2.1] blocked using Spamhaus. To request removal from this list see https://www.spamhaus.org/query/ip/192.0.2.1 AS(1450) [DB5EUR03FT012.eop-EUR03.prod.protection.outlook.com]", "ms-spamhaus"},
	{"Outlook.com network block", "550 5.7.1 Unfortunately, messages from [192.0.2.1] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3150).", "ms-network-blocklist"},
	{"M365 5.7.1 relay", "550 5.7.1 Unable to relay for bob@example.org [AM0PR01MB1234.eurprd01.prod.outlook.com]", "ms-unable-to-relay"},
	{"M365 5.7.1 group", "550 5.7.1 RESOLVER.RST.AuthRequired; authentication required [Stage: CreateMessage] - delivery not authorized [DB5PR01.prod.outlook.com]", "ms-not-authorized"},
	{"M365 anonymous", "530 5.7.57 Client not authenticated to send mail. [AM0PR01CA0001.eurprd01.prod.outlook.com]", "ms-anonymous"},
	{"M365 throttled", "451 4.7.500 Server busy. Please try again later from [192.0.2.1]. (AS761) [DB3EUR04FT001.eop-eur04.prod.protection.outlook.com]", "ms-throttled"},
	{"M365 5.1.10", "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup", "ms-recipient-not-found"},
	{"Outlook.com 5.7.515", "550 5.7.515 Access denied, sending domain example.org does not meet the required authentication level.", "ms-5.7.515"},
	{"Yahoo TSS04", "421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes", "yahoo-tss04"},
	{"Yahoo TS03", "421 4.7.1 [TS03] All messages from 192.0.2.1 will be permanently deferred; Retrying will NOT succeed. See https://postmaster.yahooinc.com/error-codes", "yahoo-ts03"},
	{"Yahoo TSS02", "421 4.7.0 [TSS02] Messages from 192.0.2.1 temporarily deferred due to user complaints - 4.16.55.1", "yahoo-ts"},
	{"Yahoo Spamhaus", "553 5.7.1 [BL21] Connections will not be accepted from 192.0.2.1, because the ip is in Spamhaus's list; see https://postmaster.yahooinc.com/error-codes", "yahoo-spamhaus"},
	{"Yahoo content", "554 5.7.9 [PH01] Email not accepted for policy reasons. Please visit https://postmaster.yahooinc.com/error-codes", "yahoo-content"},
	{"Yahoo policy", "554 5.7.9 Message not accepted for policy reasons. See https://postmaster.yahooinc.com/error-codes", "yahoo-policy"},
	{"Yahoo unauthenticated", "550 5.7.9 This mail has been blocked because the sender is unauthenticated. Yahoo requires all senders to authenticate with either SPF or DKIM.", "yahoo-unauthenticated"},
	{"Yahoo no user", "554 delivery error: dd This user doesn't have a yahoo.com account (bob@yahoo.com) [0] - mta1.mail.example.yahoo.com", "yahoo-no-user"},
}

func TestProviderSamples(t *testing.T) {
	for _, s := range providerSamples {
		t.Run(s.name, func(t *testing.T) {
			exps, err := Lookup([]string{s.reply})
			if err != nil || len(exps) != 1 {
				t.Fatalf("%v, %d explanations", err, len(exps))
			}
			e := exps[0]
			if e.Provider == nil || e.Provider.ID != s.id {
				t.Fatalf("provider %+v, want %s", e.Provider, s.id)
			}
			if e.Provider.Fix == "" || e.Action != e.Provider.Fix || e.Provider.Meaning == "" {
				t.Errorf("no fix or meaning: %+v", e.Provider)
			}
			if e.Status == nil && strings.Contains(s.reply, ".") && e.Enhanced != "" {
				t.Errorf("enhanced code not explained")
			}
		})
	}
}

// Replies from ordinary servers must not be mistaken for a provider's.
func TestNoProviderFalsePositives(t *testing.T) {
	for _, r := range []string{
		"554 5.7.1 <bob@example.org>: Relay access denied",
		"550 5.7.1 <bob@example.org>: Recipient address rejected: Access denied",
		"550 5.7.26 Multiple authentication checks failed",
		"550 5.7.27 Sender address has null MX",
		"421 4.7.0 mx.example.org Error: too many connections from 192.0.2.1",
		"451 4.7.1 Service unavailable - try again later",
		"550 5.4.1 no answer from host",
		"550 5.1.10 Recipient address has null MX",
	} {
		if pr := matchProvider(enhancedOf(r), r); pr != nil {
			t.Errorf("%q recognised as %s", r, pr.ID)
		}
	}
}

func enhancedOf(r string) string {
	f := strings.Fields(r)
	if len(f) > 1 {
		return f[1]
	}
	return ""
}

// A code given without text lists the provider meanings that differ from
// the registry, and those of codes only a provider uses.
func TestProviderUsesOfBareCodes(t *testing.T) {
	for code, want := range map[string]string{"5.7.27": "gmail-spf", "4.7.29": "gmail-tls", "5.7.30": "gmail-dkim", "5.4.1": "ms-recipient-dbeb", "5.7.708": "ms-5.7.708", "5.7.620": "ms-banned-ip"} {
		exps, err := Lookup([]string{code})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, u := range exps[0].ProviderUses {
			found = found || u.ID == want
		}
		if !found {
			t.Errorf("%s: provider uses %+v lack %s", code, exps[0].ProviderUses, want)
		}
	}
	exps, _ := Lookup([]string{"5.1.1"})
	if len(exps[0].ProviderUses) != 0 {
		t.Errorf("5.1.1: unexpected provider uses %+v", exps[0].ProviderUses)
	}
}

func TestCodeMatches(t *testing.T) {
	for _, tt := range []struct {
		p, e string
		ok   bool
	}{
		{"5.7.26", "5.7.26", true}, {"X.7.26", "4.7.26", true}, {"X.7.26", "5.7.2", false},
		{"5.7.606-649", "5.7.606", true}, {"5.7.606-649", "5.7.649", true}, {"5.7.606-649", "5.7.650", false},
		{"X.7.606-649", "4.7.610", true}, {"4.7.500-699", "5.7.500", false}, {"bad", "5.7.1", false},
	} {
		if codeMatches(tt.p, tt.e) != tt.ok {
			t.Errorf("codeMatches(%q, %q) != %v", tt.p, tt.e, tt.ok)
		}
	}
}

func TestHasASTag(t *testing.T) {
	for s, want := range map[string]bool{"as(1430)": true, "(as16012609)": true, "has(12)": false, "was(1234)": false, "as(12345": false, "class(123)": false} {
		if hasASTag(s) != want {
			t.Errorf("hasASTag(%q) != %v", s, want)
		}
	}
}
