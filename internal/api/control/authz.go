package control

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"strings"

	"github.com/moat-iot/moat/internal/access"
	"github.com/moat-iot/moat/internal/api"
	"github.com/moat-iot/moat/internal/arn"
	"github.com/moat-iot/moat/internal/auth"
	"github.com/moat-iot/moat/internal/awsapi"
	"github.com/moat-iot/moat/internal/cognito"
	"github.com/moat-iot/moat/internal/names"
	"github.com/moat-iot/moat/internal/policy"
)

// Limits of the authorization simulator. The model bounds authInfos
// (1 to 10) and each resource (2,048 characters); the other bounds are
// moat's, stated here because the model gives none.
const (
	maxAuthInfos      = 10
	maxResources      = 100 // per authInfo
	maxResourceLen    = 2048
	maxPolicyNameList = 100 // policyNamesToAdd, policyNamesToSkip
	maxClientIDLen    = 65535
)

// actionTypes maps TestAuthorization's ActionType to IoT actions.
// RETAIN_PUBLISH is a moat extension (AWS's enum has no way to ask about
// iot:RetainPublish).
var actionTypes = map[string]string{
	"CONNECT":        "iot:Connect",
	"PUBLISH":        "iot:Publish",
	"SUBSCRIBE":      "iot:Subscribe",
	"RECEIVE":        "iot:Receive",
	"RETAIN_PUBLISH": "iot:RetainPublish",
}

type authInfo struct {
	ActionType string   `json:"actionType,omitempty"`
	Resources  []string `json:"resources"`
}

type testAuthorizationInput struct {
	Principal             string     `json:"principal"`
	CognitoIdentityPoolID string     `json:"cognitoIdentityPoolId"`
	AuthInfos             []authInfo `json:"authInfos"`
	PolicyNamesToAdd      []string   `json:"policyNamesToAdd"`
	PolicyNamesToSkip     []string   `json:"policyNamesToSkip"`
}

type policyList struct {
	Policies []policyItem `json:"policies"`
}

type authDenied struct {
	ImplicitDeny policyList `json:"implicitDeny"`
	ExplicitDeny policyList `json:"explicitDeny"`
}

type authResult struct {
	AuthInfo             authInfo   `json:"authInfo"`
	Allowed              policyList `json:"allowed"`
	Denied               authDenied `json:"denied"`
	AuthDecision         string     `json:"authDecision"`
	MissingContextValues []string   `json:"missingContextValues"`
	// Explanations is moat's, one per resource: the statement that
	// decided and the variables as resolved. AWS clients ignore it (the
	// SDKs skip members their model does not know).
	Explanations []Explanation `json:"moatExplanations"`
}

// Explanation is the moat-only "why" of one resource's decision, in
// TestAuthorization's moatExplanations (`moat policy explain` reads it).
type Explanation struct {
	Action          string `json:"action"`
	Resource        string `json:"resource"`
	AuthDecision    string `json:"authDecision"`
	PolicyName      string `json:"policyName,omitempty"`
	PolicyVersionID string `json:"policyVersionId,omitempty"`
	// Statement is the 0-based index of the deciding statement; absent for
	// an implicit deny.
	Statement  *int         `json:"statement,omitempty"`
	Sid        string       `json:"sid,omitempty"`
	Variables  []Variable   `json:"variables,omitempty"`
	Unresolved []Unresolved `json:"Unresolved,omitempty"`
}

// Variable is a policy variable as it was resolved.
type Variable struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Unresolved names a statement skipped for a variable without a value.
type Unresolved struct {
	PolicyName      string `json:"policyName"`
	PolicyVersionID string `json:"policyVersionId"`
	Statement       int    `json:"statement"`
	Sid             string `json:"sid,omitempty"`
	Variable        string `json:"Variable"`
}

// SimulationContext is moat's moatContext: what the simulated connection
// was bound to. AWS clients ignore it.
type SimulationContext struct {
	CertificateID     string          `json:"certificateId"`
	IdentityID        string          `json:"identityId,omitempty"`
	CertificateStatus string          `json:"certificateStatus"`
	ClientID          string          `json:"clientId"`
	ThingName         string          `json:"thingName,omitempty"`
	Policies          []PolicyVersion `json:"policies"`
	Variables         []Variable      `json:"variables"`
}

// PolicyVersion names one version of a policy.
type PolicyVersion struct {
	PolicyName      string `json:"policyName"`
	PolicyVersionID string `json:"policyVersionId"`
}

type testAuthorizationOutput struct {
	AuthResults []authResult       `json:"authResults"`
	Context     *SimulationContext `json:"moatContext,omitempty"`
}

