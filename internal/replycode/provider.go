package replycode

import (
	"strconv"
	"strings"
)

// Provider sources: the providers' own published documentation, restated
// here in the project's words.
const (
	srcGmail       = "https://support.google.com/a/answer/3726730 (Gmail SMTP errors and codes)"
	srcGmailGuide  = "https://support.google.com/a/answer/81126 (Gmail email sender guidelines)"
	srcMSNDR       = "https://learn.microsoft.com/exchange/troubleshoot/email-delivery/ndr/non-delivery-reports-in-exchange-online"
	srcMS571       = "https://learn.microsoft.com/exchange/troubleshoot/email-delivery/ndr/fix-error-code-550-5-7-1-in-exchange-online"
	srcMS700       = "https://learn.microsoft.com/exchange/mail-flow-best-practices/non-delivery-reports-in-exchange-online/fix-error-code-5-7-700-through-5-7-750"
	srcMSDelist    = "https://sender.office.com (Microsoft 365 delist portal)"
	srcMSHighVol   = "Microsoft Defender for Office 365 blog, \"Outlook's new requirements for high-volume senders\" (April 2025)"
	srcYahoo       = "https://senders.yahooinc.com/smtp-error-codes/ (Yahoo Sender Hub: SMTP error codes)"
	srcYahooTS03   = "https://help.yahoo.com/kb/SLN3436.html (Yahoo: TS03 permanently deferred)"
	providerGmail  = "Gmail"
	providerMS     = "Microsoft 365"
	providerYahoo  = "Yahoo"
	retryLater     = "later"
	retryAfterFix  = "after_fix"
	maxMatchedText = 8192 // only the start of a long text is searched, so Hint stays cheap
)

// providerRule recognises one provider-specific meaning of a reply from its
// codes and its text. Rules are tried in order; the first match wins, so the
// narrow ones come first.
type providerRule struct {
	Provider string
	ID       string
	// Codes are enhanced codes the rule applies to: "5.7.26", "X.7.26" (any
	// class) or "5.7.606-649" (a range of details). Empty means any.
	Codes []string
	// Words: at least one must occur in the lower-cased text. Empty means none needed.
	Words []string
	// NeedSig requires the provider's signature in the text (its host names,
	// URLs or tags); rules on codes no one else uses can do without.
	NeedSig bool
	// Name is a one-line summary; Meaning and Fix are the provider's meaning
	// and remedy in the project's words.
	Name, Meaning, Fix string
	// Retry overrides the advice the reply class gives, "" keeps it.
	Retry string
	// Reuse is set when the provider gives a registered code a meaning that
	// differs from the IANA registry.
	Reuse  bool
	Source string
	// Label is how --list shows a rule without codes; "" derives it.
	Label string
	// Category is the kind of rejection (a category of patterns.txt) the
	// rule's meaning falls under, "" when none fits or the text tells.
	Category string
}

