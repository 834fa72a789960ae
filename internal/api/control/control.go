// Package control serves the AWS IoT control plane (the `iot` REST-JSON
// API, SigV4 signing name "iot") over moat's services. Handlers are thin:
// decode and check the request's shape, call a service, encode the
// response. Paths, members and errors follow the botocore model
// iot/2015-05-28/service-2.json.
package control

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/moat-iot/moat/internal/api"
	"github.com/moat-iot/moat/internal/arn"
	"github.com/moat-iot/moat/internal/awsapi"
	"github.com/moat-iot/moat/internal/certs"
	"github.com/moat-iot/moat/internal/policies"
	"github.com/moat-iot/moat/internal/registry"
	"github.com/moat-iot/moat/internal/store"
)

// Endpoints are this server's addresses, for DescribeEndpoint.
type Endpoints struct {
	Hostname  string // the first configured hostname
	MQTTPort  int
	HTTPSPort int
}

// API is the control plane.
type API struct {
	Registry  *registry.Service
	Certs     *certs.Service
	Policies  *policies.Service
	Rules     RuleService // the topic rule operations; nil: not served (see ruleOperations)
	ARNs      arn.Builder
	Endpoints Endpoints

	// Authorizers serves the custom authorizer operations (an
	// *authorizer.Service); nil: not served (see authorizerOperations).
	Authorizers AuthorizerService
	// RoleAliases serves the role alias operations (a
	// *rolealias.Service); nil: not served.
	RoleAliases RoleAliasService
}

// Operations lists the operations this package serves.
func (a *API) Operations() []api.Operation {
	ops := []api.Operation{
		{Name: "DescribeEndpoint", Method: http.MethodGet, Path: "/endpoint", Handle: a.describeEndpoint, Resource: api.NoResource},

		{Name: "CreateThing", Method: http.MethodPost, Path: "/things/{thingName}", Handle: a.createThing, Resource: a.thingARN()},
		{Name: "DescribeThing", Method: http.MethodGet, Path: "/things/{thingName}", Handle: a.describeThing, Resource: a.thingARN()},
		{Name: "DeleteThing", Method: http.MethodDelete, Path: "/things/{thingName}", Handle: a.deleteThing, Resource: a.thingARN()},
		{Name: "ListThings", Method: http.MethodGet, Path: "/things", Handle: a.listThings, Resource: api.NoResource},
		{Name: "AttachThingPrincipal", Method: http.MethodPut, Path: "/things/{thingName}/principals", Handle: a.attachThingPrincipal, Resource: api.NoResource},
		{Name: "DetachThingPrincipal", Method: http.MethodDelete, Path: "/things/{thingName}/principals", Handle: a.detachThingPrincipal, Resource: api.NoResource},
		{Name: "ListThingPrincipals", Method: http.MethodGet, Path: "/things/{thingName}/principals", Handle: a.listThingPrincipals, Resource: api.NoResource},
		{Name: "ListPrincipalThings", Method: http.MethodGet, Path: "/principals/things", Handle: a.listPrincipalThings, Resource: api.NoResource},

		{Name: "CreateKeysAndCertificate", Method: http.MethodPost, Path: "/keys-and-certificate", Handle: a.createKeysAndCertificate, Resource: api.NoResource},
		{Name: "CreateCertificateFromCsr", Method: http.MethodPost, Path: "/certificates", Handle: a.createCertificateFromCsr, Resource: api.NoResource},
		{Name: "DescribeCertificate", Method: http.MethodGet, Path: "/certificates/{certificateId}", Handle: a.describeCertificate, Resource: a.certARN()},
		{Name: "UpdateCertificate", Method: http.MethodPut, Path: "/certificates/{certificateId}", Handle: a.updateCertificate, Resource: a.certARN()},
		{Name: "DeleteCertificate", Method: http.MethodDelete, Path: "/certificates/{certificateId}", Handle: a.deleteCertificate, Resource: a.certARN()},
		{Name: "ListCertificates", Method: http.MethodGet, Path: "/certificates", Handle: a.listCertificates, Resource: api.NoResource},

		{Name: "CreatePolicy", Method: http.MethodPost, Path: "/policies/{policyName}", Handle: a.createPolicy, Resource: a.policyARN()},
		{Name: "GetPolicy", Method: http.MethodGet, Path: "/policies/{policyName}", Handle: a.getPolicy, Resource: a.policyARN()},
		{Name: "DeletePolicy", Method: http.MethodDelete, Path: "/policies/{policyName}", Handle: a.deletePolicy, Resource: a.policyARN()},
		{Name: "ListPolicies", Method: http.MethodGet, Path: "/policies", Handle: a.listPolicies, Resource: api.NoResource},
		{Name: "CreatePolicyVersion", Method: http.MethodPost, Path: "/policies/{policyName}/version", Handle: a.createPolicyVersion, Resource: a.policyARN()},
		{Name: "ListPolicyVersions", Method: http.MethodGet, Path: "/policies/{policyName}/version", Handle: a.listPolicyVersions, Resource: api.NoResource},
		{Name: "GetPolicyVersion", Method: http.MethodGet, Path: "/policies/{policyName}/version/{policyVersionId}", Handle: a.getPolicyVersion, Resource: a.policyARN()},
		{Name: "SetDefaultPolicyVersion", Method: http.MethodPatch, Path: "/policies/{policyName}/version/{policyVersionId}", Handle: a.setDefaultPolicyVersion, Resource: a.policyARN()},
		{Name: "DeletePolicyVersion", Method: http.MethodDelete, Path: "/policies/{policyName}/version/{policyVersionId}", Handle: a.deletePolicyVersion, Resource: a.policyARN()},
		{Name: "AttachPolicy", Method: http.MethodPut, Path: "/target-policies/{policyName}", Handle: a.attachPolicy, Resource: a.targetARN},
		{Name: "DetachPolicy", Method: http.MethodPost, Path: "/target-policies/{policyName}", Handle: a.detachPolicy, Resource: a.targetARN},
		{Name: "ListAttachedPolicies", Method: http.MethodPost, Path: "/attached-policies/{target}", Handle: a.listAttachedPolicies, Resource: api.NoResource},
		{Name: "ListTargetsForPolicy", Method: http.MethodPost, Path: "/policy-targets/{policyName}", Handle: a.listTargetsForPolicy, Resource: a.policyARN()},

		{Name: "TestAuthorization", Method: http.MethodPost, Path: "/test-authorization", Handle: a.testAuthorization, Resource: a.principalCertARN},
		{Name: "GetEffectivePolicies", Method: http.MethodPost, Path: "/effective-policies", Handle: a.getEffectivePolicies, Resource: a.principalCertARN},
	}
	ops = append(ops, a.thingTypeOperations()...)
	ops = append(ops, a.groupOperations()...)
	ops = append(ops, a.tagOperations()...)
	ops = append(ops, a.certificateExtraOperations()...)
	ops = append(ops, a.caOperations()...)
	ops = append(ops, a.principalPolicyOperations()...)
	ops = append(ops, a.ruleOperations()...)
	ops = append(ops, a.authorizerOperations()...)
	if a.RoleAliases != nil {
		ops = append(ops, RoleAliasOperations(a.RoleAliases)...)
	}
	return ops
}

