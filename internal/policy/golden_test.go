package policy

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the want sections of testdata/eval/*.txt")

// A golden file (testdata/eval/NAME.txt) holds one case: comment lines,
// then sections introduced by "-- KIND ARGS --":
//
//	-- policy NAME VERSION --   a policy document (several allowed)
//	-- request --               "key value" lines, see buildRequest
//	-- want --                  Decision.String() of that request
//
// request/want pairs may repeat. go test -run TestEvaluate_Golden -update
// rewrites the want sections from the current code.

type section struct {
	kind, args, body string
}

func readSections(t *testing.T, path string) (head string, secs []section) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cur *section
	var headB strings.Builder
	for _, line := range strings.SplitAfter(string(data), "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "-- ") && strings.HasSuffix(trimmed, " --") {
			f := strings.Fields(strings.Trim(trimmed, "- "))
			secs = append(secs, section{kind: f[0], args: strings.Join(f[1:], " ")})
			cur = &secs[len(secs)-1]
			continue
		}
		if cur == nil {
			headB.WriteString(line)
		} else {
			cur.body += line
		}
	}
	return headB.String(), secs
}

func writeSections(t *testing.T, path, head string, secs []section) {
	t.Helper()
	var b strings.Builder
	b.WriteString(head)
	for _, s := range secs {
		fmt.Fprintf(&b, "-- %s --\n", strings.TrimSpace(s.kind+" "+s.args))
		b.WriteString(s.body)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestEvaluate_Golden checks each request of each golden file against its
// expected decision, with and without Explain.
func TestEvaluate_Golden(t *testing.T) {
	files, _ := filepath.Glob("testdata/eval/*.txt")
	if len(files) == 0 {
		t.Fatal("no golden files")
	}
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txt"), func(t *testing.T) {
			runGolden(t, path)
		})
	}
}

func runGolden(t *testing.T, path string) {
	head, secs := readSections(t, path)
	var policies []*Compiled
	var req *Request
	changed := false
	for i := range secs {
		s := &secs[i]
		switch s.kind {
		case "policy":
			policies = append(policies, compileSection(t, s))
		case "request":
			req = buildRequest(t, s.body)
		case "want":
			got := Evaluate(policies, req).String()
			want := strings.TrimSpace(s.body)
			if *update && got != want {
				s.body, changed = got+"\n", true
				continue
			}
			if got != want {
				t.Errorf("%s\nrequest:\n%s got  %s\n want %s", path, indent(reqText(secs, i)), got, want)
			}
			checkNoExplain(t, policies, req)
		default:
			t.Fatalf("%s: unknown section %q", path, s.kind)
		}
	}
	if changed {
		writeSections(t, path, head, secs)
	}
}

func reqText(secs []section, want int) string {
	if want > 0 {
		return secs[want-1].body
	}
	return ""
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n  ") + "\n"
}

// checkNoExplain: the decision must not depend on Explain.
func checkNoExplain(t *testing.T, policies []*Compiled, req *Request) {
	t.Helper()
	r := *req
	r.Explain = false
	a, b := Evaluate(policies, &r), Evaluate(policies, req)
	if a.Result != b.Result || a.Policy != b.Policy || a.Statement != b.Statement || a.Vars != nil {
		t.Errorf("Explain changes the decision: %v vs %v", a, b)
	}
}

func compileSection(t *testing.T, s *section) *Compiled {
	t.Helper()
	name, version, _ := strings.Cut(s.args, " ")
	d, err := Parse([]byte(s.body))
	if err != nil {
		t.Fatalf("policy %s: %v", name, err)
	}
	c, err := Compile(name, version, d)
	if err != nil {
		t.Fatalf("policy %s: compile: %v", name, err)
	}
	return c
}

// buildRequest reads "key value" lines:
//
//	action A | resource R | clientid C | thing NAME | thingtype T
//	attr NAME VALUE | sourceip IP | topic T | domain D | now RFC3339
//	cert.serial S | cert.id ID | cert.subject.ATTR V | cert.issuer.ATTR V
//	cert.san.TYPE V | set KEY V1,V2,...   (Vars.Extra; "set KEY" alone: empty list)
//
// Repeated cert.* lines append values.
func buildRequest(t *testing.T, body string) *Request {
	t.Helper()
	req := &Request{Vars: &Vars{}, Explain: true}
	for _, line := range strings.Split(strings.TrimSpace(body), "\n") {
		key, val, _ := strings.Cut(strings.TrimSpace(line), " ")
		if key == "" || strings.HasPrefix(key, "#") {
			continue
		}
		if !setRequestField(req, key, val) {
			t.Fatalf("bad request line %q", line)
		}
	}
	return req
}

func setRequestField(req *Request, key, val string) bool {
	v := req.Vars
	switch key {
	case "action":
		req.Action = val
	case "resource":
		req.Resource = val
	case "novars":
		req.Vars = nil
	case "clientid":
		v.ClientID = val
	case "thing":
		v.thing().Name = val
	case "thingtype":
		v.thing().TypeName = val
	case "attr":
		name, value, _ := strings.Cut(val, " ")
		v.thing().Attributes[name] = value
	case "sourceip":
		v.SourceIP = val
	case "topic":
		v.Topic = val
	case "domain":
		v.DomainName = val
	case "now":
		t, err := time.Parse(time.RFC3339, val)
		v.Now = t
		return err == nil
	case "set":
		k, list, _ := strings.Cut(val, " ")
		v.Set(k, splitList(list)...)
	default:
		return setCertField(v, key, val)
	}
	return true
}

func splitList(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

func (v *Vars) thing() *Thing {
	if v.Thing == nil {
		v.Thing = &Thing{Attributes: map[string]string{}}
	}
	return v.Thing
}

func setCertField(v *Vars, key, val string) bool {
	rest, ok := strings.CutPrefix(key, "cert.")
	if !ok {
		return false
	}
	if v.Cert == nil {
		v.Cert = &Cert{}
	}
	c := v.Cert
	switch {
	case rest == "serial":
		c.SerialNumber = val
	case rest == "id":
		c.ID = val
	case strings.HasPrefix(rest, "subject."):
		return appendAttr(c.Subject.fieldPtr, dnAttrs, rest[len("subject."):], val)
	case strings.HasPrefix(rest, "issuer."):
		return appendAttr(c.Issuer.fieldPtr, dnAttrs, rest[len("issuer."):], val)
	case strings.HasPrefix(rest, "san."):
		return appendAttr(c.SubjectAltNames.fieldPtr, altAttrs, rest[len("san."):], val)
	default:
		return false
	}
	return true
}

func appendAttr(field func(int) *[]string, names []string, attr, val string) bool {
	for i, n := range names {
		if n == attr {
			p := field(i)
			*p = append(*p, val)
			return true
		}
	}
	return false
}