// testAuthorization simulates the principal's MQTT authorization as a
// connection with the query's clientId would get it (access.Gate.Simulate:
// the same policies, thing and variables), for each authInfo. With several
// resources in one authInfo, authDecision is EXPLICIT_DENY if any resource
// is explicitly denied, ALLOWED if all are allowed, IMPLICIT_DENY
// otherwise; a policy is listed under explicitDeny if it denies some
// resource, else under allowed if it allows some, else under implicitDeny.
func (a *API) testAuthorization(ctx context.Context, r *api.Request) (any, error) {
	var in testAuthorizationInput
	if err := awsapi.DecodeJSON(r.Request, r.Body, &in); err != nil {
		return nil, err
	}
	clientID := r.URL.Query().Get("clientId")
	if len(clientID) > maxClientIDLen {
		return nil, awsapi.Errorf(awsapi.InvalidRequest, "clientId must be at most %d bytes long.", maxClientIDLen)
	}
	if err := checkAuthInfos(in.AuthInfos); err != nil {
		return nil, err
	}
	for _, l := range []struct {
		member string
		names  []string
	}{{"policyNamesToAdd", in.PolicyNamesToAdd}, {"policyNamesToSkip", in.PolicyNamesToSkip}} {
		if len(l.names) > maxPolicyNameList {
			return nil, awsapi.Errorf(awsapi.InvalidRequest, "%s may name at most %d policies, got %d.", l.member, maxPolicyNameList, len(l.names))
		}
		for _, n := range l.names {
			if err := names.Policy(l.member, n); err != nil {
				return nil, err
			}
		}
	}
	p, status, err := a.certificatePrincipal(ctx, in.Principal, in.CognitoIdentityPoolID)
	if err != nil {
		return nil, err
	}
	gate := &access.Gate{Registry: a.Registry, Policies: a.Policies, ARNs: a.ARNs}
	perms, err := gate.Simulate(ctx, p, clientID, in.PolicyNamesToAdd, in.PolicyNamesToSkip)
	if err != nil {
		return nil, err
	}
	refs := perms.Policies()
	out := testAuthorizationOutput{AuthResults: make([]authResult, 0, len(in.AuthInfos))}
	for _, ai := range in.AuthInfos {
		out.AuthResults = append(out.AuthResults, a.authorize(perms, refs, ai))
	}
	sc := &SimulationContext{CertificateID: p.CertificateID, CertificateStatus: status, ClientID: clientID, IdentityID: identityOf(p),
		ThingName: perms.ThingName(), Policies: make([]PolicyVersion, 0, len(refs))}
	for _, ref := range refs {
		sc.Policies = append(sc.Policies, PolicyVersion{ref.Name, ref.Version})
	}
	for _, v := range perms.Bound() {
		sc.Variables = append(sc.Variables, Variable{v.Name, v.Value})
	}
	out.Context = sc
	return out, nil
}

func checkAuthInfos(infos []authInfo) error {
	if len(infos) == 0 {
		return names.Required("authInfos")
	}
	if len(infos) > maxAuthInfos {
		return awsapi.Errorf(awsapi.InvalidRequest, "authInfos must have 1 to %d members, got %d.", maxAuthInfos, len(infos))
	}
	for i, ai := range infos {
		if ai.ActionType == "" {
			return awsapi.Errorf(awsapi.InvalidRequest, "authInfos[%d].actionType is required.", i)
		}
		if _, ok := actionTypes[ai.ActionType]; !ok {
			return awsapi.Errorf(awsapi.InvalidRequest, "authInfos[%d].actionType must be one of CONNECT, PUBLISH, SUBSCRIBE, RECEIVE, got %q.", i, ai.ActionType)
		}
		if len(ai.Resources) == 0 || len(ai.Resources) > maxResources {
			return awsapi.Errorf(awsapi.InvalidRequest, "authInfos[%d].resources must have 1 to %d members, got %d.", i, maxResources, len(ai.Resources))
		}
		for j, res := range ai.Resources {
			if len(res) > maxResourceLen {
				return awsapi.Errorf(awsapi.InvalidRequest, "authInfos[%d].resources[%d] must be at most %d characters long.", i, j, maxResourceLen)
			}
			if _, err := arn.Parse(res); err != nil {
				return awsapi.Errorf(awsapi.InvalidRequest, "authInfos[%d].resources[%d] must be an ARN such as arn:aws:iot:REGION:ACCOUNT:topic/NAME, got %q.", i, j, res)
			}
		}
	}
	return nil
}

