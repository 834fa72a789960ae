package provisioning

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the expected output of testdata/golden/*.txt")

// goldenCase is one testdata/golden file: sections introduced by
// "-- name --" lines. template is the body; params (optional) a JSON object
// of parameters; then either plan (the expected Plan as JSON) or error (the
// sentinel name on the first line, the exact error text on the second).
type goldenCase struct {
	sections map[string]string
	order    []string
}

func readGolden(t *testing.T, path string) goldenCase {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c := goldenCase{sections: map[string]string{}}
	cur := ""
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if s := strings.TrimSpace(line); strings.HasPrefix(s, "-- ") && strings.HasSuffix(s, " --") {
			cur = strings.TrimSuffix(strings.TrimPrefix(s, "-- "), " --")
			c.order = append(c.order, cur)
			continue
		}
		c.sections[cur] += line
	}
	return c
}

func (c goldenCase) write(path string) error {
	var b strings.Builder
	for _, name := range c.order {
		b.WriteString("-- " + name + " --\n")
		b.WriteString(strings.TrimRight(c.sections[name], "\n") + "\n")
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

var sentinels = map[string]error{
	"ErrSyntax": ErrSyntax, "ErrInvalid": ErrInvalid,
	"ErrMissingParameter": ErrMissingParameter, "ErrEvaluation": ErrEvaluation,
}

func sentinelName(err error) string {
	for name, s := range sentinels {
		if errors.Is(err, s) {
			return name
		}
	}
	return "unknown"
}

// run parses and executes a case and renders the outcome as the case's
// expected section: ("plan", JSON) or ("error", "Kind\ntext").
func (c goldenCase) run(t *testing.T) (section, got string) {
	t.Helper()
	params := map[string]string{}
	if p := strings.TrimSpace(c.sections["params"]); p != "" {
		if err := json.Unmarshal([]byte(p), &params); err != nil {
			t.Fatalf("params: %v", err)
		}
	}
	body := strings.TrimSuffix(c.sections["template"], "\n")
	tmpl, err := Parse(body)
	var plan *Plan
	if err == nil {
		plan, err = tmpl.Execute(params)
	}
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("error %v is not an *Error", err)
		}
		return "error", sentinelName(err) + "\n" + err.Error()
	}
	if tmpl != nil {
		assertPlanDeclared(t, tmpl, plan)
	}
	out, err := json.MarshalIndent(plan, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return "plan", string(out)
}

// TestGolden runs every testdata/golden case: AWS's documented templates,
// each intrinsic function, conditions, OverrideSettings and the error
// cases. Run with -update to rewrite the expected sections.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/golden/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			c := readGolden(t, file)
			section, got := c.run(t)
			if *update {
				for _, s := range []string{"plan", "error"} {
					if _, ok := c.sections[s]; ok && s != section {
						delete(c.sections, s)
						for i, o := range c.order {
							if o == s {
								c.order = append(c.order[:i], c.order[i+1:]...)
								break
							}
						}
					}
				}
				if _, ok := c.sections[section]; !ok {
					c.order = append(c.order, section)
				}
				c.sections[section] = got
				if err := c.write(file); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, ok := c.sections[section]
			if !ok {
				other := "plan"
				if section == "plan" {
					other = "error"
				}
				t.Fatalf("got %s:\n%s\nwant %s:\n%s", section, got, other, c.sections[other])
			}
			if strings.TrimSpace(want) != strings.TrimSpace(got) {
				t.Errorf("%s mismatch\ngot:\n%s\nwant:\n%s", section, got, want)
			}
		})
	}
}

// assertPlanDeclared checks that every resource in plan is one the
// template declares, with the matching type.
func assertPlanDeclared(t *testing.T, tmpl *Template, plan *Plan) {
	t.Helper()
	declared := map[string]string{}
	for _, r := range tmpl.resources {
		declared[r.name] = r.typ
	}
	check := func(name, typ string) {
		if declared[name] != typ {
			t.Errorf("plan names %s %q, which the template does not declare as such", typ, name)
		}
	}
	if plan.Thing != nil {
		check(plan.Thing.LogicalName, TypeThing)
	}
	if plan.Certificate != nil {
		check(plan.Certificate.LogicalName, TypeCertificate)
	}
	for _, p := range plan.Policies {
		check(p.LogicalName, TypePolicy)
	}
	if plan.DeviceConfiguration != nil && tmpl.deviceConfig == nil {
		t.Errorf("plan has a DeviceConfiguration the template does not declare")
	}
}
