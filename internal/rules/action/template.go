package action

import (
	"errors"
	"fmt"
	"strings"

	"github.com/moat-iot/moat/internal/rules/iotsql"
)

// templateStart opens a substitution template's expression.
const templateStart = "${"

// text is an action parameter that may contain substitution templates.
type text struct {
	raw string   // as written in the action
	tpl Template // nil: raw has no "${" and is used as is
}

// parseText returns the parameter field (named for errors) with value s.
// A value without "${" is constant and never reaches deps.Template.
func parseText(deps *Deps, field, s string) (text, error) {
	if !strings.Contains(s, templateStart) {
		return text{raw: s}, nil
	}
	if deps.Template == nil {
		return text{}, fmt.Errorf("%s: substitution templates are not available", field)
	}
	t, err := deps.Template(s)
	if err != nil {
		return text{}, fmt.Errorf("%s: %w", field, err)
	}
	return text{raw: s, tpl: t}, nil
}

// constant reports whether t renders to t.raw for every message.
func (t text) constant() bool { return t.tpl == nil }

// prefix returns the constant part of t before its first template (all
// of t.raw when t is constant).
func (t text) prefix() string {
	if i := strings.Index(t.raw, templateStart); i >= 0 {
		return t.raw[:i]
	}
	return t.raw
}

// errNoInput is returned when a templated parameter is rendered without
// an incoming message.
var errNoInput = errors.New("no incoming message to render substitution templates against")

// render evaluates t against in. A failure is *Permanent: the same
// message renders the same way on the next attempt.
func (t text) render(field string, in *iotsql.Input) (string, error) {
	if t.tpl == nil {
		return t.raw, nil
	}
	if in == nil {
		return "", &Permanent{Err: fmt.Errorf("%s: %w", field, errNoInput)}
	}
	s, err := t.tpl.Render(in)
	if err != nil {
		return "", permanent("%s: substitution template %q: %w", field, t.raw, err)
	}
	return s, nil
}
