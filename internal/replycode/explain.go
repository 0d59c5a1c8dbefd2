package replycode

import (
	"fmt"
	"strconv"
	"strings"
)

// Reply is one reply to explain: a basic code, an enhanced code, or both,
// with the text that came with them.
type Reply struct {
	Code     int      // three-digit reply code, 0 when only an enhanced code is known
	Enhanced string   // enhanced status code ("5.1.1"), "" when none
	Lines    []string // text of each line, codes removed
	Raw      []string // each line as it was given, markers removed
	Notes    []string // what the parser noticed, e.g. a reply cut short
	// Recipient is the address a pasted bounce says the reply was about
	// (DSN Final-Recipient, Postfix "<addr>: host ... said:", Exim's
	// recipient line), "" when the input does not say.
	Recipient string
}

// Text is the reply text, lines joined by "\n".
func (r Reply) Text() string { return strings.Join(r.Lines, "\n") }

// Explanation says what one reply, code or pattern means. Field names are
// part of smtpx's stable JSON output (see README, section codes).
type Explanation struct {
	Input        string        `json:"input"`         // the reply or code as given
	Recipient    string        `json:"recipient"`     // the recipient a pasted bounce ties the reply to, "" if none
	Code         int           `json:"code"`          // basic reply code, 0 if none
	Enhanced     string        `json:"enhanced"`      // enhanced status code, "" if none
	Text         string        `json:"text"`          // reply text without codes
	Class        int           `json:"class"`         // 2, 3, 4 or 5; 0 if unknown
	ClassName    string        `json:"class_name"`    // success, intermediate, transient, permanent
	Retry        string        `json:"retry"`         // none, continue, later, after_fix
	Action       string        `json:"action"`        // what to do, the most specific advice known, fitted to the class
	Category     string        `json:"category"`      // what happened, recognised from the text: blocklist, dmarc, ...; "" if none
	Diagnosis    *Diagnosis    `json:"diagnosis"`     // the category explained, nil if none
	Source       string        `json:"source"`        // where the most specific explanation comes from (URL or RFC)
	Basic        *Basic        `json:"basic"`         // the basic code, nil if none
	Status       *Status       `json:"status"`        // the enhanced code, nil if none
	Pattern      *Pattern      `json:"pattern"`       // set for class/category queries such as "5yz"
	Mismatch     string        `json:"mismatch"`      // set when the two codes disagree in class
	Provider     *Provider     `json:"provider"`      // provider-specific meaning recognised from the text
	ProviderUses []ProviderUse `json:"provider_uses"` // known provider meanings of a bare code
	Notes        []string      `json:"notes"`         // remarks about the input
	ExitClass    int           `json:"exit_class"`    // the status --exit-class gives: 0, 4 or 5
}

// Basic explains a three-digit reply code.
type Basic struct {
	Code         int    `json:"code"`
	Category     int    `json:"category"`      // second digit
	CategoryName string `json:"category_name"` // syntax, information, connections, ...
	Extension    string `json:"extension"`     // "" for core SMTP, else STARTTLS, AUTH, ETRN
	Name         string `json:"name"`
	Meaning      string `json:"meaning"`
	Action       string `json:"action"`
	Commands     string `json:"commands"`  // commands that can return it
	Reference    string `json:"reference"` // defining RFC and section
	Fallback     string `json:"fallback"`  // "" when registered, "class_and_category" otherwise
	OtherUses    []Use  `json:"other_uses"`
}

// Use is another meaning of the same basic code, given by an extension.
type Use struct {
	Extension string `json:"extension"`
	Name      string `json:"name"`
	Meaning   string `json:"meaning"`
	Commands  string `json:"commands"`
	Reference string `json:"reference"`
}

// Status explains an enhanced status code (RFC 3463).
type Status struct {
	Code            string `json:"code"`
	Class           int    `json:"class"` // 2, 4, 5; 0 for "X.1.1" (any class)
	ClassName       string `json:"class_name"`
	Subject         int    `json:"subject"`
	SubjectName     string `json:"subject_name"`
	Detail          int    `json:"detail"`
	Name            string `json:"name"`
	RegistryName    string `json:"registry_name"` // the IANA registry's name, "" for a fallback
	Meaning         string `json:"meaning"`
	Action          string `json:"action"`
	Reference       string `json:"reference"`
	Standard        string `json:"standard"`
	AssociatedCodes string `json:"associated_codes"` // basic codes the registry pairs it with
	Fallback        string `json:"fallback"`         // "", "subject" or "class"
}