var providerRules = [...]providerRule{
	// Gmail.
	{Provider: providerGmail, ID: "gmail-dmarc-policy", Category: "dmarc", Codes: []string{"X.7.26"}, Words: []string{"dmarc"}, NeedSig: true,
		Name:    "rejected under the sender domain's DMARC policy",
		Meaning: "Gmail could not authenticate the message and the domain in From: publishes a DMARC policy asking receivers to refuse such mail. As 4.7.26 it means a DNS lookup failed during the check and Gmail will accept a retry.",
		Fix:     "Make SPF or DKIM pass and align with the From: domain for every service that sends as that domain. Forwarders should rewrite the envelope sender (SRS) or add ARC.",
		Source:  srcGmail},
	{Provider: providerGmail, ID: "gmail-spf-hardfail", Category: "spf", Codes: []string{"X.7.26"}, Words: []string{"hard fail", "-all"}, NeedSig: true,
		Name:    "SPF hard fail",
		Meaning: "The envelope sender's domain publishes an SPF record ending in -all, and the IP address that connected to Gmail is not in it.",
		Fix:     "Add the sending server or provider to the domain's SPF record, or send through a server it already lists.",
		Source:  srcGmail},
	{Provider: providerGmail, ID: "gmail-unauthenticated", Category: "unauthenticated", Codes: []string{"X.7.26"}, NeedSig: true,
		Name:    "sender unauthenticated (no SPF or DKIM pass)",
		Meaning: "Neither SPF nor DKIM passed, so Gmail treats the sender as unauthenticated. Gmail requires every sender to pass at least one of them; 4.7.26 throttles the mail, 5.7.26 blocks it.",
		Fix:     "Publish an SPF record that covers the sending IP address and sign with DKIM; send a test to a Gmail account and read its Authentication-Results header.",
		Source:  srcGmail},
	{Provider: providerGmail, ID: "gmail-spf", Category: "spf", Codes: []string{"X.7.27"}, NeedSig: true, Reuse: true,
		Name:    "SPF did not pass (reuses X.7.27)",
		Meaning: "Gmail uses this code for mail whose SPF check did not pass, which it requires of bulk senders; the registry's X.7.27 means a null-MX sender domain. 4.7.27 throttles, 5.7.27 blocks.",
		Fix:     "Fix the SPF record of the envelope sender (Return-Path) domain so it authorises the IP address that actually connects to Gmail.",
		Source:  srcGmail},
	{Provider: providerGmail, ID: "gmail-rate", Category: "rate_limit", Codes: []string{"X.7.28"}, NeedSig: true,
		Name:    "unusual rate of (unsolicited) mail",
		Meaning: "Gmail saw an unusual rate of mail, often unsolicited, from your IP address, netblock, SPF or DKIM domain, or mail carrying one of your URL domains, and throttled it (4.7.28) or blocked it (5.7.28).",
		Fix:     "Slow down, mail only people who asked for it, and watch spam rate and reputation in Gmail Postmaster Tools; let the queue retry a 4.7.28 on its own.",
		Source:  srcGmail},
	{Provider: providerGmail, ID: "gmail-tls", Category: "starttls_required", Codes: []string{"X.7.29"}, NeedSig: true, Reuse: true,
		Name:    "not sent over TLS (reuses X.7.29)",
		Meaning: "Gmail uses this code for mail that did not arrive over a TLS connection, which it requires of bulk senders; the registry's X.7.29 means an ARC validation failure.",
		Fix:     "Turn on STARTTLS on the server or relay that connects to Gmail (check with smtpx probe).",
		Source:  srcGmail},
	{Provider: providerGmail, ID: "gmail-dkim", Category: "dkim", Codes: []string{"X.7.30"}, NeedSig: true, Reuse: true,
		Name:    "DKIM did not pass (reuses X.7.30)",
		Meaning: "Gmail uses this code for mail whose DKIM check did not pass, which it requires of bulk senders; the registry's X.7.30 means REQUIRETLS support required.",
		Fix:     "Sign with DKIM for your domain, publish the selector's public key, and make sure nothing rewrites signed headers or the body after signing.",
		Source:  srcGmail},
	{Provider: providerGmail, ID: "gmail-ptr-reuse", Category: "reverse_dns", Codes: []string{"4.7.23"}, NeedSig: true, Reuse: true,
		Name:    "no forward-confirmed reverse DNS (reuses X.7.23)",
		Meaning: "Gmail uses 4.7.23 to throttle mail from an IP address that has no PTR record, or whose PTR name does not resolve back to it; the registry's X.7.23 means an SPF failure.",
		Fix:     "Ask whoever owns the IP address (hosting or cloud provider) to set a PTR record to a host name whose A or AAAA record points back at that address.",
		Retry:   retryLater,
		Source:  srcGmail},
	{Provider: providerGmail, ID: "gmail-ptr", Category: "reverse_dns", Label: "X.7.25/4.7.0", Codes: []string{"X.7.25", "4.7.0"}, Words: []string{"ptr"}, NeedSig: true,
		Name:    "no forward-confirmed reverse DNS for the sending IP",
		Meaning: "The IP address that sent the message has no PTR record, or the PTR name does not resolve back to the same address. Gmail requires this of every sender; 4.7.0 throttles, 5.7.25 blocks.",
		Fix:     "Ask whoever owns the IP address (hosting or cloud provider) to set a PTR record to a host name whose A or AAAA record points back at that address; check IPv6 too.",
		Source:  srcGmail},
	{Provider: providerGmail, ID: "gmail-spf-suspicious", Category: "spf", Codes: []string{"X.7.24"}, NeedSig: true,
		Name:    "suspicious SPF record",
		Meaning: "Gmail found entries in the sending domain's SPF record that it considers suspicious, and throttled (4.7.24) or refused (5.7.24) the mail.",
		Fix:     "Simplify the SPF record: list only the servers and providers that really send for the domain, without overly wide ranges.",
		Source:  srcGmail},
	{Provider: providerGmail, ID: "gmail-no-dmarc", Category: "dmarc", Codes: []string{"X.7.40"}, Words: []string{"dmarc"}, NeedSig: true,
		Name:    "no DMARC record",
		Meaning: "The sending domain has no DMARC record, or one without a policy. Gmail requires bulk senders to publish one.",
		Fix:     "Publish a TXT record at _dmarc.<your domain> with at least v=DMARC1; p=none.",
		Source:  srcGmail},
	{Provider: providerGmail, ID: "gmail-alignment", Category: "dmarc", Codes: []string{"X.7.32"}, NeedSig: true,
		Name:    "From: domain not aligned",
		Meaning: "The domain in the From: header matches neither the SPF-authenticated nor the DKIM-authenticated domain, so DMARC alignment fails.",
		Fix:     "Sign with DKIM as the From: domain, or send with an envelope sender in the From: domain.",
		Source:  srcGmail},
	{Provider: providerGmail, ID: "gmail-auth-login", Label: "X.7.8/9/14/80/90", Codes: []string{"X.7.8", "X.7.9", "X.7.14", "X.7.80", "X.7.90"}, NeedSig: true,
		Name:    "login to Gmail's submission server refused",
		Meaning: "smtp.gmail.com did not accept the login: a wrong password, or an account that needs an app password, OAuth, or a sign-in through the web first.",
		Fix:     "Create an app password (with 2-Step Verification on) or use OAuth (XOAUTH2); sign in once in a browser if Google asks for it.",
		Source:  srcGmail},
	{Provider: providerGmail, ID: "gmail-reputation", Category: "spam_content", Label: "X.7.1/4.7.0", Codes: []string{"X.7.1", "4.7.0"}, Words: []string{"unsolicited", "low reputation", "very low reputation"}, NeedSig: true,
		Name:    "blocked as likely spam or for low reputation",
		Meaning: "Gmail judged the message likely unsolicited, or the sending IP address or domain to have a very low reputation.",
		Fix:     "Check authentication (SPF, DKIM, DMARC), send only wanted mail, and look at your reputation in Gmail Postmaster Tools.",
		Source:  srcGmail},
	{Provider: providerGmail, ID: "gmail-receiving-rate", Category: "rate_limit", Codes: []string{"X.2.1"}, Words: []string{"rate", "too quickly"}, NeedSig: true,
		Name:    "recipient receiving mail too fast",
		Meaning: "The Gmail user is receiving mail at a rate that stops more from being delivered for now.",
		Fix:     "Retry later; the message will be delivered once the recipient can take mail again.",
		Retry:   retryLater,
		Source:  srcGmail},

	// Microsoft 365 / Exchange Online / Outlook.com.
	{Provider: providerMS, ID: "ms-5.7.708", Codes: []string{"X.7.708"},
		Name:    "traffic not accepted from this IP (low reputation)",
		Meaning: "Exchange Online refused mail from an IP address with low reputation. It mostly hits new Microsoft 365 tenants without a sending history, whose outbound mail leaves through a pool of riskier addresses.",
		Fix:     "If it is your tenant's outbound mail, look for compromised accounts or forwarding rules, then contact Microsoft support to have the restriction lifted; the delist portal does not cover this code.",
		Source:  srcMS700},
	{Provider: providerMS, ID: "ms-5.7.705", Codes: []string{"X.7.705"},
		Name:    "tenant exceeded its threshold",
		Meaning: "Exchange Online blocked the tenant's outgoing mail because it sent too much spam or bulk mail, typically through a compromised account, server or connector.",
		Fix:     "Find and stop the source of the spam, then ask Microsoft support to remove the block.",
		Source:  srcMS700},
	{Provider: providerMS, ID: "ms-5.7.750", Codes: []string{"X.7.750"},
		Name:    "sending from unregistered domains",
		Meaning: "The tenant sent mail from domains that are not registered (accepted and verified) in the tenant, and Exchange Online blocked it.",
		Fix:     "Add and verify the sending domain as an accepted domain in the tenant, or send only from domains you have registered.",
		Source:  srcMS700},
	{Provider: providerMS, ID: "ms-banned-ip", Category: "blocklist", Codes: []string{"X.7.606-649"},
		Name:    "banned sending IP (blocked senders list)",
		Meaning: "The sending IP address is on Microsoft's list of blocked senders, so Microsoft 365 refuses its mail.",
		Fix:     "Stop whatever sent spam from that address, then request removal at the delist portal (sender.office.com).",
		Source:  srcMSDelist},
	{Provider: providerMS, ID: "ms-dmarc-reject", Category: "dmarc", Codes: []string{"X.7.509"},
		Name:    "DMARC reject",
		Meaning: "The message failed DMARC and the sending domain's DMARC policy says to reject such mail.",
		Fix:     "Make SPF or DKIM pass and align with the From: domain for every service sending as that domain.",
		Source:  srcMSNDR},
	{Provider: providerMS, ID: "ms-5.7.515", Category: "unauthenticated", Codes: []string{"X.7.515"},
		Name:    "sending domain below required authentication level",
		Meaning: "Outlook.com (hotmail.com, live.com, outlook.com) requires domains sending over about 5,000 messages a day to pass SPF and DKIM and to publish DMARC (p=none at least) aligned with SPF or DKIM; this message fell short and was rejected.",
		Fix:     "Make SPF and DKIM both pass, and publish a DMARC record aligned with at least one of them.",
		Source:  srcMSHighVol},
	{Provider: providerMS, ID: "ms-recipient-dbeb", Category: "unknown_user", Codes: []string{"X.4.1"}, Words: []string{"recipient address rejected", "access denied"}, Reuse: true,
		Name:    "recipient not found (reuses X.4.1)",
		Meaning: "Directory-Based Edge Blocking in Exchange Online refused the message because the recipient address matches no mailbox, group or contact in the receiving tenant; the registry's X.4.1 means no answer from host.",
		Fix:     "Check the address for typos. If it is right, the recipient's admin must make sure the mailbox or alias exists and is synchronised (hybrid setups), or relay the domain as Internal Relay.",
		Source:  srcMSNDR},
	{Provider: providerMS, ID: "ms-recipient-not-found", Category: "unknown_user", Codes: []string{"X.1.10"}, Words: []string{"recipientnotfound", "recipient not found"}, Reuse: true,
		Name:    "recipient not found (reuses X.1.10)",
		Meaning: "Exchange Online found no recipient with that address in the destination organisation; the registry's X.1.10 means a null-MX domain.",
		Fix:     "Check the address for typos; if it is right, the recipient's admin must restore the mailbox or alias.",
		Source:  srcMSNDR},
	{Provider: providerMS, ID: "ms-anonymous", Category: "auth_required", Codes: []string{"X.7.57"},
		Name:    "client not authenticated",
		Meaning: "The client tried to send through Microsoft 365's submission service (smtp.office365.com) without logging in.",
		Fix:     "Authenticate (AUTH over STARTTLS on port 587) with a mailbox that may use SMTP AUTH, or relay through a connector set up for your IP.",
		Source:  srcMSNDR},
	{Provider: providerMS, ID: "ms-throttled", Category: "greylisting", Codes: []string{"4.7.500-699"},
		Name:    "server busy: new or changed sending pattern",
		Meaning: "Exchange Online is slowing down mail from an IP address whose sending pattern changed, or that is new to it (a form of greylisting tagged with an AS code).",
		Fix:     "Let the queue retry and ramp volume up gradually; senders relaying through their own tenant need a correctly set up connector.",
		Retry:   retryLater,
		Source:  srcMSNDR},
	{Provider: providerMS, ID: "ms-spamhaus", Category: "blocklist", Codes: []string{"X.7.1"}, Words: []string{"spamhaus"}, NeedSig: true,
		Name:    "sender listed by Spamhaus",
		Meaning: "Microsoft refused the connection because the sending IP address, or the name it gave in HELO, is on a Spamhaus block list.",
		Fix:     "Look the address up at spamhaus.org, fix the cause of the listing and request removal there.",
		Source:  srcMS571},
	{Provider: providerMS, ID: "ms-network-blocklist", Category: "blocklist", Codes: []string{"X.7.1"}, Words: []string{"on our block list", "(s3150)"},
		Name:    "sender's network on Outlook.com's block list",
		Meaning: "Outlook.com blocks part of the network the sending IP address belongs to, not necessarily because of this sender.",
		Fix:     "Ask your Internet or hosting provider to resolve the block with Microsoft, or send through a relay on a different network.",
		Source:  srcMS571},
	{Provider: providerMS, ID: "ms-unable-to-relay", Category: "relay_denied", Label: "X.7.1/64", Codes: []string{"X.7.1", "X.7.64"}, Words: []string{"unable to relay", "relay access denied", "relaying denied"}, NeedSig: true,
		Name:    "relay refused",
		Meaning: "The Microsoft 365 server will not relay this message: it does not host the recipient's domain and the client is neither authenticated nor allowed by a connector.",
		Fix:     "Send to the recipient domain's own MX, or authenticate (AUTH on port 587); admins relaying from devices need a connector for their IP address.",
		Source:  srcMS571},
	{Provider: providerMS, ID: "ms-not-authorized", Label: "X.7.1/133-136", Codes: []string{"X.7.1", "X.7.133", "X.7.134", "X.7.135", "X.7.136"}, Words: []string{"not authorized", "not authorised", "not have permission", "restricted", "delivery not authorized"}, NeedSig: true,
		Name:    "sender not allowed to send to this recipient",
		Meaning: "The recipient, often a group, only accepts mail from certain senders or from authenticated internal senders, and this sender is not one of them.",
		Fix:     "Ask the group's owner or the recipient's admin to allow your address.",
		Source:  srcMS571},
	{Provider: providerMS, ID: "ms-5.7.1", Codes: []string{"X.7.1"}, NeedSig: true,
		Name:    "refused by a security setting",
		Meaning: "A security or policy setting in the sender's or the recipient's organisation stopped the message: no permission to send to the recipient or group, a relay refused, or the message routed to the wrong server.",
		Fix:     "Read the rest of the text for the setting involved; the recipient's admin can tell which rule matched.",
		Source:  srcMS571},

	// Yahoo (and AOL, which Yahoo runs).
	{Provider: providerYahoo, ID: "yahoo-tss09", Category: "rate_limit", Label: "[TSS09]", Words: []string{"[tss09]"}, NeedSig: true,
		Name:    "permanently deferred: looks like unsolicited bulk mail",
		Meaning: "Yahoo sees a volume of mail from the sending IP address that is typical of unsolicited bulk mail, and will not take more from it: whatever the reply code, Yahoo says retrying will not succeed until the sending practice changes.",
		Fix:     "Stop retrying; review how the list was collected, mail only people who asked for it, and ramp new IP addresses up slowly. If it lasts over 48 hours after changes, open a Yahoo sender support request.",
		Retry:   retryAfterFix,
		Source:  srcYahoo},
	{Provider: providerYahoo, ID: "yahoo-ts03", Category: "rate_limit", Label: "[TS03]", Words: []string{"[ts03]", "permanently deferred"}, NeedSig: true,
		Name:    "permanently deferred: looks like unsolicited bulk mail",
		Meaning: "Yahoo sees a volume of mail from the sending IP address that is typical of unsolicited bulk mail. Yahoo sends it as a 4xx, but says retrying will not succeed until the sending practice changes.",
		Fix:     "Stop retrying; review how the list was collected, mail only people who asked for it, and ramp new IP addresses up slowly. If it lasts over 48 hours after changes, open a Yahoo sender support request.",
		Retry:   retryAfterFix,
		Source:  srcYahooTS03},
	{Provider: providerYahoo, ID: "yahoo-tss04", Category: "rate_limit", Words: []string{"[tss04]"},
		Name:    "deferred: unexpected volume or user complaints",
		Meaning: "Yahoo temporarily defers mail from the sending IP address because of an unexpected volume or complaints from Yahoo users.",
		Fix:     "Let the queue retry later; meanwhile slow down, remove people who complain (join Yahoo's complaint feedback loop) and mail only those who opted in.",
		Retry:   retryLater,
		Source:  srcYahoo},
	{Provider: providerYahoo, ID: "yahoo-ts", Category: "rate_limit", Label: "[TSnn]/[TSSnn]", Words: []string{"[ts0", "[tss0", "[tss1", "temporarily deferred"}, NeedSig: true,
		Name:    "message temporarily deferred",
		Meaning: "Yahoo defers the mail for now: users complain about mail from this server, the content looks like spam, the IP address or its subnet has a poor reputation, or the traffic pattern is unusual.",
		Fix:     "Let the queue retry; review complaint rates and content, and check that nobody is abusing your server. If it goes on for long, open a Yahoo sender support request.",
		Retry:   retryLater,
		Source:  srcYahoo},
	{Provider: providerYahoo, ID: "yahoo-spamhaus", Category: "blocklist", Label: "[BLnn]", Words: []string{"[bl2", "spamhaus"}, NeedSig: true,
		Name:    "sending IP listed by Spamhaus",
		Meaning: "Yahoo refuses connections from the sending IP address because Spamhaus lists it.",
		Fix:     "Look the address up at spamhaus.org, fix the cause and request removal there.",
		Source:  srcYahoo},
	{Provider: providerYahoo, ID: "yahoo-content", Category: "virus_content", Label: "[PHnn]", Words: []string{"[ph"}, NeedSig: true,
		Name:    "content blocked",
		Meaning: "Yahoo refused the message for its content: malware, phishing, ransomware, or links to such things.",
		Fix:     "Check the outgoing queue and the message for malicious content or links, and secure the server if someone is abusing it.",
		Source:  srcYahoo},
	{Provider: providerYahoo, ID: "yahoo-unauthenticated", Category: "unauthenticated", Label: "X.7.9/26/1", Codes: []string{"X.7.9", "X.7.26", "X.7.1"}, Words: []string{"unauthenticated", "dmarc", "dkim", "authentication"}, NeedSig: true,
		Name:    "failed authentication",
		Meaning: "The message failed Yahoo's authentication checks: every sender must pass SPF or DKIM, and bulk senders need SPF, DKIM and a DMARC policy.",
		Fix:     "Make SPF and DKIM pass and publish DMARC; mailing lists should put the list's own address in From:, forwarders should add ARC.",
		Source:  srcYahoo},
	{Provider: providerYahoo, ID: "yahoo-no-user", Category: "unknown_user", Words: []string{"doesn't have a", "does not have a", "mailbox not found", "user unknown"}, NeedSig: true,
		Name:    "recipient does not exist",
		Meaning: "The Yahoo account the message is addressed to does not exist.",
		Fix:     "Do not retry; confirm the address with the recipient and remove it from your lists.",
		Source:  srcYahoo},
	{Provider: providerYahoo, ID: "yahoo-unresolvable", Category: "sender_domain", Words: []string{"unresolvable"}, NeedSig: true,
		Name:    "sender domain does not resolve",
		Meaning: "The domain after the @ in MAIL FROM or in From: does not look like a real domain; Yahoo checks it with an SOA query (451 when the lookup fails, 554 when the domain is missing).",
		Fix:     "Send from a domain that exists in DNS; for subdomains, make sure an SOA lookup on them succeeds.",
		Source:  srcYahoo},
	{Provider: providerYahoo, ID: "yahoo-unknown-recipients", Words: []string{"unknown recipients"}, NeedSig: true,
		Name:    "too many unknown recipients",
		Meaning: "The server sends to many addresses that do not exist at Yahoo, which looks like an open relay or proxy.",
		Fix:     "Remove bouncing addresses from your lists and make sure the server is not an open relay.",
		Source:  srcYahoo},
	{Provider: providerYahoo, ID: "yahoo-busy", Words: []string{"resources temporarily unavailable"}, NeedSig: true,
		Name:    "Yahoo servers busy",
		Meaning: "Yahoo's servers were too busy to handle the transaction when you connected; this normally clears quickly.",
		Fix:     "Retry a little later.",
		Retry:   retryLater,
		Source:  srcYahoo},
	{Provider: providerYahoo, ID: "yahoo-policy", Words: []string{"policy reasons"}, NeedSig: true,
		Name:    "not accepted for policy reasons",
		Meaning: "Yahoo refused the message under its policies: failed authentication, content it will not accept, or other suspicious behaviour.",
		Fix:     "Check the message against Yahoo's sender requirements: authentication, content and complaint rates.",
		Source:  srcYahoo},
}

