package policy

import (
	"fmt"
	"strconv"
	"strings"
)

// A segment is one piece of a Resource or Condition value: literal text or
// a policy variable ${name}. The escapes ${*}, ${?} and ${$} become literal
// segments marked escaped, so that a wildcard pattern treats their
// character as plain text.
type segment struct {
	text    string // literal text, or the variable name when isVar
	isVar   bool
	escaped bool
}

// parseTemplate splits s into segments. When vars is false (a document
// without Version 2012-10-17) the whole string is one literal segment, as
// in IAM, where older documents do not recognise policy variables.
func parseTemplate(s string, vars bool) ([]segment, error) {
	if !vars || !strings.Contains(s, "${") {
		return []segment{{text: s}}, nil
	}
	var segs []segment
	for s != "" {
		i := strings.Index(s, "${")
		if i < 0 {
			segs = append(segs, segment{text: s})
			break
		}
		if i > 0 {
			segs = append(segs, segment{text: s[:i]})
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return nil, errTemplate("unterminated policy variable %q: missing '}'", s[i:])
		}
		seg, err := variableSegment(s[i+2 : i+j])
		if err != nil {
			return nil, err
		}
		segs = append(segs, seg)
		s = s[i+j+1:]
	}
	return segs, nil
}

// variableSegment classifies the text between "${" and "}".
func variableSegment(name string) (segment, error) {
	switch name {
	case "*", "?", "$":
		return segment{text: name, escaped: true}, nil
	case "":
		return segment{}, errTemplate("empty policy variable ${}")
	}
	if strings.ContainsAny(name, "${") || strings.TrimSpace(name) != name {
		return segment{}, errTemplate("malformed policy variable %s", strconv.Quote("${"+name+"}"))
	}
	return segment{text: name, isVar: true}, nil
}

// templateError is a parse error inside one value; the caller adds the
// statement and field.
type templateError struct{ msg string }

func (e *templateError) Error() string { return e.msg }

func errTemplate(format string, args ...any) error {
	return &templateError{msg: fmt.Sprintf(format, args...)}
}

// hasVars reports whether segs contains a policy variable.
func hasVars(segs []segment) bool {
	for _, s := range segs {
		if s.isVar {
			return true
		}
	}
	return false
}

// varNames lists the variable names in segs, in order, without repeats.
func varNames(segs []segment) []string {
	var names []string
	for _, s := range segs {
		if s.isVar && !containsFold(names, s.text) {
			names = append(names, s.text)
		}
	}
	return names
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}
