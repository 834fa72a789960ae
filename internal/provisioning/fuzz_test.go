package provisioning

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseExecute feeds arbitrary bodies and parameter sets to Parse and
// Execute. Neither may panic; every error is an *Error wrapping one
// sentinel; a returned plan names only resources the template declares.
// The seed corpus is testdata/fuzz/FuzzParseExecute plus every golden case.
func FuzzParseExecute(f *testing.F) {
	files, _ := filepath.Glob("testdata/golden/*.txt")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		c := goldenCase{sections: map[string]string{}}
		cur := ""
		for _, line := range strings.SplitAfter(string(b), "\n") {
			if s := strings.TrimSpace(line); strings.HasPrefix(s, "-- ") && strings.HasSuffix(s, " --") {
				cur = strings.TrimSuffix(strings.TrimPrefix(s, "-- "), " --")
				continue
			}
			c.sections[cur] += line
		}
		f.Add(c.sections["template"], c.sections["params"])
	}
	f.Fuzz(func(t *testing.T, body, paramsJSON string) {
		params := map[string]string{}
		_ = json.Unmarshal([]byte(paramsJSON), &params) // any params will do
		tmpl, err := Parse(body)
		if err != nil {
			assertError(t, err, ErrSyntax, ErrInvalid)
			return
		}
		plan, err := tmpl.Execute(params)
		if err != nil {
			assertError(t, err, ErrMissingParameter, ErrEvaluation)
			return
		}
		assertPlanDeclared(t, tmpl, plan)
		if plan.Thing != nil && plan.Thing.ThingName == "" {
			t.Errorf("plan has a thing without a name")
		}
		for _, p := range plan.Policies {
			if p.Name == "" || (p.Document != "" && !json.Valid([]byte(p.Document))) {
				t.Errorf("bad policy plan %+v", p)
			}
		}
	})
}

func assertError(t *testing.T, err error, kinds ...error) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %T %v is not an *Error", err, err)
	}
	for _, k := range kinds {
		if errors.Is(err, k) {
			return
		}
	}
	t.Fatalf("error %v wraps %v, want one of %v", err, e.Kind, kinds)
}
