package control

import (
	"bytes"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/moat-iot/moat/internal/api"
	"github.com/moat-iot/moat/internal/arn"
	"github.com/moat-iot/moat/internal/awsapi"
	"github.com/moat-iot/moat/internal/names"
)

// FuzzResourceBodies feeds the resource functions that read a request
// body arbitrary bytes, and checks the property authorization relies on:
// whenever the handler's own input type decodes the body (so the handler
// acts on it), the resource authorized is the one the handler acts on,
// never the "*" of a malformed request.
func FuzzResourceBodies(f *testing.F) {
	f.Add([]byte(`{"target":"arn:aws:iot:us-east-1:000000000000:cert/abc"}`))
	f.Add([]byte(`{"thingGroupName":"g","thingArn":"arn:aws:iot:us-east-1:000000000000:thing/t","tags":"x","tagKeys":3}`))
	f.Add([]byte(`{"thingName":"t","thingGroupsToAdd":["a","b"],"thingGroupsToRemove":null}`))
	f.Add([]byte(`{"resourceArn":"arn:aws:iot:us-east-1:000000000000:rule/r","tags":[{"Key":"k"}],"tagKeys":["k"]}`))
	f.Add([]byte(`{"principal":"ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789","indexName":""}`))
	f.Add([]byte(`{"TARGET":"x","target":"arn:aws:iot:r:a:thinggroup/g"}`))
	f.Add([]byte(`[]`))
	a := &API{ARNs: arn.Builder{Region: "us-east-1", Account: "000000000000"}}
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest("POST", "/", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		r := &api.Request{Request: req, Body: body}
		decodes := func(v any) bool { return awsapi.DecodeJSON(req, body, v) == nil }

		var target targetInput
		if decodes(&target) {
			if got, want := a.targetARN(r), anyARN(target.Target); got != want {
				t.Fatalf("AttachPolicy target %q authorized as %q", want, got)
			}
		}
		var m membershipInput
		if decodes(&m) {
			if got := a.membershipARNs(r); len(got) != 2 {
				t.Fatalf("membership %+v authorized as %q", m, got)
			}
		}
		var groups updateThingGroupsForThingInput
		if decodes(&groups) {
			want := []string{a.ARNs.Thing(groups.ThingName)}
			for _, g := range append(groups.ThingGroupsToAdd, groups.ThingGroupsToRemove...) {
				want = append(want, a.ARNs.ThingGroup(g))
			}
			if got := a.groupsForThingARNs(r); !slices.Equal(got, want) {
				t.Fatalf("UpdateThingGroupsForThing authorized as %q, want %q", got, want)
			}
		}
		var tag tagResourceInput
		if decodes(&tag) {
			if got, want := a.taggedARN(r), anyARN(tag.ResourceArn); got != want {
				t.Fatalf("TagResource on %q authorized as %q", want, got)
			}
		}
		var untag untagResourceInput
		if decodes(&untag) {
			if got, want := a.taggedARN(r), anyARN(untag.ResourceArn); got != want {
				t.Fatalf("UntagResource on %q authorized as %q", want, got)
			}
		}
		var search searchIndexInput
		if decodes(&search) {
			name := search.IndexName
			if name == "" {
				name = "AWS_Things"
			}
			if got, want := a.indexARN(r), a.ARNs.IoT("index", name); got != want {
				t.Fatalf("SearchIndex authorized as %q, want %q", got, want)
			}
		}
		var ta testAuthorizationInput
		if decodes(&ta) {
			want := anyARN(ta.Principal)
			if names.CertificateID("principal", ta.Principal) == nil {
				want = a.ARNs.Cert(strings.ToLower(ta.Principal))
			}
			if got := a.principalCertARN(r); got != want {
				t.Fatalf("TestAuthorization principal %q authorized as %q, want %q", ta.Principal, got, want)
			}
		}
	})
}
