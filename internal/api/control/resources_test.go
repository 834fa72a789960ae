package control_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/moat-iot/moat/internal/api"
	"github.com/moat-iot/moat/internal/api/control"
	"github.com/moat-iot/moat/internal/arn"
)

// stubRules makes the rule operations served; their resources never call
// it.
type stubRules struct{ control.RuleService }

type stubAuthorizers struct{ control.AuthorizerService }

// stubRoleAliases names ARNs as the real service does.
type stubRoleAliases struct{ control.RoleAliasService }

func (stubRoleAliases) ARN(name string) string { return res + "rolealias/" + name }

const (
	res    = "arn:aws:iot:us-east-1:000000000000:"
	certID = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
)

// resourceCase is one operation's request and the resources its IAM
// action is authorized on ("*": the action takes no resource in AWS's
// service authorization reference).
type resourceCase struct {
	op, method, path string
	header           http.Header
	body             string
	want             []string
}

func star(op, method, path string) resourceCase {
	return resourceCase{op: op, method: method, path: path, want: []string{"*"}}
}

func one(op, method, path, want string) resourceCase {
	return resourceCase{op: op, method: method, path: path, want: []string{want}}
}

func withBody(op, method, path, body string, want ...string) resourceCase {
	return resourceCase{op: op, method: method, path: path, body: body, want: want}
}