// authorize evaluates one authInfo.
func (a *API) authorize(perms *access.Permissions, refs []access.PolicyRef, ai authInfo) authResult {
	action := actionTypes[ai.ActionType]
	res := authResult{AuthInfo: ai, MissingContextValues: []string{},
		Allowed: policyList{[]policyItem{}}, Denied: authDenied{policyList{[]policyItem{}}, policyList{[]policyItem{}}}}
	perPolicy := make([]policy.Result, len(refs))
	allAllowed, anyExplicit := true, false
	for _, resource := range ai.Resources {
		d := perms.DecideARN(action, resource, true)
		allAllowed = allAllowed && d.Allowed
		anyExplicit = anyExplicit || d.Result == policy.ExplicitDeny
		res.Explanations = append(res.Explanations, explain(action, resource, d))
		for _, u := range d.Unresolved {
			if !contains(res.MissingContextValues, u.Variable) {
				res.MissingContextValues = append(res.MissingContextValues, u.Variable)
			}
		}
		for i, r := range perms.DecideEach(action, resource) {
			// ExplicitDeny > Allowed > ImplicitDeny, matching the enum's
			// order, so the strongest result across resources wins.
			if r > perPolicy[i] {
				perPolicy[i] = r
			}
		}
	}
	switch {
	case anyExplicit:
		res.AuthDecision = policy.ExplicitDeny.String()
	case allAllowed:
		res.AuthDecision = policy.Allowed.String()
	default:
		res.AuthDecision = policy.ImplicitDeny.String()
	}
	for i, ref := range refs {
		item := a.policyItem(ref.Name)
		switch perPolicy[i] {
		case policy.ExplicitDeny:
			res.Denied.ExplicitDeny.Policies = append(res.Denied.ExplicitDeny.Policies, item)
		case policy.Allowed:
			res.Allowed.Policies = append(res.Allowed.Policies, item)
		default:
			res.Denied.ImplicitDeny.Policies = append(res.Denied.ImplicitDeny.Policies, item)
		}
	}
	return res
}