// epoch is a timestamp as restJson bodies carry it: epoch seconds.
type epoch float64

func toEpoch(t time.Time) epoch {
	if t.IsZero() {
		return 0
	}
	return epoch(float64(t.UnixMilli()) / 1000)
}

// Query helpers: each refuses a malformed value with an
// InvalidRequestException naming the parameter.

func queryInt(r *api.Request, name string, min, max int) (int, bool, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return 0, false, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < min || n > max {
		return 0, false, awsapi.Errorf(awsapi.InvalidRequest, "%s must be a whole number from %d to %d, got %q.", name, min, max, s)
	}
	return n, true, nil
}

func queryBool(r *api.Request, name string) (bool, error) {
	s := r.URL.Query().Get(name)
	switch s {
	case "":
		return false, nil
	case "true", "TRUE", "True":
		return true, nil
	case "false", "FALSE", "False":
		return false, nil
	}
	return false, awsapi.Errorf(awsapi.InvalidRequest, "%s must be true or false, got %q.", name, s)
}

// page reads a marker/pageSize (older operations) or nextToken/maxResults
// pair.
func page(r *api.Request, tokenName, sizeName string) (store.Page, error) {
	n, _, err := queryInt(r, sizeName, 1, 250)
	if err != nil {
		return store.Page{}, err
	}
	return store.Page{After: r.URL.Query().Get(tokenName), Limit: n}, nil
}

func portOf(addr string) int {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(p)
	return n
}

// EndpointsFor builds Endpoints from listen addresses.
func EndpointsFor(hostname, mqttAddr, httpsAddr string) Endpoints {
	return Endpoints{Hostname: hostname, MQTTPort: portOf(mqttAddr), HTTPSPort: portOf(httpsAddr)}
}

type describeEndpointOutput struct {
	EndpointAddress string `json:"endpointAddress"`
}

// describeEndpoint returns the address devices use. For the data endpoints
// (iot:Data, iot:Data-ATS) it is the bare hostname when MQTT listens on the
// standard 8883, as AWS answers, and host:port otherwise; the HTTPS-only
// endpoints (iot:CredentialProvider, iot:Jobs) carry the HTTPS port unless
// it is 443.
func (a *API) describeEndpoint(_ context.Context, r *api.Request) (any, error) {
	host := a.Endpoints.Hostname
	switch t := r.URL.Query().Get("endpointType"); t {
	case "", "iot:Data", "iot:Data-ATS":
		if a.Endpoints.MQTTPort != 8883 && a.Endpoints.MQTTPort != 0 {
			host = net.JoinHostPort(host, strconv.Itoa(a.Endpoints.MQTTPort))
		}
	case "iot:CredentialProvider", "iot:Jobs":
		if a.Endpoints.HTTPSPort != 443 && a.Endpoints.HTTPSPort != 0 {
			host = net.JoinHostPort(host, strconv.Itoa(a.Endpoints.HTTPSPort))
		}
	default:
		return nil, awsapi.Errorf(awsapi.InvalidRequest, "endpointType must be one of iot:Data, iot:Data-ATS, iot:CredentialProvider, iot:Jobs, got %q.", t)
	}
	return describeEndpointOutput{EndpointAddress: host}, nil
}
