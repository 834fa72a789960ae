package control_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"

	"github.com/moat-iot/moat/internal/moattest"
)

// denySecret explicitly denies publishing to CLIENT/secret.
const denySecret = `{"Version":"2012-10-17","Statement":[
{"Sid":"NoSecrets","Effect":"Deny","Action":"iot:Publish","Resource":"arn:aws:iot:us-east-1:000000000000:topic/${iot:ClientId}/secret"}]}`

func names(ps []types.Policy) []string {
	out := []string{}
	for _, p := range ps {
		out = append(out, aws.ToString(p.PolicyName))
	}
	return out
}

// TestTestAuthorization checks the simulator through the SDK: the seed
// policy allows, an explicit Deny wins, a foreign topic is implicitly
// denied, an unresolved variable is reported, and policyNamesToAdd and
// policyNamesToSkip change what applies.
func TestTestAuthorization(t *testing.T) {
	srv := moattest.Start(t)
	c := srv.IoT()
	ctx := context.Background()
	dev := srv.NewDevice(t, "lamp-1", seedPolicy)
	if _, err := c.CreatePolicy(ctx, &iot.CreatePolicyInput{PolicyName: aws.String("deny-secret"), PolicyDocument: aws.String(denySecret)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AttachPolicy(ctx, &iot.AttachPolicyInput{PolicyName: aws.String("deny-secret"), Target: aws.String(dev.CertificateARN)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreatePolicy(ctx, &iot.CreatePolicyInput{PolicyName: aws.String("retain-all"), PolicyDocument: aws.String(
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Publish","Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	topic := func(s string) string { return "arn:aws:iot:us-east-1:000000000000:topic/" + s }
	tests := []struct {
		name          string
		clientID      string
		principal     string
		action        types.ActionType
		resources     []string
		add, skip     []string
		want          types.AuthDecision
		allowed, expl []string
		implicit      []string
		missing       []string
	}{
		// The seed policy allows the device's own topics.
		{"allowed", "lamp-1", dev.CertificateARN, types.ActionTypePublish, []string{topic("lamp-1/state")}, nil, nil,
			types.AuthDecisionAllowed, []string{"lamp-1-policy"}, nil, []string{"deny-secret"}, nil},
		// Connect as the attached thing, principal given as a bare id.
		{"connect as the thing", "lamp-1", dev.CertificateID, types.ActionTypeConnect, []string{"arn:aws:iot:us-east-1:000000000000:client/lamp-1"}, nil, nil,
			types.AuthDecisionAllowed, []string{"lamp-1-policy"}, nil, []string{"deny-secret"}, nil},
		// A Deny in another policy wins over the seed's Allow.
		{"explicit deny", "lamp-1", dev.CertificateARN, types.ActionTypePublish, []string{topic("lamp-1/secret")}, nil, nil,
			types.AuthDecisionExplicitDeny, []string{"lamp-1-policy"}, []string{"deny-secret"}, nil, nil},
		// Another client's topic matches no statement.
		{"implicit deny", "lamp-1", dev.CertificateARN, types.ActionTypeSubscribe, []string{"arn:aws:iot:us-east-1:000000000000:topicfilter/lamp-2/#"}, nil, nil,
			types.AuthDecisionImplicitDeny, nil, nil, []string{"lamp-1-policy", "deny-secret"}, nil},
		// Without a client id, ${iot:ClientId} is missing.
		{"missing client id", "", dev.CertificateARN, types.ActionTypePublish, []string{topic("lamp-1/state")}, nil, nil,
			types.AuthDecisionImplicitDeny, nil, nil, []string{"lamp-1-policy", "deny-secret"}, []string{"iot:ClientId"}},
		// Connecting under another client id: the thing still resolves (one
		// attached thing), but client/lamp-9 is not client/lamp-1.
		{"connect as another client", "lamp-9", dev.CertificateARN, types.ActionTypeConnect, []string{"arn:aws:iot:us-east-1:000000000000:client/lamp-9"}, nil, nil,
			types.AuthDecisionImplicitDeny, nil, nil, []string{"lamp-1-policy", "deny-secret"}, nil},
		// Skipping the Deny policy lets the seed's Allow through.
		{"skip", "lamp-1", dev.CertificateARN, types.ActionTypePublish, []string{topic("lamp-1/secret")}, nil, []string{"deny-secret"},
			types.AuthDecisionAllowed, []string{"lamp-1-policy"}, nil, nil, nil},
		// An added policy counts as attached.
		{"add", "lamp-1", dev.CertificateARN, types.ActionTypePublish, []string{topic("elsewhere")}, []string{"retain-all"}, nil,
			types.AuthDecisionAllowed, []string{"retain-all"}, nil, []string{"lamp-1-policy", "deny-secret"}, nil},
		// Several resources: one explicit deny makes the whole answer a deny.
		{"several resources", "lamp-1", dev.CertificateARN, types.ActionTypePublish, []string{topic("lamp-1/a"), topic("lamp-1/secret")}, nil, nil,
			types.AuthDecisionExplicitDeny, []string{"lamp-1-policy"}, []string{"deny-secret"}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := c.TestAuthorization(ctx, &iot.TestAuthorizationInput{
				Principal: aws.String(tt.principal), ClientId: aws.String(tt.clientID),
				AuthInfos:        []types.AuthInfo{{ActionType: tt.action, Resources: tt.resources}},
				PolicyNamesToAdd: tt.add, PolicyNamesToSkip: tt.skip,
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.AuthResults) != 1 {
				t.Fatalf("%d results", len(out.AuthResults))
			}
			r := out.AuthResults[0]
			if r.AuthDecision != tt.want {
				t.Fatalf("decision %s, want %s", r.AuthDecision, tt.want)
			}
			if r.AuthInfo == nil || r.AuthInfo.ActionType != tt.action || !slices.Equal(r.AuthInfo.Resources, tt.resources) {
				t.Fatalf("authInfo %+v", r.AuthInfo)
			}
			check := func(what string, got []types.Policy, want []string) {
				t.Helper()
				if want == nil {
					want = []string{}
				}
				g := names(got)
				slices.Sort(g)
				want = slices.Sorted(slices.Values(want))
				if !slices.Equal(g, want) {
					t.Fatalf("%s policies %v, want %v", what, g, want)
				}
			}
			check("allowed", r.Allowed.Policies, tt.allowed)
			check("explicit deny", r.Denied.ExplicitDeny.Policies, tt.expl)
			check("implicit deny", r.Denied.ImplicitDeny.Policies, tt.implicit)
			if tt.missing != nil && !slices.Equal(r.MissingContextValues, tt.missing) {
				t.Fatalf("missingContextValues %v, want %v", r.MissingContextValues, tt.missing)
			}
			if len(r.Allowed.Policies) > 0 && aws.ToString(r.Allowed.Policies[0].PolicyArn) != "arn:aws:iot:us-east-1:000000000000:policy/"+tt.allowed[0] {
				t.Fatalf("policy ARN %s", aws.ToString(r.Allowed.Policies[0].PolicyArn))
			}
		})
	}
}

// TestTestAuthorization_Explanations checks moat's extra members: the
// deciding statement and its variables per resource, and the bound
// context. The SDK ignores them (TestTestAuthorization passes).
func TestTestAuthorization_Explanations(t *testing.T) {
	srv := moattest.Start(t)
	dev := srv.NewDevice(t, "lamp-1", seedPolicy)
	body := `{"principal":"` + dev.CertificateARN + `","authInfos":[{"actionType":"PUBLISH","resources":["arn:aws:iot:us-east-1:000000000000:topic/lamp-1/state","arn:aws:iot:us-east-1:000000000000:topic/x"]}]}`
	resp, b := srv.Do(t, http.MethodPost, "/test-authorization?clientId=lamp-1", []byte(body), "iot", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	var out struct {
		AuthResults []struct {
			MoatExplanations []struct {
				Resource, AuthDecision, PolicyName, PolicyVersionID string
				Statement                                           *int
				Variables                                           []struct{ Name, Value string }
			}
		}
		MoatContext struct {
			CertificateID, CertificateStatus, ClientID, ThingName string
			Variables                                             []struct{ Name, Value string }
		}
	}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	ex := out.AuthResults[0].MoatExplanations
	if len(ex) != 2 {
		t.Fatalf("explanations: %s", b)
	}
	if e := ex[0]; e.AuthDecision != "ALLOWED" || e.PolicyName != "lamp-1-policy" || e.PolicyVersionID != "1" || e.Statement == nil || *e.Statement != 1 ||
		len(e.Variables) != 1 || e.Variables[0].Name != "iot:ClientId" || e.Variables[0].Value != "lamp-1" {
		t.Fatalf("allowed explanation: %s", b)
	}
	if e := ex[1]; e.AuthDecision != "IMPLICIT_DENY" || e.PolicyName != "" || e.Statement != nil {
		t.Fatalf("implicit deny explanation: %s", b)
	}
	if c := out.MoatContext; c.CertificateID != dev.CertificateID || c.CertificateStatus != "ACTIVE" || c.ClientID != "lamp-1" || c.ThingName != "lamp-1" {
		t.Fatalf("context: %s", b)
	}
}

// TestTestAuthorization_BadInput checks malformed requests are refused with
// InvalidRequestException and an unknown certificate with
// ResourceNotFoundException, changing nothing.
func TestTestAuthorization_BadInput(t *testing.T) {
	srv := moattest.Start(t)
	c := srv.IoT()
	ctx := context.Background()
	dev := srv.NewDevice(t, "lamp-1", seedPolicy)
	topic := []string{"arn:aws:iot:us-east-1:000000000000:topic/a"}
	pub := []types.AuthInfo{{ActionType: types.ActionTypePublish, Resources: topic}}
	eleven := make([]types.AuthInfo, 11)
	for i := range eleven {
		eleven[i] = pub[0]
	}
	unknown := "arn:aws:iot:us-east-1:000000000000:cert/" + strings.Repeat("ab", 32)
	tests := []struct {
		name   string
		in     iot.TestAuthorizationInput
		code   string
		status int
	}{
		{"no principal", iot.TestAuthorizationInput{AuthInfos: pub}, "InvalidRequestException", 400},
		{"principal not a certificate", iot.TestAuthorizationInput{Principal: aws.String("arn:aws:iot:us-east-1:000000000000:thing/lamp-1"), AuthInfos: pub}, "InvalidRequestException", 400},
		{"principal garbage", iot.TestAuthorizationInput{Principal: aws.String("lamp-1"), AuthInfos: pub}, "InvalidRequestException", 400},
		{"cognito", iot.TestAuthorizationInput{Principal: aws.String("us-east-1:abc"), CognitoIdentityPoolId: aws.String("us-east-1:pool"), AuthInfos: pub}, "InvalidRequestException", 400},
		{"no authInfos", iot.TestAuthorizationInput{Principal: aws.String(dev.CertificateARN), AuthInfos: []types.AuthInfo{}}, "InvalidRequestException", 400},
		{"eleven authInfos", iot.TestAuthorizationInput{Principal: aws.String(dev.CertificateARN), AuthInfos: eleven}, "InvalidRequestException", 400},
		{"no actionType", iot.TestAuthorizationInput{Principal: aws.String(dev.CertificateARN), AuthInfos: []types.AuthInfo{{Resources: topic}}}, "InvalidRequestException", 400},
		{"bad actionType", iot.TestAuthorizationInput{Principal: aws.String(dev.CertificateARN), AuthInfos: []types.AuthInfo{{ActionType: "DELETE", Resources: topic}}}, "InvalidRequestException", 400},
		{"no resources", iot.TestAuthorizationInput{Principal: aws.String(dev.CertificateARN), AuthInfos: []types.AuthInfo{{ActionType: types.ActionTypePublish, Resources: []string{}}}}, "InvalidRequestException", 400},
		{"resource not an ARN", iot.TestAuthorizationInput{Principal: aws.String(dev.CertificateARN), AuthInfos: []types.AuthInfo{{ActionType: types.ActionTypePublish, Resources: []string{"topic/a"}}}}, "InvalidRequestException", 400},
		{"resource too long", iot.TestAuthorizationInput{Principal: aws.String(dev.CertificateARN), AuthInfos: []types.AuthInfo{{ActionType: types.ActionTypePublish, Resources: []string{topic[0] + strings.Repeat("a", 2048)}}}}, "InvalidRequestException", 400},
		{"bad policy name", iot.TestAuthorizationInput{Principal: aws.String(dev.CertificateARN), AuthInfos: pub, PolicyNamesToAdd: []string{"no spaces"}}, "InvalidRequestException", 400},
		{"unknown added policy", iot.TestAuthorizationInput{Principal: aws.String(dev.CertificateARN), AuthInfos: pub, PolicyNamesToAdd: []string{"nope"}}, "ResourceNotFoundException", 404},
		{"unknown certificate", iot.TestAuthorizationInput{Principal: aws.String(unknown), AuthInfos: pub}, "ResourceNotFoundException", 404},
		{"certificate of another account", iot.TestAuthorizationInput{Principal: aws.String(strings.Replace(dev.CertificateARN, "000000000000", "111111111111", 1)), AuthInfos: pub}, "ResourceNotFoundException", 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.TestAuthorization(ctx, &tt.in)
			apiErr(t, err, tt.code, tt.status)
		})
	}
}

// TestGetEffectivePolicies checks the policies of a certificate come back
// with their default documents, a thing alone has none (no thing groups
// yet), and bad or unknown principals and things are refused.
func TestGetEffectivePolicies(t *testing.T) {
	srv := moattest.Start(t)
	c := srv.IoT()
	ctx := context.Background()
	dev := srv.NewDevice(t, "lamp-1", seedPolicy)
	v2 := strings.Replace(seedPolicy, "topic/${iot:ClientId}/*", "topic/${iot:ClientId}/v2/*", 1)
	if _, err := c.CreatePolicyVersion(ctx, &iot.CreatePolicyVersionInput{PolicyName: aws.String("lamp-1-policy"), PolicyDocument: aws.String(v2), SetAsDefault: true}); err != nil {
		t.Fatal(err)
	}
	for _, principal := range []string{dev.CertificateARN, dev.CertificateID} {
		out, err := c.GetEffectivePolicies(ctx, &iot.GetEffectivePoliciesInput{Principal: aws.String(principal), ThingName: aws.String("lamp-1")})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.EffectivePolicies) != 1 {
			t.Fatalf("%d policies", len(out.EffectivePolicies))
		}
		p := out.EffectivePolicies[0]
		if aws.ToString(p.PolicyName) != "lamp-1-policy" || aws.ToString(p.PolicyArn) != "arn:aws:iot:us-east-1:000000000000:policy/lamp-1-policy" || aws.ToString(p.PolicyDocument) != v2 {
			t.Fatalf("got %+v", p)
		}
	}
	out, err := c.GetEffectivePolicies(ctx, &iot.GetEffectivePoliciesInput{ThingName: aws.String("lamp-1")})
	if err != nil || out.EffectivePolicies == nil || len(out.EffectivePolicies) != 0 {
		t.Fatalf("thing alone, in no group: %+v, %v", out, err)
	}
	// In a child group whose parent has a policy, the thing gets it.
	for _, g := range []struct{ name, parent string }{{"eff-root", ""}, {"eff-child", "eff-root"}} {
		in := &iot.CreateThingGroupInput{ThingGroupName: aws.String(g.name)}
		if g.parent != "" {
			in.ParentGroupName = aws.String(g.parent)
		}
		if _, err := c.CreateThingGroup(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.CreatePolicy(ctx, &iot.CreatePolicyInput{PolicyName: aws.String("group-policy"), PolicyDocument: aws.String(srv.DevicePolicy())}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AttachPolicy(ctx, &iot.AttachPolicyInput{PolicyName: aws.String("group-policy"), Target: aws.String("arn:aws:iot:us-east-1:000000000000:thinggroup/eff-root")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddThingToThingGroup(ctx, &iot.AddThingToThingGroupInput{ThingGroupName: aws.String("eff-child"), ThingName: aws.String("lamp-1")}); err != nil {
		t.Fatal(err)
	}
	out, err = c.GetEffectivePolicies(ctx, &iot.GetEffectivePoliciesInput{ThingName: aws.String("lamp-1")})
	if err != nil || len(out.EffectivePolicies) != 1 || aws.ToString(out.EffectivePolicies[0].PolicyName) != "group-policy" {
		t.Fatalf("thing in a child group: %+v, %v", out, err)
	}
	_, err = c.GetEffectivePolicies(ctx, &iot.GetEffectivePoliciesInput{})
	apiErr(t, err, "InvalidRequestException", 400)
	_, err = c.GetEffectivePolicies(ctx, &iot.GetEffectivePoliciesInput{Principal: aws.String("nope")})
	apiErr(t, err, "InvalidRequestException", 400)
	_, err = c.GetEffectivePolicies(ctx, &iot.GetEffectivePoliciesInput{Principal: aws.String(strings.Repeat("0", 64))})
	apiErr(t, err, "ResourceNotFoundException", 404)
	_, err = c.GetEffectivePolicies(ctx, &iot.GetEffectivePoliciesInput{Principal: aws.String(dev.CertificateARN), ThingName: aws.String("no-such-thing")})
	apiErr(t, err, "ResourceNotFoundException", 404)
}