// Pattern explains a class or category ("5yz", "x5z", "5.XXX.YYY", "X.7.YYY").
type Pattern struct {
	Code      string `json:"code"`
	Kind      string `json:"kind"` // class, category, detail, enhanced_class, enhanced_subject
	Name      string `json:"name"`
	Meaning   string `json:"meaning"`
	Action    string `json:"action"`
	Commands  string `json:"commands"`
	Reference string `json:"reference"`
}

// Provider is a provider-specific meaning recognised from a reply's text.
type Provider struct {
	Provider        string `json:"provider"`
	ID              string `json:"id"`
	Name            string `json:"name"`
	Meaning         string `json:"meaning"`
	Fix             string `json:"fix"`
	Retry           string `json:"retry"`
	RegistryDiffers bool   `json:"registry_differs"` // the provider reuses a registered code for something else
	Source          string `json:"source"`
}

// ProviderUse is a provider-specific meaning of a code given without text.
type ProviderUse struct {
	Provider        string `json:"provider"`
	ID              string `json:"id"`
	Name            string `json:"name"`
	RegistryDiffers bool   `json:"registry_differs"`
}

var (
	classNames    = [6]string{2: "success", 3: "intermediate", 4: "transient", 5: "permanent"}
	retryByClass  = [6]string{2: "none", 3: "continue", 4: "later", 5: "after_fix"}
	categoryNames = [6]string{"syntax", "information", "connections", "unspecified", "unspecified", "mail system"}
)

// Explain says what r means. It never fails: unknown but well-formed codes
// fall back on their class and category (RFC 5321 §4.2.1) or subject and
// class (RFC 3463 §2), and say so.
func Explain(r Reply) *Explanation {
	text := r.Text()
	e := &Explanation{
		Input:        strings.Join(r.Raw, "\n"),
		Code:         r.Code,
		Enhanced:     r.Enhanced,
		Text:         text,
		ProviderUses: []ProviderUse{},
		Notes:        append([]string{}, r.Notes...),
		Recipient:    r.Recipient,
	}
	if e.Input == "" {
		e.Input = strings.TrimSpace(fmt.Sprintf("%s %s", codeString(r.Code), r.Enhanced))
	}
	lt := lowerPrefix(text)
	if r.Code != 0 {
		e.Basic = basicInfo(r.Code, lt)
	}
	if r.Enhanced != "" {
		e.Status = statusInfo(r.Enhanced)
	}
	switch {
	case r.Code != 0:
		e.Class = r.Code / 100
	case e.Status != nil:
		e.Class = e.Status.Class
	}
	if e.Class >= 2 && e.Class <= 5 {
		e.ClassName = classNames[e.Class]
		e.Retry = retryByClass[e.Class]
	}
	if e.Basic != nil && e.Status != nil && e.Status.Class != 0 && e.Status.Class != e.Class {
		e.Mismatch = mismatch(e.Class, e.Status.Class)
	}
	var pr *providerRule
	if r.Enhanced != "" || text != "" {
		pr = matchProvider(r.Enhanced, text)
	}
	provM, catM := matchRules(e.Class, r.Enhanced, cutText(text), lt)
	switch {
	case pr != nil:
		e.Provider = providerInfo(pr)
	case provM != nil:
		e.Provider = patternProviderInfo(provM.rule)
	}
	e.Diagnosis = diagnosis(pr, catM, e.Class, text, lt)
	if e.Diagnosis != nil {
		e.Category = e.Diagnosis.Category
		e.Retry = e.Diagnosis.Retry
	}
	if e.Provider != nil && e.Provider.Retry != "" {
		e.Retry = e.Provider.Retry
	}
	if text == "" && r.Enhanced != "" {
		for _, pr := range providerUses(r.Enhanced) {
			if pr.Reuse || e.Status.Fallback != "" {
				e.ProviderUses = append(e.ProviderUses, ProviderUse{pr.Provider, pr.ID, pr.Name, pr.Reuse})
			}
		}
	}
	e.Action = action(e)
	e.Source = source(e)
	e.ExitClass = exitClass(e.Class)
	return e
}

// diagnosis names the category of a reply: the provider rule's own
// category when it has one, else the first text pattern that matches.
func diagnosis(pr *providerRule, m *ruleMatch, class int, text, lt string) *Diagnosis {
	id := ""
	switch {
	case pr != nil && pr.Category != "":
		id, m = pr.Category, nil
	case m != nil:
		id = m.rule.Category
	}
	c := categoryFor(id)
	if c == nil {
		return nil
	}
	d := diagnose(c, m, class, cutText(text), lt)
	if m == nil {
		d.Rule, d.Source = pr.ID, pr.Source
	}
	return d
}