// resourceCases covers every operation control.API serves.
var resourceCases = []resourceCase{
	star("DescribeEndpoint", "GET", "/endpoint"),
	one("CreateThing", "POST", "/things/lamp-1", res+"thing/lamp-1"),
	one("DescribeThing", "GET", "/things/lamp-1", res+"thing/lamp-1"),
	one("UpdateThing", "PATCH", "/things/lamp-1", res+"thing/lamp-1"),
	one("DeleteThing", "DELETE", "/things/lamp-1", res+"thing/lamp-1"),
	star("ListThings", "GET", "/things"),
	star("AttachThingPrincipal", "PUT", "/things/lamp-1/principals"),
	star("DetachThingPrincipal", "DELETE", "/things/lamp-1/principals"),
	star("ListThingPrincipals", "GET", "/things/lamp-1/principals"),
	star("ListPrincipalThings", "GET", "/principals/things"),

	star("CreateKeysAndCertificate", "POST", "/keys-and-certificate"),
	star("CreateCertificateFromCsr", "POST", "/certificates"),
	one("DescribeCertificate", "GET", "/certificates/"+certID, res+"cert/"+certID),
	one("UpdateCertificate", "PUT", "/certificates/"+certID, res+"cert/"+certID),
	one("DeleteCertificate", "DELETE", "/certificates/"+certID, res+"cert/"+certID),
	star("ListCertificates", "GET", "/certificates"),
	star("RegisterCertificate", "POST", "/certificate/register"),
	star("RegisterCertificateWithoutCA", "POST", "/certificate/register-no-ca"),

	star("GetRegistrationCode", "GET", "/registrationcode"),
	star("RegisterCACertificate", "POST", "/cacertificate"),
	one("UpdateCACertificate", "PUT", "/cacertificate/"+certID, res+"cacert/"+certID),
	one("DescribeCACertificate", "GET", "/cacertificate/"+certID, res+"cacert/"+certID),
	one("DeleteCACertificate", "DELETE", "/cacertificate/"+certID, res+"cacert/"+certID),
	star("ListCACertificates", "GET", "/cacertificates"),
	star("ListCertificatesByCA", "GET", "/certificates-by-ca/"+certID),

	one("CreatePolicy", "POST", "/policies/p1", res+"policy/p1"),
	one("GetPolicy", "GET", "/policies/p1", res+"policy/p1"),
	one("DeletePolicy", "DELETE", "/policies/p1", res+"policy/p1"),
	star("ListPolicies", "GET", "/policies"),
	one("CreatePolicyVersion", "POST", "/policies/p1/version", res+"policy/p1"),
	star("ListPolicyVersions", "GET", "/policies/p1/version"),
	one("GetPolicyVersion", "GET", "/policies/p1/version/2", res+"policy/p1"),
	one("SetDefaultPolicyVersion", "PATCH", "/policies/p1/version/2", res+"policy/p1"),
	one("DeletePolicyVersion", "DELETE", "/policies/p1/version/2", res+"policy/p1"),
	withBody("AttachPolicy", "PUT", "/target-policies/p1", `{"target":"`+res+`cert/`+certID+`"}`, res+"cert/"+certID),
	withBody("DetachPolicy", "POST", "/target-policies/p1", `{"target":"`+res+`thinggroup/g1"}`, res+"thinggroup/g1"),
	star("ListAttachedPolicies", "POST", "/attached-policies/x"),
	one("ListTargetsForPolicy", "POST", "/policy-targets/p1", res+"policy/p1"),
	{op: "AttachPrincipalPolicy", method: "PUT", path: "/principal-policies/p1",
		header: http.Header{"X-Amzn-Iot-Principal": {res + "cert/" + certID}}, want: []string{res + "cert/" + certID}},
	{op: "DetachPrincipalPolicy", method: "DELETE", path: "/principal-policies/p1",
		header: http.Header{"X-Amzn-Iot-Principal": {res + "cert/" + certID}}, want: []string{res + "cert/" + certID}},
	star("ListPrincipalPolicies", "GET", "/principal-policies"),
	star("ListPolicyPrincipals", "GET", "/policy-principals"),
	withBody("TestAuthorization", "POST", "/test-authorization", `{"principal":"`+res+`cert/`+certID+`","authInfos":[]}`, res+"cert/"+certID),
	withBody("GetEffectivePolicies", "POST", "/effective-policies", `{"principal":"`+certID+`"}`, res+"cert/"+certID),

	one("CreateThingType", "POST", "/thing-types/t1", res+"thingtype/t1"),
	one("DescribeThingType", "GET", "/thing-types/t1", res+"thingtype/t1"),
	one("UpdateThingType", "PATCH", "/thing-types/t1", res+"thingtype/t1"),
	one("DeleteThingType", "DELETE", "/thing-types/t1", res+"thingtype/t1"),
	one("DeprecateThingType", "POST", "/thing-types/t1/deprecate", res+"thingtype/t1"),
	star("ListThingTypes", "GET", "/thing-types"),

	one("CreateThingGroup", "POST", "/thing-groups/g1", res+"thinggroup/g1"),
	one("DescribeThingGroup", "GET", "/thing-groups/g1", res+"thinggroup/g1"),
	one("UpdateThingGroup", "PATCH", "/thing-groups/g1", res+"thinggroup/g1"),
	one("DeleteThingGroup", "DELETE", "/thing-groups/g1", res+"thinggroup/g1"),
	star("ListThingGroups", "GET", "/thing-groups"),
	withBody("AddThingToThingGroup", "PUT", "/thing-groups/addThingToThingGroup", `{"thingGroupName":"g1","thingName":"lamp-1"}`,
		res+"thing/lamp-1", res+"thinggroup/g1"),
	withBody("RemoveThingFromThingGroup", "PUT", "/thing-groups/removeThingFromThingGroup", `{"thingGroupArn":"`+res+`thinggroup/g2","thingArn":"`+res+`thing/lamp-2"}`,
		res+"thing/lamp-2", res+"thinggroup/g2"),
	withBody("UpdateThingGroupsForThing", "PUT", "/thing-groups/updateThingGroupsForThing", `{"thingName":"lamp-1","thingGroupsToAdd":["g1"],"thingGroupsToRemove":["g2"]}`,
		res+"thing/lamp-1", res+"thinggroup/g1", res+"thinggroup/g2"),
	one("ListThingsInThingGroup", "GET", "/thing-groups/g1/things", res+"thinggroup/g1"),
	one("ListThingGroupsForThing", "GET", "/things/lamp-1/thing-groups", res+"thing/lamp-1"),
	one("CreateDynamicThingGroup", "POST", "/dynamic-thing-groups/d1", res+"thinggroup/d1"),
	one("UpdateDynamicThingGroup", "PATCH", "/dynamic-thing-groups/d1", res+"thinggroup/d1"),
	one("DeleteDynamicThingGroup", "DELETE", "/dynamic-thing-groups/d1", res+"thinggroup/d1"),
	withBody("SearchIndex", "POST", "/indices/search", `{"queryString":"thingName:lamp*"}`, res+"index/AWS_Things"),

	withBody("TagResource", "POST", "/tags", `{"resourceArn":"`+res+`thinggroup/g1","tags":[]}`, res+"thinggroup/g1"),
	one("ListTagsForResource", "GET", "/tags?resourceArn="+res+"rule/r1", res+"rule/r1"),
	withBody("UntagResource", "POST", "/untag", `{"resourceArn":"`+res+`thingtype/t1","tagKeys":["k"]}`, res+"thingtype/t1"),

	one("CreateTopicRule", "POST", "/rules/r1", res+"rule/r1"),
	one("GetTopicRule", "GET", "/rules/r1", res+"rule/r1"),
	one("ReplaceTopicRule", "PATCH", "/rules/r1", res+"rule/r1"),
	one("DeleteTopicRule", "DELETE", "/rules/r1", res+"rule/r1"),
	star("ListTopicRules", "GET", "/rules"),
	one("EnableTopicRule", "POST", "/rules/r1/enable", res+"rule/r1"),
	one("DisableTopicRule", "POST", "/rules/r1/disable", res+"rule/r1"),

	one("CreateAuthorizer", "POST", "/authorizer/a1", res+"authorizer/a1"),
	one("DescribeAuthorizer", "GET", "/authorizer/a1", res+"authorizer/a1"),
	one("UpdateAuthorizer", "PUT", "/authorizer/a1", res+"authorizer/a1"),
	one("DeleteAuthorizer", "DELETE", "/authorizer/a1", res+"authorizer/a1"),
	one("TestInvokeAuthorizer", "POST", "/authorizer/a1/test", res+"authorizer/a1"),
	star("ListAuthorizers", "GET", "/authorizers"),
	withBody("SetDefaultAuthorizer", "POST", "/default-authorizer", `{"authorizerName":"a1"}`, res+"authorizer/a1"),
	star("DescribeDefaultAuthorizer", "GET", "/default-authorizer"),
	star("ClearDefaultAuthorizer", "DELETE", "/default-authorizer"),

	one("CreateRoleAlias", "POST", "/role-aliases/ra1", res+"rolealias/ra1"),
	one("DescribeRoleAlias", "GET", "/role-aliases/ra1", res+"rolealias/ra1"),
	one("UpdateRoleAlias", "PUT", "/role-aliases/ra1", res+"rolealias/ra1"),
	one("DeleteRoleAlias", "DELETE", "/role-aliases/ra1", res+"rolealias/ra1"),
	star("ListRoleAliases", "GET", "/role-aliases"),
}

