package access

import (
	"fmt"
	"testing"

	"github.com/moat-iot/moat/internal/arn"
	"github.com/moat-iot/moat/internal/auth"
	"github.com/moat-iot/moat/internal/broker"
	"github.com/moat-iot/moat/internal/policy"
)

const seed = `{"Version":"2012-10-17","Statement":[
{"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:us-east-1:000000000000:client/${iot:Connection.Thing.ThingName}"},
{"Effect":"Allow","Action":["iot:Publish","iot:Receive"],"Resource":"arn:aws:iot:us-east-1:000000000000:topic/${iot:ClientId}/*"},
{"Effect":"Allow","Action":"iot:Subscribe","Resource":"arn:aws:iot:us-east-1:000000000000:topicfilter/${iot:ClientId}/*"},
{"Effect":"Deny","Action":"iot:Publish","Resource":"arn:aws:iot:us-east-1:000000000000:topic/${iot:ClientId}/secret"}]}`

func perms(t testing.TB, clientID, thing string) *Permissions {
	d, err := policy.Parse([]byte(seed))
	if err != nil {
		t.Fatal(err)
	}
	c, err := policy.Compile("seed", "1", d)
	if err != nil {
		t.Fatal(err)
	}
	vars := &policy.Vars{ClientID: clientID}
	if thing != "" {
		vars.Thing = &policy.Thing{Name: thing}
	}
	return newPermissions(arn.Builder{Region: "us-east-1", Account: "000000000000"}, auth.Principal{Kind: auth.KindCertificate, CertificateID: "x"}, []*policy.Compiled{c}, vars)
}

// TestPermissions_Allow checks each action maps to its resource type and
// the cache returns what evaluation decided, allow and deny.
func TestPermissions_Allow(t *testing.T) {
	p := perms(t, "lamp-1", "lamp-1")
	tests := []struct {
		name     string
		action   broker.Action
		resource string
		want     bool
	}{
		{"connect as the thing", broker.ActConnect, "lamp-1", true},
		{"connect as another", broker.ActConnect, "lamp-2", false},
		{"publish own topic", broker.ActPublish, "lamp-1/state", true},
		{"publish denied by an explicit Deny", broker.ActPublish, "lamp-1/secret", false},
		{"publish foreign topic", broker.ActPublish, "lamp-2/state", false},
		{"retain publish not granted", broker.ActRetainPublish, "lamp-1/state", false},
		{"subscribe own filter", broker.ActSubscribe, "lamp-1/#", true},
		{"subscribe foreign filter", broker.ActSubscribe, "#", false},
		{"receive own topic", broker.ActReceive, "lamp-1/x", true},
		{"receive foreign topic", broker.ActReceive, "lamp-2/x", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i := 0; i < 2; i++ { // the second answer comes from the cache
				if got := p.Allow(tt.action, tt.resource); got != tt.want {
					t.Fatalf("Allow(%v, %q) #%d = %v, want %v", tt.action, tt.resource, i, got, tt.want)
				}
			}
		})
	}
	// without a thing, the thing variable is unresolved: no connect at all
	if perms(t, "lamp-1", "").Allow(broker.ActConnect, "lamp-1") {
		t.Fatal("connect allowed with an unresolved thing variable")
	}
}

// TestPermissions_CacheBound checks the cache stays bounded and correct
// past its size.
func TestPermissions_CacheBound(t *testing.T) {
	p := perms(t, "lamp-1", "lamp-1")
	for i := 0; i < 3*maxCached; i++ {
		if !p.Allow(broker.ActPublish, fmt.Sprintf("lamp-1/t%d", i)) {
			t.Fatal("allowed topic denied")
		}
	}
	if n := len(p.cache[broker.ActPublish]); n > maxCached {
		t.Fatalf("cache holds %d entries, limit %d", n, maxCached)
	}
}

// BenchmarkPermissions_Allow measures the hot path: a cached decision, and
// an uncached one (policy evaluation with variables).
func BenchmarkPermissions_Allow(b *testing.B) {
	b.Run("cached", func(b *testing.B) {
		p := perms(b, "lamp-1", "lamp-1")
		p.Allow(broker.ActPublish, "lamp-1/state")
		b.ReportAllocs()
		for b.Loop() {
			if !p.Allow(broker.ActPublish, "lamp-1/state") {
				b.Fatal("denied")
			}
		}
	})
	b.Run("uncached", func(b *testing.B) {
		p := perms(b, "lamp-1", "lamp-1")
		b.ReportAllocs()
		for b.Loop() {
			if !p.Decide(broker.ActPublish, "lamp-1/state", false).Allowed {
				b.Fatal("denied")
			}
		}
	})
}

// tenByTen is 10 policies of 10 statements each; the last statement of the
// last policy is the one that allows the benchmark's publish.
func tenByTen(t testing.TB) []*policy.Compiled {
	var out []*policy.Compiled
	for p := 0; p < 10; p++ {
		doc := `{"Version":"2012-10-17","Statement":[`
		for s := 0; s < 10; s++ {
			if s > 0 {
				doc += ","
			}
			res := fmt.Sprintf("arn:aws:iot:us-east-1:000000000000:topic/${iot:ClientId}/p%d/s%d/*", p, s)
			if p == 9 && s == 9 {
				res = "arn:aws:iot:us-east-1:000000000000:topic/${iot:ClientId}/*"
			}
			doc += fmt.Sprintf(`{"Effect":"Allow","Action":["iot:Publish","iot:Receive"],"Resource":%q}`, res)
		}
		doc += "]}"
		d, err := policy.Parse([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		c, err := policy.Compile(fmt.Sprintf("p%d", p), "1", d)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

// BenchmarkPermissions_TenByTen measures a decision with 10 policies of 10
// statements each (issue 4's case): cached, and uncached (every statement
// evaluated, variables substituted).
func BenchmarkPermissions_TenByTen(b *testing.B) {
	p := newPermissions(arn.Builder{Region: "us-east-1", Account: "000000000000"}, auth.Principal{Kind: auth.KindCertificate, CertificateID: "x"},
		tenByTen(b), &policy.Vars{ClientID: "lamp-1"})
	b.Run("cached", func(b *testing.B) {
		p.Allow(broker.ActPublish, "lamp-1/state")
		b.ReportAllocs()
		for b.Loop() {
			if !p.Allow(broker.ActPublish, "lamp-1/state") {
				b.Fatal("denied")
			}
		}
	})
	b.Run("uncached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !p.Decide(broker.ActPublish, "lamp-1/state", false).Allowed {
				b.Fatal("denied")
			}
		}
	})
}