func explain(action, resource string, d policy.Decision) Explanation {
	e := Explanation{Action: action, Resource: resource, AuthDecision: d.Result.String()}
	if d.Result != policy.ImplicitDeny {
		st := d.Statement
		e.PolicyName, e.PolicyVersionID, e.Statement, e.Sid = d.Policy, d.PolicyVersion, &st, d.Sid
	}
	for _, v := range d.Vars {
		e.Variables = append(e.Variables, Variable{v.Name, v.Value})
	}
	for _, u := range d.Unresolved {
		e.Unresolved = append(e.Unresolved, Unresolved{u.Policy, u.PolicyVersion, u.Statement, u.Sid, u.Variable})
	}
	return e
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// certificatePrincipal resolves a TestAuthorization or GetEffectivePolicies
// principal: a certificate ARN of this region and account, as AWS takes
// it, or (a moat convenience) a bare certificate id. Cognito identities are
// not supported yet. It returns the principal and the certificate's status.
func (a *API) certificatePrincipal(ctx context.Context, principal, cognitoPool string) (auth.Principal, string, error) {
	if principal == "" {
		return auth.Principal{}, "", names.Required("principal")
	}
	if cognito.IsIdentityID(principal) {
		// A Cognito identity (AWS's CognitoId principal): the IoT
		// policies attached to its identity id, as an authenticated
		// identity's second layer.
		if !strings.HasPrefix(principal, a.ARNs.Region+":") {
			return auth.Principal{}, "", awsapi.Errorf(awsapi.InvalidRequest, "principal %q is a Cognito identity of another region than %s.", principal, a.ARNs.Region)
		}
		if cognitoPool != "" && !cognito.IsIdentityID(cognitoPool) {
			return auth.Principal{}, "", awsapi.Errorf(awsapi.InvalidRequest, "cognitoIdentityPoolId must be REGION:ID, got %q.", cognitoPool)
		}
		return auth.Principal{Kind: auth.KindRole, Session: &auth.Session{Source: auth.SourceCognito, IdentityID: principal,
			IdentityPoolID: cognitoPool, Authenticated: true}}, "", nil
	}
	id, err := a.certificateID(principal, cognitoPool)
	if err != nil {
		return auth.Principal{}, "", err
	}
	rec, err := a.Certs.Describe(ctx, id)
	if err != nil {
		return auth.Principal{}, "", err
	}
	p := auth.Principal{Kind: auth.KindCertificate, CertificateID: rec.ID, CertificateARN: a.ARNs.Cert(rec.ID)}
	if b, _ := pem.Decode([]byte(rec.PEM)); b != nil {
		// Without a parsed certificate its variables are Unresolved,
		// which the Explanation shows; not a reason to fail.
		p.Certificate, _ = x509.ParseCertificate(b.Bytes)
	}
	return p, rec.Status, nil
}

func (a *API) certificateID(principal, cognitoPool string) (string, error) {
	if cognitoPool != "" {
		return "", awsapi.Errorf(awsapi.InvalidRequest, "With cognitoIdentityPoolId, principal must be a Cognito identity id (REGION:UUID), got %q.", principal)
	}
	if !strings.HasPrefix(principal, "arn:") {
		if names.CertificateID("principal", principal) != nil {
			return "", awsapi.Errorf(awsapi.InvalidRequest, "principal must be a certificate ARN (arn:aws:iot:%s:%s:cert/ID), got %q.", a.ARNs.Region, a.ARNs.Account, principal)
		}
		return strings.ToLower(principal), nil
	}
	id, ok := a.ARNs.Own(principal, "cert")
	if !ok {
		if pa, err := arn.Parse(principal); err == nil && pa.Type() == "cert" {
			return "", awsapi.Errorf(awsapi.ResourceNotFound, "Certificate %s does not exist.", principal)
		}
		return "", awsapi.Errorf(awsapi.InvalidRequest, "principal must be a certificate ARN (arn:aws:iot:%s:%s:cert/ID), got %q.", a.ARNs.Region, a.ARNs.Account, principal)
	}
	if err := names.CertificateID("principal", id); err != nil {
		return "", err
	}
	return id, nil
}

type effectivePolicy struct {
	PolicyName     string `json:"policyName"`
	PolicyArn      string `json:"policyArn"`
	PolicyDocument string `json:"policyDocument"`
}

type getEffectivePoliciesInput struct {
	Principal             string `json:"principal"`
	CognitoIdentityPoolID string `json:"cognitoIdentityPoolId"`
}

type getEffectivePoliciesOutput struct {
	EffectivePolicies []effectivePolicy `json:"effectivePolicies"`
}

// getEffectivePolicies lists the default versions of the policies that
// apply to a certificate (or to a thing group named by its ARN). thingName
// must name an existing thing; it adds the policies of the thing's groups
// and their ancestors.
func (a *API) getEffectivePolicies(ctx context.Context, r *api.Request) (any, error) {
	var in getEffectivePoliciesInput
	if len(r.Body) > 0 {
		if err := awsapi.DecodeJSON(r.Request, r.Body, &in); err != nil {
			return nil, err
		}
	}
	thing := r.URL.Query().Get("thingName")
	if in.Principal == "" && thing == "" {
		return nil, awsapi.Errorf(awsapi.InvalidRequest, "principal or thingName is required.")
	}
	if thing != "" {
		if err := names.Thing("thingName", thing); err != nil {
			return nil, err
		}
		if _, err := a.Registry.DescribeThing(ctx, thing); err != nil {
			return nil, err
		}
	}
	var targets []string
	if in.Principal != "" {
		if _, ok := a.ARNs.Own(in.Principal, "thinggroup"); ok && in.CognitoIdentityPoolID == "" {
			targets = append(targets, in.Principal)
		} else {
			p, _, err := a.certificatePrincipal(ctx, in.Principal, in.CognitoIdentityPoolID)
			if err != nil {
				return nil, err
			}
			if p.Session != nil {
				targets = append(targets, p.Session.IdentityID)
			} else {
				targets = append(targets, p.CertificateARN)
			}
		}
	}
	if thing != "" {
		groups, err := a.Registry.GroupPolicyTargets(ctx, thing)
		if err != nil {
			return nil, err
		}
		targets = append(targets, groups...)
	}
	out := getEffectivePoliciesOutput{EffectivePolicies: []effectivePolicy{}}
	if len(targets) == 0 {
		return out, nil
	}
	compiled, err := a.Policies.Effective(ctx, targets...)
	if err != nil {
		return nil, err
	}
	for _, c := range compiled {
		v, err := a.Policies.GetVersion(ctx, c.Name, c.VersionID)
		if err != nil {
			return nil, err
		}
		out.EffectivePolicies = append(out.EffectivePolicies, effectivePolicy{PolicyName: c.Name, PolicyArn: a.ARNs.Policy(c.Name), PolicyDocument: v.Version.Document})
	}
	return out, nil
}

// identityOf is the Cognito identity id of a simulated principal, or "".
func identityOf(p auth.Principal) string {
	if p.Session != nil {
		return p.Session.IdentityID
	}
	return ""
}