// resourcesOf is what the router authorizes an operation on.
func resourcesOf(op api.Operation, r *api.Request) []string {
	switch {
	case op.Resources != nil:
		if rs := op.Resources(r); len(rs) > 0 {
			return rs
		}
	case op.Resource != nil:
		return []string{op.Resource(r)}
	}
	return []string{"*"}
}

// resourceMux routes requests as the API router does and records, per
// operation, the resources its action would be authorized on.
func resourceMux(ops []api.Operation, got map[string][]string) *http.ServeMux {
	mux := http.NewServeMux()
	for _, op := range ops {
		mux.HandleFunc(op.Method+" "+op.Path, func(w http.ResponseWriter, r *http.Request) {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			got[op.Name] = resourcesOf(op, &api.Request{Request: r, Body: body})
		})
	}
	return mux
}

func newControl() *control.API {
	return &control.API{ARNs: arn.Builder{Region: "us-east-1", Account: "000000000000"}, Rules: stubRules{},
		Authorizers: stubAuthorizers{}, RoleAliases: stubRoleAliases{}}
}

// TestOperations_Resources checks that each operation's IAM action is
// authorized on the resource AWS's service authorization reference names
// for it, read from the path, query, header or body as the handler reads
// it, and that every operation served is in the table.
func TestOperations_Resources(t *testing.T) {
	ops := newControl().Operations()
	got := map[string][]string{}
	mux := resourceMux(ops, got)
	tested := map[string]bool{}
	for _, c := range resourceCases {
		t.Run(c.op, func(t *testing.T) {
			req := httptest.NewRequest(c.method, c.path, strings.NewReader(c.body))
			for k, vs := range c.header {
				req.Header[k] = vs
			}
			if c.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			mux.ServeHTTP(httptest.NewRecorder(), req)
			if !slices.Equal(got[c.op], c.want) {
				t.Fatalf("%s %s: authorized on %q, want %q", c.method, c.path, got[c.op], c.want)
			}
		})
		tested[c.op] = true
	}
	for _, op := range ops {
		if !tested[op.Name] {
			t.Errorf("operation %s has no row in resourceCases", op.Name)
		}
	}
}

// TestOperations_ResourceDecided checks that no operation is left without
// a resource decision: each sets Resource (api.NoResource for actions that
// take none) or Resources.
func TestOperations_ResourceDecided(t *testing.T) {
	for _, op := range newControl().Operations() {
		if op.Resource == nil && op.Resources == nil {
			t.Errorf("operation %s decides no resource: set Resource (api.NoResource if its action takes none)", op.Name)
		}
	}
}

// TestOperations_ResourceMalformed checks that a body the resource cannot
// be read from is authorized on "*" (and refused by the handler), and that
// a target that is no ARN (a Cognito identity id) is "*".
func TestOperations_ResourceMalformed(t *testing.T) {
	ops := newControl().Operations()
	got := map[string][]string{}
	mux := resourceMux(ops, got)
	for _, c := range []resourceCase{
		withBody("AttachPolicy", "PUT", "/target-policies/p1", `{"target":`, "*"),
		withBody("AttachPolicy", "PUT", "/target-policies/p1", `{"target":"us-east-1:0b0e2fa4-4a62-4c48-9f4f-3b1c1f0a3f7e"}`, "*"),
		withBody("AddThingToThingGroup", "PUT", "/thing-groups/addThingToThingGroup", `[1]`, "*"),
		withBody("TagResource", "POST", "/tags", `{"resourceArn":42}`, "*"),
	} {
		req := httptest.NewRequest(c.method, c.path, strings.NewReader(c.body))
		req.Header.Set("Content-Type", "application/json")
		mux.ServeHTTP(httptest.NewRecorder(), req)
		if !slices.Equal(got[c.op], c.want) {
			t.Errorf("%s %s: authorized on %q, want %q", c.op, c.body, got[c.op], c.want)
		}
	}
}
