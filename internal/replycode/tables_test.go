package replycode

import (
	"strings"
	"testing"
)

// The hand-written wording and the generated facts must match one to one,
// so that no code is left without words and no words without a code.
func TestTablesMatch(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range basicFacts {
		k := f.Code + "/" + f.Ext
		if seen[k] {
			t.Errorf("basic fact %s twice", k)
		}
		seen[k] = true
		w, ok := basicWordsFor(f.Code, f.Ext)
		if !ok {
			t.Errorf("basic %s has no wording", k)
			continue
		}
		checkWords(t, k, w)
	}
	for _, w := range basicTexts {
		if !seen[w.Code+"/"+w.Ext] {
			t.Errorf("wording for %s/%s matches no fact", w.Code, w.Ext)
		}
	}
	seen = map[string]bool{}
	for _, f := range enhancedFacts {
		if seen[f.Code] {
			t.Errorf("enhanced fact %s twice", f.Code)
		}
		seen[f.Code] = true
		w, ok := enhancedWordsFor(f.Code)
		if !ok {
			t.Errorf("enhanced %s has no wording", f.Code)
			continue
		}
		checkWords(t, f.Code, w)
	}
	for _, w := range enhancedTexts {
		if !seen[w.Code] {
			t.Errorf("wording for %s matches no fact", w.Code)
		}
	}
}

func checkWords(t *testing.T, k string, w words) {
	t.Helper()
	if w.Name == "" || w.Meaning == "" || w.Action == "" {
		t.Errorf("%s: empty wording %+v", k, w)
	}
	if firstSentence(w.Action) == "" {
		t.Errorf("%s: action has no first sentence", k)
	}
	for _, s := range []string{w.Meaning, w.Action} {
		if !strings.HasSuffix(s, ".") {
			t.Errorf("%s: %q does not end with a full stop", k, s)
		}
	}
}

func TestProviderRules(t *testing.T) {
	ids := map[string]bool{}
	for _, r := range providerRules {
		if ids[r.ID] {
			t.Errorf("rule %s twice", r.ID)
		}
		ids[r.ID] = true
		if r.Provider == "" || r.Name == "" || r.Meaning == "" || r.Fix == "" || r.Source == "" {
			t.Errorf("rule %s incomplete", r.ID)
		}
		if len(r.Codes) == 0 && len(r.Words) == 0 {
			t.Errorf("rule %s rests on nothing but the signature", r.ID)
		}
		for _, w := range r.Words {
			if w != strings.ToLower(w) {
				t.Errorf("rule %s: word %q must be lower case", r.ID, w)
			}
		}
		for _, c := range r.Codes {
			if _, _, _, ok := split3(c); !ok {
				t.Errorf("rule %s: bad code pattern %q", r.ID, c)
			}
		}
	}
}