// cutText is the part of a reply text that patterns look at.
func cutText(s string) string {
	if len(s) > maxMatchedText {
		return s[:maxMatchedText]
	}
	return s
}

// source says where the most specific explanation comes from.
func source(e *Explanation) string {
	switch {
	case e.Provider != nil:
		return e.Provider.Source
	case e.Diagnosis != nil:
		return e.Diagnosis.Source
	case e.Status != nil && e.Status.Fallback == "" && e.Mismatch == "" && e.Status.Reference != "":
		return e.Status.Reference
	case e.Basic != nil:
		return e.Basic.Reference
	case e.Status != nil:
		return e.Status.Reference
	}
	return ""
}

// action picks the most specific advice: the provider's, then the text
// pattern's, then a registered enhanced code's, then the basic code's, then
// the fallbacks'.
func action(e *Explanation) string {
	switch {
	case e.Provider != nil:
		return e.Provider.Fix
	case e.Diagnosis != nil:
		return e.Diagnosis.Fix
	case e.Status != nil && e.Status.Fallback == "" && e.Mismatch == "" && e.Status.Class != 2 && (e.Basic == nil || e.Class >= 4):
		return e.Status.Action
	case e.Basic != nil && e.Basic.Fallback == "":
		return e.Basic.Action
	case e.Status != nil && e.Mismatch == "":
		return e.Status.Action
	case e.Basic != nil:
		return e.Basic.Action
	}
	return ""
}

func exitClass(class int) int {
	switch class {
	case 4:
		return 4
	case 5:
		return 5
	}
	return 0
}

func mismatch(basic, enhanced int) string {
	if basic == 3 {
		return fmt.Sprintf("3xx replies carry no enhanced status code (RFC 2034 §4), yet this one has a %d.x.x code; clients go by the reply code", enhanced)
	}
	return fmt.Sprintf("the reply code says %s (%dxx) but the enhanced code says %s (%d.x.x); the two should agree (RFC 2034), and clients go by the reply code",
		classNames[basic], basic, enhancedClassName(enhanced), enhanced)
}

func codeString(c int) string {
	if c == 0 {
		return ""
	}
	return strconv.Itoa(c)
}

// lowerPrefix lower-cases the start of s, enough for keyword matching.
func lowerPrefix(s string) string {
	if len(s) > maxMatchedText {
		s = s[:maxMatchedText]
	}
	return strings.ToLower(s)
}

func basicWordsFor(code, ext string) (words, bool) {
	for i := range basicTexts {
		if basicTexts[i].Code == code && basicTexts[i].Ext == ext {
			return basicTexts[i].words, true
		}
	}
	return words{}, false
}

func enhancedWordsFor(code string) (words, bool) {
	for i := range enhancedTexts {
		if enhancedTexts[i].Code == code {
			return enhancedTexts[i].words, true
		}
	}
	return words{}, false
}

func basicFactFor(code string) (basicFact, bool) {
	for _, f := range basicFacts {
		if f.Code == code {
			return f, true
		}
	}
	return basicFact{}, false
}

func enhancedFactFor(code string) (enhancedFact, bool) {
	for _, f := range enhancedFacts {
		if f.Code == code {
			return f, true
		}
	}
	return enhancedFact{}, false
}

// extKeywords tell which extension's meaning of a shared code a reply text
// is about, e.g. 530 "Must issue a STARTTLS command first" versus 530 5.7.0
// "Authentication required". A switch, not a map, so the package has no
// initialisation work at startup.
func extKeywords(ext string) []string {
	switch ext {
	case "STARTTLS":
		return []string{"tls"}
	case "AUTH":
		return []string{"auth", "password", "credential", "login", "mechanism"}
	case "ETRN":
		return []string{"etrn", "node"}
	}
	return nil
}

// basicUses returns every use of code, the one the text points at first.
func basicUses(code int, lowerText string) []Use {
	cs := strconv.Itoa(code)
	var uses []Use
	for _, f := range basicFacts {
		if f.Code != cs {
			continue
		}
		w, _ := basicWordsFor(f.Code, f.Ext)
		uses = append(uses, Use{Extension: f.Ext, Name: w.Name, Meaning: w.Meaning, Commands: f.Commands, Reference: f.Ref})
	}
	if len(uses) < 2 {
		return uses
	}
	pick := -1
	if lowerText != "" {
		for i, u := range uses {
			if u.Extension != "" && containsAny(lowerText, extKeywords(u.Extension)...) {
				pick = i
				break
			}
		}
	}
	if pick < 0 {
		for i, u := range uses {
			if u.Extension == "" {
				pick = i
				break
			}
		}
	}
	if pick > 0 {
		uses[0], uses[pick] = uses[pick], uses[0]
	}
	return uses
}

