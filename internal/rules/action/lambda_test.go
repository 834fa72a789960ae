package action

import (
	"net/http"
	"testing"
	"time"
)

// TestLambda_Do checks that a lambda action whose functionArn is a URL
// POSTs the rule's result to it, with templates after the host.
func TestLambda_Do(t *testing.T) {
	e := newEndpoint(t, true, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusAccepted) })
	a := mustNew(t, `{"lambda":{"functionArn":"`+e.URL+`/2015-03-31/functions/${topic(1)}/invocations"}}`, httpDeps(t, e))
	in := input("lamps/lamp-1", "c-1", `{}`)
	if err := a.Do(testCtx(t, 5*time.Second), &Message{Payload: []byte(`{"t":21}`), In: in}); err != nil {
		t.Fatalf("Do: %v", err)
	}
	reqs := e.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.method != http.MethodPost || r.path != "/2015-03-31/functions/lamps/invocations" || r.body != `{"t":21}` ||
		r.header.Get("Content-Type") != "application/json" {
		t.Errorf("got %s %s %q (%s)", r.method, r.path, r.body, r.header.Get("Content-Type"))
	}
}

// TestLambda_Do_status checks that a lambda endpoint's failures follow
// the http action's rules.
func TestLambda_Do_status(t *testing.T) {
	for status, permanent := range map[int]bool{http.StatusInternalServerError: false, http.StatusNotFound: true} {
		e := newEndpoint(t, false, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(status) })
		a := mustNew(t, `{"lambda":{"functionArn":"`+e.URL+`/fn"}}`, httpDeps(t, e))
		err := a.Do(testCtx(t, 5*time.Second), &Message{Payload: []byte(`{}`)})
		if err == nil || isPermanent(err) != permanent {
			t.Errorf("status %d: Do error %v, want permanent %v", status, err, permanent)
		}
	}
}
