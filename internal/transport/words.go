package transport

import (
	"fmt"
	"strings"
)

// splitWords splits a command line into words as a POSIX shell would
// (XCU 2.2 quoting, 2.6.2 parameter expansion of $NAME and ${NAME}, 2.6.5
// field splitting of unquoted expansions, 2.6.1 tilde at a word's start,
// 2.3 comments), for a program that is then run without a shell. What
// only a shell can do is refused rather than passed on as text: operators
// (| & ; < > ( )), command substitution, and the other ${...} forms.
//
// It replaces mvdan.cc/sh's shell.Fields, whose packages compile four
// regular expressions at start-up (0.16 ms of every smtpx run, measured
// with GODEBUG=inittrace=1) for the one flag that needs them.
func splitWords(line string, getenv func(string) string) ([]string, error) {
	var (
		words []string
		cur   strings.Builder
		// inWord: the current word exists even if empty ('' or "").
		inWord bool
	)
	end := func() {
		if inWord {
			words = append(words, cur.String())
		}
		cur.Reset()
		inWord = false
	}
	for i := 0; i < len(line); {
		c := line[i]
		switch {
		case c == '\n':
			return nil, fmt.Errorf("a newline separates commands, as ; does")
		case c == ' ' || c == '\t':
			end()
			i++
		case c == '#' && !inWord:
			return words, nil
		case c == '\\':
			if i+1 == len(line) {
				return nil, fmt.Errorf("the line ends with a backslash")
			}
			if line[i+1] != '\n' { // backslash-newline joins lines
				cur.WriteByte(line[i+1])
				inWord = true
			}
			i += 2
		case c == '\'':
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("a ' is not closed")
			}
			cur.WriteString(line[i+1 : i+1+j])
			inWord = true
			i += j + 2
		case c == '"':
			n, err := doubleQuoted(line[i+1:], &cur, getenv)
			if err != nil {
				return nil, err
			}
			inWord = true
			i += n + 2
		case c == '$':
			val, n, err := expansion(line[i:], getenv)
			if err != nil {
				return nil, err
			}
			i += n
			if n == 1 { // a lone $ is itself
				cur.WriteByte('$')
				inWord = true
				continue
			}
			// Unquoted, the value is split into fields at blanks; an
			// empty value adds no word of its own.
			fields := strings.Fields(val)
			if val != "" && isBlank(val[0]) {
				end()
			}
			for k, f := range fields {
				if k > 0 {
					end()
				}
				cur.WriteString(f)
				inWord = true
			}
			if val != "" && isBlank(val[len(val)-1]) {
				end()
			}
		case c == '`':
			return nil, fmt.Errorf("command substitution (`...`) needs a shell")
		case strings.IndexByte("|&;<>()", c) >= 0:
			return nil, fmt.Errorf("%q is a shell operator", string(c))
		case c == '~' && !inWord && (i+1 == len(line) || strings.IndexByte("/ \t", line[i+1]) >= 0):
			cur.WriteString(getenv("HOME"))
			inWord = true
			i++
		default:
			cur.WriteByte(c)
			inWord = true
			i++
		}
	}
	end()
	return words, nil
}

// doubleQuoted reads s up to the closing quote into cur, expanding $NAME
// and ${NAME} and the backslash escapes a shell honours there. It returns
// the length of the quoted text, without its quotes.
func doubleQuoted(s string, cur *strings.Builder, getenv func(string) string) (int, error) {
	for i := 0; i < len(s); {
		switch c := s[i]; c {
		case '"':
			return i, nil
		case '\\':
			if i+1 < len(s) && strings.IndexByte("$`\"\\\n", s[i+1]) >= 0 {
				if s[i+1] != '\n' {
					cur.WriteByte(s[i+1])
				}
				i += 2
				continue
			}
			cur.WriteByte(c)
			i++
		case '$':
			val, n, err := expansion(s[i:], getenv)
			if err != nil {
				return 0, err
			}
			if n == 1 {
				val = "$"
			}
			cur.WriteString(val)
			i += n
		case '`':
			return 0, fmt.Errorf("command substitution (`...`) needs a shell")
		default:
			cur.WriteByte(c)
			i++
		}
	}
	return 0, fmt.Errorf(`a " is not closed`)
}

// expansion reads the parameter expansion at the start of s (which begins
// with $) and returns its value and length; a length of 1 means the $
// starts none and stands for itself.
func expansion(s string, getenv func(string) string) (string, int, error) {
	if len(s) < 2 {
		return "", 1, nil
	}
	switch c := s[1]; {
	case c == '(':
		return "", 0, fmt.Errorf("command substitution ($(...)) needs a shell")
	case c == '{':
		j := strings.IndexByte(s, '}')
		if j < 0 {
			return "", 0, fmt.Errorf("a ${ is not closed")
		}
		name := s[2:j]
		if !isName(name) {
			return "", 0, fmt.Errorf("${%s}: only $NAME and ${NAME} are expanded", name)
		}
		return getenv(name), j + 1, nil
	case isNameStart(c):
		j := 2
		for j < len(s) && isNameByte(s[j]) {
			j++
		}
		return getenv(s[1:j]), j, nil
	case strings.IndexByte("0123456789@*#?$!-", c) >= 0:
		return "", 0, fmt.Errorf("$%c: only $NAME and ${NAME} are expanded", c)
	}
	return "", 1, nil
}

func isName(s string) bool {
	if s == "" || !isNameStart(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isNameByte(s[i]) {
			return false
		}
	}
	return true
}

func isNameStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isNameByte(c byte) bool  { return isNameStart(c) || c >= '0' && c <= '9' }

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\n' }