func basicInfo(code int, lowerText string) *Basic {
	b := &Basic{Code: code, Category: code / 10 % 10, OtherUses: []Use{}}
	b.CategoryName = "undefined"
	if b.Category < len(categoryNames) {
		b.CategoryName = categoryNames[b.Category]
	}
	uses := basicUses(code, lowerText)
	if len(uses) > 0 {
		u := uses[0]
		w, _ := basicWordsFor(strconv.Itoa(code), u.Extension)
		b.Extension, b.Name, b.Meaning, b.Action = u.Extension, u.Name, u.Meaning, w.Action
		b.Commands, b.Reference = u.Commands, u.Reference
		b.OtherUses = append(b.OtherUses, uses[1:]...)
		return b
	}
	// RFC 5321 §4.2.1: a client that meets an unknown code goes by its
	// first digit; the second digit still tells the category.
	class := fmt.Sprintf("%dyz", code/100)
	cw, _ := basicWordsFor(class, "")
	cf, _ := basicFactFor(class)
	b.Name = "unregistered code"
	b.Action = cw.Action
	b.Reference = cf.Ref
	b.Fallback = "class_and_category"
	if b.Category >= len(categoryNames) {
		// Outside RFC 5321's grammar (second digit 0-5): only the class
		// can be read, and clients act on it alone.
		b.Name = "unknown code, read by class"
		b.Meaning = fmt.Sprintf("No meaning is registered for %d. By its first digit it is a %s (%s negative reply); its detail is unknown: the second digit, %d, is outside the categories RFC 5321 defines (0 to 5). A client acts on the first digit of a code it does not know (RFC 5321 §4.2).",
			code, cw.Name, classAdjective(code/100), b.Category)
		b.Commands = "any"
		b.Reference = cf.Ref + "; §4.2"
		b.Fallback = "class"
		return b
	}
	cat := fmt.Sprintf("x%dz", b.Category)
	kw, _ := basicWordsFor(cat, "")
	kf, _ := basicFactFor(cat)
	b.Meaning = fmt.Sprintf("No meaning is registered for %d. By its first digit it is a %s, and by its second it concerns %s.",
		code, cw.Name, kw.Name)
	b.Commands = kf.Commands
	return b
}

// classAdjective words a reply class the way RFC 5321 §4.2.1 does.
func classAdjective(class int) string {
	switch class {
	case 2:
		return "a positive completion"
	case 3:
		return "a positive intermediate"
	case 4:
		return "a transient"
	}
	return "a permanent"
}

func enhancedClassName(class int) string {
	w, _ := enhancedWordsFor(fmt.Sprintf("%d.XXX.YYY", class))
	return w.Name
}

// parseEnhanced splits "5.1.10" (or "X.1.10") into numbers; class is 0 for X.
func parseEnhanced(s string) (class, subject, detail int, ok bool) {
	c, sub, det, ok := split3(s)
	if !ok {
		return 0, 0, 0, false
	}
	if c == "X" || c == "x" {
		class = 0
	} else {
		var err error
		if class, err = strconv.Atoi(c); err != nil || (class != 2 && class != 4 && class != 5) {
			return 0, 0, 0, false
		}
	}
	var err1, err2 error
	subject, err1 = strconv.Atoi(sub)
	detail, err2 = strconv.Atoi(det)
	if err1 != nil || err2 != nil || subject < 0 || detail < 0 || subject > 999 || detail > 999 {
		return 0, 0, 0, false
	}
	return class, subject, detail, true
}

