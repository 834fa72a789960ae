package policy

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse: Parse never panics, and whatever it accepts compiles and
// evaluates. Seeds: testdata/fuzz/FuzzParse plus the seed policy.
func FuzzParse(f *testing.F) {
	f.Add([]byte(seedPolicy))
	f.Add([]byte(`{"Version":"2012-10-17","Statement":{"Effect":"Deny","NotAction":"iot:Connect","NotResource":"*","Condition":{"ForAllValues:ArnLikeIfExists":{"a:b":["arn:*:*:*:*:${iot:ClientId}"]}}}}`))
	vars := benchVars()
	vars.Cert = &Cert{SerialNumber: "1", Subject: DN{CommonName: []string{"cn"}}}
	vars.Set("a:b", "arn:aws:iot:r:a:topic/x", "y")
	f.Fuzz(func(t *testing.T, doc []byte) {
		d, err := Parse(doc)
		if err != nil {
			if _, ok := err.(*SyntaxError); !ok {
				t.Fatalf("non-SyntaxError %T: %v", err, err)
			}
			return
		}
		c, err := Compile("f", "1", d)
		if err != nil {
			t.Fatalf("accepted document does not compile: %v", err)
		}
		for _, a := range []string{"iot:Publish", "iot:Connect"} {
			Evaluate([]*Compiled{c}, &Request{Action: a, Resource: benchARN + ":topic/lamp-1/x", Vars: vars, Explain: true})
		}
	})
}

// FuzzEvaluate compares wildcard matching with an equivalent regexp.
func FuzzEvaluate(f *testing.F) {
	f.Add("topic/*/x?", "topic/a/b/xy")
	f.Add("*a*a*b", "aaaab")
	f.Add("a?c", "aéc")
	f.Fuzz(func(t *testing.T, pat, s string) {
		if !utf8.ValidString(pat) || !utf8.ValidString(s) || len(pat) > 64 || len(s) > 256 {
			return
		}
		p := compilePattern([]segment{{text: pat}}, true, nil)
		re := regexp.MustCompile(globRegexp(pat))
		if got, want := p.match(s, nil, false), re.MatchString(s); got != want {
			t.Fatalf("%q ~ %q: got %v, regexp says %v", pat, s, got, want)
		}
	})
}

func globRegexp(pat string) string {
	var b strings.Builder
	b.WriteString(`^(?s:`)
	for _, r := range pat {
		switch r {
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString(`)$`)
	return b.String()
}
