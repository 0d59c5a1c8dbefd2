package transport

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

var wordsEnv = map[string]string{
	"IP": "192.0.2.1", "TWO": "a  b", "EDGE": " x ", "BLANK": "  ", "HOME": "/home/u", "EMPTY": "",
}

func wordsGetenv(k string) string { return wordsEnv[k] }

// The words are those a real sh gives: each line is split by splitWords
// and by `sh -c 'set -f; printf "%s\0" LINE'` with the same environment.
func TestSplitWordsAsShDoes(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	for _, line := range []string{
		`a b  c`, `'a b' "c d" e\ f`, `"$IP" $IP ${IP}x`, `x$TWO`, `$TWO`, `"$TWO"`, `a$EDGE b`, `a${EDGE}b`,
		`$BLANK`, `a $BLANK b`, `"$EMPTY"`, `$EMPTY`, `a$EMPTY`, `''`, `""`, `a''b`, `'$IP'`, `"\$IP \\ \" \x"`,
		`\$IP`, `~`, `~/bin/x`, `a~`, `"~"`, `a # comment`, `a#b`, `$`, `a$ b`, `"a$"`, "a\\\nb", "\"a\\\nb\"",
		`-bh 192.0.2.1`, `--x='a b'`, `"${IP}"` + `'${IP}'`, "a\tb", "'a\nb' \"c\nd\"", `"it's"`, `'say "hi"'`,
	} {
		got, err := splitWords(line, wordsGetenv)
		if err != nil {
			t.Errorf("%q: %v", line, err)
			continue
		}
		cmd := exec.Command(sh, "-c", `set -f; printf '%s\0' `+line)
		cmd.Env = []string{"PATH=/usr/bin:/bin"}
		for k, v := range wordsEnv {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%q: sh: %v", line, err)
		}
		var want []string
		for _, w := range bytes.Split(out, []byte{0}) {
			want = append(want, string(w))
		}
		want = want[:len(want)-1] // after the last NUL
		// printf with no words still prints its format once.
		if len(want) == 1 && want[0] == "" && len(got) == 0 {
			continue
		}
		if strings.Join(got, "|") != strings.Join(want, "|") || len(got) != len(want) {
			t.Errorf("%q: got %q, sh gives %q", line, got, want)
		}
	}
}

// What only a shell could do is refused, each with its reason.
func TestSplitWordsRefuses(t *testing.T) {
	for line, why := range map[string]string{
		`a | b`: `"|" is a shell operator`, `a;b`: `";" is a shell operator`, `a > f`: `">" is a shell operator`,
		`a &`: `"&" is a shell operator`, `(a)`: `"(" is a shell operator`, "a `id`": "command substitution",
		`a $(id)`: "command substitution", `"a $(id)"`: "command substitution", "\"`id`\"": "command substitution",
		`a 'b`: "' is not closed", `a "b`: `" is not closed`, `a \`: "ends with a backslash",
		`${IP:-x}`: "only $NAME", "a\nb": "newline separates", `$1`: "only $NAME", `"$@"`: "only $NAME", `${IP`: "${ is not closed",
	} {
		_, err := splitWords(line, wordsGetenv)
		if err == nil || !strings.Contains(err.Error(), why) {
			t.Errorf("%q: %v, want %q", line, err, why)
		}
	}
}

// Any list of words, each quoted as a shell script would quote it, splits
// back into the same words.
func FuzzSplitWords(f *testing.F) {
	f.Add("a b", "c'd", `e"f\g$h`)
	f.Add("", " ", "\n\t")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		if _, err := splitWords(a+b+c, wordsGetenv); err != nil && err.Error() == "" {
			t.Fatal("empty error")
		}
		words := []string{a, b, c}
		var line []string
		for _, w := range words {
			line = append(line, "'"+strings.ReplaceAll(w, "'", `'\''`)+"'")
		}
		got, err := splitWords(strings.Join(line, " "), wordsGetenv)
		if err != nil || strings.Join(got, "\x00") != strings.Join(words, "\x00") || len(got) != 3 {
			t.Fatalf("%q: got %q %v", line, got, err)
		}
	})
}
