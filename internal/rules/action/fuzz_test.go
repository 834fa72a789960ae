package action

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/moat-iot/moat/internal/topic"
)

// roundTripFunc is an http.RoundTripper made of a function.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// FuzzNew feeds New arbitrary action JSON (seeds in testdata/fuzz/FuzzNew:
// the AWS documentation's examples and variants). New must not panic,
// must return either an action or an error with a message, and must start
// nothing. An action it returns must not panic in Do (Kafka actions
// aside: they would connect), must publish only valid topics outside
// $aws/rules/, and must send HTTP requests only to allowed URLs.
func FuzzNew(f *testing.F) {
	f.Fuzz(func(t *testing.T, def []byte) {
		kafka := NewKafkaClients()
		defer kafka.Close()
		rec := &recorder{}
		client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if err := allowTestHosts(r.URL); err != nil || (r.URL.Scheme != "https" && r.URL.Scheme != "http") {
				t.Errorf("request to a refused URL %s", r.URL)
			}
			return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Request: r}, nil
		})}
		deps := Deps{Publisher: rec, HTTPClient: client, AllowURL: allowTestHosts, Template: parseFakeTemplate, Kafka: kafka}
		a, err := New(def, deps)
		if err != nil {
			if a != nil || strings.TrimSpace(err.Error()) == "" {
				t.Fatalf("New returned %v with error %q", a, err)
			}
			return
		}
		if Name(a) == "" {
			t.Fatalf("New returned %T without a name", a)
		}
		if kafka.len() != 0 {
			t.Fatal("New started a Kafka producer")
		}
		if _, ok := a.(*kafkaAction); ok {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = a.Do(ctx, &Message{Payload: def, In: input("in/lamp-1", "c-1", string(def))})
		for _, p := range rec.all() {
			if err := topic.ValidateName(p.p.Topic, topic.AWSLimits()); err != nil || strings.HasPrefix(p.p.Topic, topic.BasicIngestPrefix) {
				t.Errorf("published to %q (%v)", p.p.Topic, err)
			}
		}
	})
}
