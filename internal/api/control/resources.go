package control

import (
	"strings"

	"github.com/moat-iot/moat/internal/api"
	"github.com/moat-iot/moat/internal/arn"
	"github.com/moat-iot/moat/internal/awsapi"
	"github.com/moat-iot/moat/internal/fleetquery"
	"github.com/moat-iot/moat/internal/names"
)

// The resources of the operations' IAM actions (api.Operation's Resource
// and Resources), as AWS's service authorization reference ("Actions,
// resources, and condition keys for AWS IoT") lists them: an action with
// a resource type is checked on that resource's ARN
// (iot:DescribeThing on arn:aws:iot:REGION:ACCOUNT:thing/NAME), one
// without (iot:ListThings, iot:CreateKeysAndCertificate,
// iot:AttachThingPrincipal, ...) on "*" (api.NoResource).
//
// Each function reads the request as its handler does (the same path
// value, query parameter, header or body member, decoded by the same
// awsapi.DecodeJSON), so that the resource authorized is the one acted
// on. Where the request is too malformed to name a resource, "*" is
// authorized and the handler then refuses the request: a body is decoded
// into the handler's input type or into a struct with a subset of its
// members, so that a body the handler accepts always decodes here too.

// pathARN is the resource named by a path value: arn:...:TYPE/VALUE.
func (a *API) pathARN(typ, param string) func(*api.Request) string {
	return func(r *api.Request) string { return a.ARNs.IoT(typ, r.PathValue(param)) }
}

func (a *API) thingARN() func(*api.Request) string  { return a.pathARN("thing", "thingName") }
func (a *API) certARN() func(*api.Request) string   { return a.pathARN("cert", "certificateId") }
func (a *API) caCertARN() func(*api.Request) string { return a.pathARN("cacert", "caCertificateId") }
func (a *API) policyARN() func(*api.Request) string { return a.pathARN("policy", "policyName") }
func (a *API) thingTypeARN() func(*api.Request) string {
	return a.pathARN("thingtype", "thingTypeName")
}
func (a *API) thingGroupARN() func(*api.Request) string {
	return a.pathARN("thinggroup", "thingGroupName")
}
func (a *API) ruleARN() func(*api.Request) string { return a.pathARN("rule", "ruleName") }

// anyARN is s if it is an ARN, else "*": the resource of an optional
// resource type (a Cognito identity id is a target that is no ARN).
func anyARN(s string) string {
	if _, err := arn.Parse(s); err != nil {
		return "*"
	}
	return s
}

// targetARN is AttachPolicy's and DetachPolicy's target (a certificate or
// thing group ARN).
func (a *API) targetARN(r *api.Request) string {
	var in targetInput
	if awsapi.DecodeJSON(r.Request, r.Body, &in) != nil {
		return "*"
	}
	return anyARN(in.Target)
}

// principalHeaderARN is AttachPrincipalPolicy's and
// DetachPrincipalPolicy's principal (x-amzn-iot-principal): a certificate
// ARN.
func (a *API) principalHeaderARN(r *api.Request) string {
	return anyARN(r.Header.Get(principalHeader))
}

// principalCertARN is the certificate TestAuthorization or
// GetEffectivePolicies is asked about: its ARN, or the ARN of a bare
// certificate id (a moat convenience).
func (a *API) principalCertARN(r *api.Request) string {
	var in struct {
		Principal string `json:"principal"`
	}
	if awsapi.DecodeJSON(r.Request, r.Body, &in) != nil {
		return "*"
	}
	if names.CertificateID("principal", in.Principal) == nil {
		return a.ARNs.Cert(strings.ToLower(in.Principal)) // as certificateID reads it
	}
	return anyARN(in.Principal)
}

// membershipARNs are the thing and the thing group of
// AddThingToThingGroup and RemoveThingFromThingGroup, each named by name
// or ARN, as the registry resolves them.
func (a *API) membershipARNs(r *api.Request) []string {
	var in membershipInput
	if awsapi.DecodeJSON(r.Request, r.Body, &in) != nil {
		return nil
	}
	group, thing := in.ThingGroupArn, in.ThingArn
	if group == "" {
		group = a.ARNs.ThingGroup(in.ThingGroupName)
	}
	if thing == "" {
		thing = a.ARNs.Thing(in.ThingName)
	}
	return []string{thing, group}
}

// groupsForThingARNs are UpdateThingGroupsForThing's thing and the groups
// it joins and leaves.
func (a *API) groupsForThingARNs(r *api.Request) []string {
	var in updateThingGroupsForThingInput
	if awsapi.DecodeJSON(r.Request, r.Body, &in) != nil {
		return nil
	}
	out := []string{a.ARNs.Thing(in.ThingName)}
	for _, g := range append(in.ThingGroupsToAdd, in.ThingGroupsToRemove...) {
		out = append(out, a.ARNs.ThingGroup(g))
	}
	return out
}

// indexARN is SearchIndex's index (AWS_Things by default).
func (a *API) indexARN(r *api.Request) string {
	var in struct {
		IndexName string `json:"indexName"`
	}
	if awsapi.DecodeJSON(r.Request, r.Body, &in) != nil {
		return "*"
	}
	if in.IndexName == "" {
		in.IndexName = fleetquery.ThingsIndexName
	}
	return a.ARNs.IoT("index", in.IndexName)
}

// taggedARN is the resource TagResource and UntagResource name in their
// body.
func (a *API) taggedARN(r *api.Request) string {
	var in struct {
		ResourceArn string `json:"resourceArn"`
	}
	if awsapi.DecodeJSON(r.Request, r.Body, &in) != nil {
		return "*"
	}
	return anyARN(in.ResourceArn)
}

// listedTagsARN is the resource ListTagsForResource names in its query.
func (a *API) listedTagsARN(r *api.Request) string {
	return anyARN(r.URL.Query().Get("resourceArn"))
}