// signature reports whether text (lower-cased) bears provider p's marks.
func signature(p, text string) bool {
	switch p {
	case providerGmail:
		return containsAny(text, "gsmtp", "google.com", "gmail", "googlemail")
	case providerMS:
		return containsAny(text, "outlook.com", "office365", "office.com", "microsoft", "hotmail", "exchange online", "tenantattribution", "storedrv", "resolver.adr") || hasASTag(text)
	case providerYahoo:
		return containsAny(text, "yahoo", "aol.com", "[ts0", "[tss")
	}
	return false
}

// hasASTag finds Exchange Online Protection's anti-spam tags, "AS(1430)" or
// "(AS16012609)", in lower-cased text.
func hasASTag(text string) bool {
	for i := 0; i+3 < len(text); i++ {
		if text[i] != 'a' || text[i+1] != 's' {
			continue
		}
		j := i + 2
		if text[j] == '(' {
			if i > 0 && text[i-1] >= 'a' && text[i-1] <= 'z' {
				continue // "has(", "was("
			}
			j++
		} else if i == 0 || text[i-1] != '(' {
			continue
		}
		k := j
		for k < len(text) && text[k] >= '0' && text[k] <= '9' {
			k++
		}
		if k-j >= 3 && k < len(text) && text[k] == ')' {
			return true
		}
	}
	return false
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// codeMatches reports whether enhanced code e ("5.7.26") fits pattern p
// ("5.7.26", "X.7.26", "5.7.606-649").
func codeMatches(p, e string) bool {
	pc, ps, pd, ok1 := split3(p)
	ec, es, ed, ok2 := split3(e)
	if !ok1 || !ok2 {
		return false
	}
	if (pc != "X" && pc != ec) || ps != es {
		return false
	}
	if lo, hi, ok := strings.Cut(pd, "-"); ok {
		n, err := strconv.Atoi(ed)
		a, err1 := strconv.Atoi(lo)
		b, err2 := strconv.Atoi(hi)
		return err == nil && err1 == nil && err2 == nil && n >= a && n <= b
	}
	return pd == ed
}

func split3(s string) (a, b, c string, ok bool) {
	a, rest, ok1 := strings.Cut(s, ".")
	b, c, ok2 := strings.Cut(rest, ".")
	return a, b, c, ok1 && ok2
}

// matchProvider returns the first rule that recognises the reply, or nil.
// text is matched case-insensitively; only its first maxMatchedText bytes count.
func matchProvider(enhanced, text string) *providerRule {
	if text == "" {
		return nil
	}
	if len(text) > maxMatchedText {
		text = text[:maxMatchedText]
	}
	lt := strings.ToLower(text)
	var sig [3]int8 // per provider: 0 unknown, 1 yes, -1 no; computed lazily
	for i := range providerRules {
		r := &providerRules[i]
		if len(r.Codes) > 0 {
			if enhanced == "" {
				continue
			}
			hit := false
			for _, p := range r.Codes {
				if codeMatches(p, enhanced) {
					hit = true
					break
				}
			}
			if !hit {
				continue
			}
		}
		if len(r.Words) > 0 && !containsAny(lt, r.Words...) {
			continue
		}
		if r.NeedSig {
			k := providerIndex(r.Provider)
			if sig[k] == 0 {
				sig[k] = -1
				if signature(r.Provider, lt) {
					sig[k] = 1
				}
			}
			if sig[k] < 0 {
				continue
			}
		}
		if len(r.Codes) == 0 && len(r.Words) == 0 {
			continue // a rule must rest on something besides the signature
		}
		return r
	}
	return nil
}

func providerIndex(p string) int {
	switch p {
	case providerGmail:
		return 0
	case providerMS:
		return 1
	}
	return 2
}

// providerUses lists the provider-specific meanings known for an enhanced
// code, for a code given without any reply text to recognise.
func providerUses(enhanced string) []*providerRule {
	var out []*providerRule
	for i := range providerRules {
		r := &providerRules[i]
		for _, p := range r.Codes {
			if codeMatches(p, enhanced) {
				out = append(out, r)
				break
			}
		}
	}
	return out
}