func statusInfo(code string) *Status {
	class, subject, detail, ok := parseEnhanced(code)
	if !ok {
		return nil
	}
	s := &Status{Code: code, Class: class, Subject: subject, Detail: detail, ClassName: "any"}
	if class != 0 {
		s.ClassName = enhancedClassName(class)
	}
	subjKey := fmt.Sprintf("X.%d.YYY", subject)
	sw, subjKnown := enhancedWordsFor(subjKey)
	if subjKnown {
		s.SubjectName = sw.Name
	}
	key := fmt.Sprintf("X.%d.%d", subject, detail)
	if f, ok := enhancedFactFor(key); ok {
		w, _ := enhancedWordsFor(key)
		s.Name, s.Meaning, s.Action = w.Name, w.Meaning, enhancedAction(key, class, w)
		s.RegistryName, s.Reference, s.Standard, s.AssociatedCodes = f.Registry, f.Ref, f.Standard, f.Basic
		return s
	}
	// RFC 3463 §2: an unknown detail is read by its subject, an unknown
	// subject by its class.
	if subjKnown {
		f, _ := enhancedFactFor(subjKey)
		s.Name = "unregistered detail in subject " + sw.Name
		s.Meaning = fmt.Sprintf("No meaning is registered for detail %d. By its subject it concerns %s: %s", detail, sw.Name, sw.Meaning)
		s.Action = enhancedAction(subjKey, class, sw)
		s.Reference, s.Standard = f.Ref, f.Standard
		s.Fallback = "subject"
		return s
	}
	s.SubjectName = "unregistered"
	s.Fallback = "class"
	s.Name = fmt.Sprintf("unregistered subject %d", subject)
	if class == 0 {
		s.Meaning = fmt.Sprintf("No meaning is registered for subject %d; only the class, which this code leaves open, would tell more.", subject)
		return s
	}
	cw, _ := enhancedWordsFor(fmt.Sprintf("%d.XXX.YYY", class))
	cf, _ := enhancedFactFor(fmt.Sprintf("%d.XXX.YYY", class))
	s.Meaning = fmt.Sprintf("No meaning is registered for subject %d. By its class it is a %s. %s", subject, cw.Name, cw.Meaning)
	s.Action = cw.Action
	s.Reference, s.Standard = cf.Ref, cf.Standard
	return s
}

func providerInfo(r *providerRule) *Provider {
	return &Provider{Provider: r.Provider, ID: r.ID, Name: r.Name, Meaning: r.Meaning, Fix: r.Fix,
		Retry: r.Retry, RegistryDiffers: r.Reuse, Source: r.Source}
}

func patternProviderInfo(r *patternRule) *Provider {
	return &Provider{Provider: r.Provider, ID: r.ID, Name: r.Name, Meaning: r.Meaning, Fix: r.Fix,
		Retry: r.Retry, Source: r.Source}
}

// Hint returns a one-line annotation for a failing reply (4xx or 5xx), for
// verbs that show a transcript: the provider's meaning when the text is
// recognised, else the most specific registered meaning, with the first
// sentence of what to do. It returns "" for 2xx and 3xx replies. It does no
// more than a few table scans and one lower-casing of the text's start.
func Hint(code int, enhanced, text string) string {
	if code >= 200 && code < 400 {
		return ""
	}
	if pr := matchProvider(enhanced, text); pr != nil {
		return pr.Provider + ": " + pr.Name + "; " + firstSentence(pr.Fix)
	}
	class := code / 100
	if code == 0 && enhanced != "" {
		class = int(enhanced[0] - '0')
	}
	lt := lowerPrefix(text)
	if provM, catM := matchRules(class, enhanced, cutText(text), lt); provM != nil {
		return provM.rule.Provider + ": " + provM.rule.Name + "; " + firstSentence(provM.rule.Fix)
	} else if d := diagnosis(nil, catM, class, text, lt); d != nil && vagueStatus(enhanced) {
		// A specific registered code already says it in one line; the
		// text pattern speaks for the vague ones (X.7.1, X.n.0, none).
		return d.Summary() + ": " + firstSentence(d.Fix)
	}
	if enhanced != "" && (code == 0 || enhanced[0] == byte('0'+code/100)) {
		if _, subject, detail, ok := parseEnhanced(enhanced); ok {
			key := fmt.Sprintf("X.%d.%d", subject, detail)
			if w, ok := enhancedWordsFor(key); ok {
				return w.Name + ": " + firstSentence(enhancedAction(key, int(enhanced[0]-'0'), w))
			}
		}
	}
	if code >= 400 && code < 600 {
		uses := basicUses(code, lt)
		if len(uses) > 0 {
			w, _ := basicWordsFor(strconv.Itoa(code), uses[0].Extension)
			return w.Name + ": " + firstSentence(w.Action)
		}
		w, _ := basicWordsFor(fmt.Sprintf("%dyz", code/100), "")
		return w.Name + ": " + firstSentence(w.Action)
	}
	return ""
}

// vagueStatus reports an enhanced code that says little by itself: none,
// an unregistered one, a detail of 0, or X.7.1 (refused by policy).
func vagueStatus(enhanced string) bool {
	_, subject, detail, ok := parseEnhanced(enhanced)
	if !ok || detail == 0 || subject == 7 && detail == 1 {
		return true
	}
	_, known := enhancedWordsFor(fmt.Sprintf("X.%d.%d", subject, detail))
	return !known
}

// firstSentence cuts s after its first sentence or clause.
func firstSentence(s string) string {
	for i := 0; i+1 < len(s); i++ {
		if (s[i] == '.' || s[i] == ';') && s[i+1] == ' ' {
			return s[:i]
		}
	}
	return strings.TrimSuffix(s, ".")
}
