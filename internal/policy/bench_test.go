package policy

import (
	"fmt"
	"strings"
	"testing"
)

const benchARN = "arn:aws:iot:us-east-1:000000000000"

// benchPolicies builds n policies of m statements. Each statement allows
// publish/receive on a distinct topic prefix; stmt renders statement j of
// policy i. The request in the benchmarks matches only the very last
// statement, so every statement is examined.
func benchPolicies(b *testing.B, n, m int, stmt func(i, j int) string) []*Compiled {
	b.Helper()
	var out []*Compiled
	for i := 0; i < n; i++ {
		var stmts []string
		for j := 0; j < m; j++ {
			stmts = append(stmts, stmt(i, j))
		}
		doc := `{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`
		d, err := ParseOptions{MaxSize: APIMaxSize}.Parse([]byte(doc))
		if err != nil {
			b.Fatal(err)
		}
		c, err := Compile(fmt.Sprintf("p%d", i), "1", d)
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

func benchVars() *Vars {
	return &Vars{ClientID: "lamp-1", SourceIP: "10.1.2.3", Thing: &Thing{Name: "lamp-1"}}
}

func runEval(b *testing.B, policies []*Compiled, req *Request, want Result) {
	b.Helper()
	if d := Evaluate(policies, req); d.Result != want {
		b.Fatalf("got %v, want %v", d, want)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Evaluate(policies, req)
	}
}

// BenchmarkEvaluate: 10 policies x 10 statements, uncached.
func BenchmarkEvaluate(b *testing.B) {
	b.Run("static", func(b *testing.B) {
		ps := benchPolicies(b, 10, 10, func(i, j int) string {
			return fmt.Sprintf(`{"Effect":"Allow","Action":["iot:Publish","iot:Receive"],"Resource":"%s:topic/p%d/s%d/*"}`, benchARN, i, j)
		})
		req := &Request{Action: "iot:Publish", Resource: benchARN + ":topic/p9/s9/lamp-1/state", Vars: benchVars()}
		runEval(b, ps, req, Allowed)
	})
	b.Run("static-deny-first", func(b *testing.B) {
		ps := benchPolicies(b, 10, 10, func(i, j int) string {
			if i == 0 && j == 0 {
				return fmt.Sprintf(`{"Effect":"Deny","Action":"iot:Publish","Resource":"%s:topic/secret/*"}`, benchARN)
			}
			return fmt.Sprintf(`{"Effect":"Allow","Action":"iot:Publish","Resource":"%s:topic/p%d/s%d/*"}`, benchARN, i, j)
		})
		req := &Request{Action: "iot:Publish", Resource: benchARN + ":topic/p9/s9/x", Vars: benchVars()}
		runEval(b, ps, req, Allowed)
	})
	b.Run("variables", func(b *testing.B) {
		ps := benchPolicies(b, 10, 10, func(i, j int) string {
			return fmt.Sprintf(`{"Effect":"Allow","Action":["iot:Publish","iot:Receive"],"Resource":"%s:topic/p%d/s%d/${iot:ClientId}/*"}`, benchARN, i, j)
		})
		req := &Request{Action: "iot:Publish", Resource: benchARN + ":topic/p9/s9/lamp-1/state", Vars: benchVars()}
		runEval(b, ps, req, Allowed)
	})
	b.Run("variables-conditions", func(b *testing.B) {
		ps := benchPolicies(b, 10, 10, func(i, j int) string {
			return fmt.Sprintf(`{"Effect":"Allow","Action":["iot:Publish","iot:Receive"],"Resource":"%s:topic/p%d/s%d/${iot:ClientId}/*",`+
				`"Condition":{"StringEquals":{"iot:Connection.Thing.ThingName":"${iot:ClientId}"},"IpAddress":{"aws:SourceIp":"10.0.0.0/8"},"Bool":{"iot:Connection.Thing.IsAttached":"true"}}}`, benchARN, i, j)
		})
		req := &Request{Action: "iot:Publish", Resource: benchARN + ":topic/p9/s9/lamp-1/state", Vars: benchVars()}
		runEval(b, ps, req, Allowed)
	})
	b.Run("implicit-deny", func(b *testing.B) {
		ps := benchPolicies(b, 10, 10, func(i, j int) string {
			return fmt.Sprintf(`{"Effect":"Allow","Action":"iot:*","Resource":"%s:topic/p%d/s%d/${iot:ClientId}/*"}`, benchARN, i, j)
		})
		req := &Request{Action: "iot:Publish", Resource: benchARN + ":topic/other", Vars: benchVars()}
		runEval(b, ps, req, ImplicitDeny)
	})
}

// BenchmarkParse parses and compiles the seed policy.
func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		d, err := Parse([]byte(seedPolicy))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Compile("seed", "1", d); err != nil {
			b.Fatal(err)
		}
	}
}

// TestEvaluate_NoAllocs pins the zero-allocation promise for statements
// without variables and with simple variables.
func TestEvaluate_NoAllocs(t *testing.T) {
	d, _ := Parse([]byte(seedPolicy))
	c, _ := Compile("seed", "1", d)
	ps := []*Compiled{c}
	req := &Request{Action: "iot:Publish", Resource: benchARN + ":topic/lamp-1/state", Vars: benchVars()}
	if n := testing.AllocsPerRun(100, func() { Evaluate(ps, req) }); n != 0 {
		t.Fatalf("%v allocs per Evaluate", n)
	}
}
