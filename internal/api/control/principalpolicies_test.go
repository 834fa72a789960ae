package control_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"

	"github.com/moat-iot/moat/internal/moattest"
)

// TestPrincipalPolicies checks the deprecated principal-policy forms
// against the same attachments as AttachPolicy: attach, both listings
// (with paging and order), detach, and each documented error.
func TestPrincipalPolicies(t *testing.T) {
	srv := moattest.Start(t)
	c := srv.IoT()
	ctx := context.Background()
	kc, err := c.CreateKeysAndCertificate(ctx, &iot.CreateKeysAndCertificateInput{SetAsActive: true})
	if err != nil {
		t.Fatal(err)
	}
	certARN := aws.ToString(kc.CertificateArn)
	for _, n := range []string{"p1", "p2", "p3"} {
		if _, err := c.CreatePolicy(ctx, &iot.CreatePolicyInput{PolicyName: aws.String(n), PolicyDocument: aws.String(seedPolicy)}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.AttachPrincipalPolicy(ctx, &iot.AttachPrincipalPolicyInput{PolicyName: aws.String(n), Principal: aws.String(certARN)}); err != nil {
			t.Fatalf("AttachPrincipalPolicy %s: %v", n, err)
		}
	}
	// Twice is fine.
	if _, err := c.AttachPrincipalPolicy(ctx, &iot.AttachPrincipalPolicyInput{PolicyName: aws.String("p1"), Principal: aws.String(certARN)}); err != nil {
		t.Fatalf("second attach: %v", err)
	}

	// The new API sees the attachments.
	att, err := c.ListAttachedPolicies(ctx, &iot.ListAttachedPoliciesInput{Target: aws.String(certARN)})
	if err != nil || len(att.Policies) != 3 {
		t.Fatalf("ListAttachedPolicies = %+v, %v", att, err)
	}

	// ListPrincipalPolicies, two per page, ascending.
	var got []string
	in := &iot.ListPrincipalPoliciesInput{Principal: aws.String(certARN), PageSize: aws.Int32(2), AscendingOrder: true}
	for {
		out, err := c.ListPrincipalPolicies(ctx, in)
		if err != nil {
			t.Fatalf("ListPrincipalPolicies: %v", err)
		}
		for _, p := range out.Policies {
			got = append(got, aws.ToString(p.PolicyName))
			if aws.ToString(p.PolicyArn) != "arn:aws:iot:us-east-1:000000000000:policy/"+aws.ToString(p.PolicyName) {
				t.Fatalf("policy item %+v", p)
			}
		}
		if out.NextMarker == nil {
			break
		}
		in.Marker = out.NextMarker
	}
	if !slices.Equal(got, []string{"p1", "p2", "p3"}) {
		t.Fatalf("ListPrincipalPolicies ascending = %v", got)
	}
	// Descending (the SDK never sends false, so the raw request does).
	hdr := http.Header{"X-Amzn-Iot-Principal": {certARN}}
	resp, body := srv.Do(t, http.MethodGet, "/principal-policies?isAscendingOrder=false&pageSize=2", nil, "iot", hdr)
	var page struct {
		Policies []struct {
			PolicyName string `json:"policyName"`
		} `json:"policies"`
		NextMarker string `json:"nextMarker"`
	}
	if err := json.Unmarshal(body, &page); err != nil || resp.StatusCode != 200 || len(page.Policies) != 2 ||
		page.Policies[0].PolicyName != "p3" || page.Policies[1].PolicyName != "p2" || page.NextMarker == "" {
		t.Fatalf("descending page 1: %d %s", resp.StatusCode, body)
	}
	resp, body = srv.Do(t, http.MethodGet, "/principal-policies?isAscendingOrder=false&pageSize=2&marker="+page.NextMarker, nil, "iot", hdr)
	page.NextMarker = ""
	if err := json.Unmarshal(body, &page); err != nil || resp.StatusCode != 200 || len(page.Policies) != 1 ||
		page.Policies[0].PolicyName != "p1" || page.NextMarker != "" {
		t.Fatalf("descending page 2: %d %s", resp.StatusCode, body)
	}

	// ListPolicyPrincipals.
	pp, err := c.ListPolicyPrincipals(ctx, &iot.ListPolicyPrincipalsInput{PolicyName: aws.String("p2")})
	if err != nil || !slices.Equal(pp.Principals, []string{certARN}) {
		t.Fatalf("ListPolicyPrincipals = %+v, %v", pp, err)
	}

	// Detach; detaching again succeeds.
	for range 2 {
		if _, err := c.DetachPrincipalPolicy(ctx, &iot.DetachPrincipalPolicyInput{PolicyName: aws.String("p2"), Principal: aws.String(certARN)}); err != nil {
			t.Fatalf("DetachPrincipalPolicy: %v", err)
		}
	}
	pp, err = c.ListPolicyPrincipals(ctx, &iot.ListPolicyPrincipalsInput{PolicyName: aws.String("p2")})
	if err != nil || len(pp.Principals) != 0 {
		t.Fatalf("ListPolicyPrincipals after detach = %+v, %v", pp, err)
	}
	lp, err := c.ListPrincipalPolicies(ctx, &iot.ListPrincipalPoliciesInput{Principal: aws.String(certARN)})
	if err != nil || len(lp.Policies) != 2 || lp.NextMarker != nil {
		t.Fatalf("ListPrincipalPolicies after detach = %+v, %v", lp, err)
	}

	// Errors.
	missingCert := "arn:aws:iot:us-east-1:000000000000:cert/" + strings.Repeat("0", 64)
	_, err = c.AttachPrincipalPolicy(ctx, &iot.AttachPrincipalPolicyInput{PolicyName: aws.String("nope"), Principal: aws.String(certARN)})
	apiErr(t, err, "ResourceNotFoundException", 404)
	_, err = c.AttachPrincipalPolicy(ctx, &iot.AttachPrincipalPolicyInput{PolicyName: aws.String("p1"), Principal: aws.String(missingCert)})
	apiErr(t, err, "ResourceNotFoundException", 404)
	_, err = c.AttachPrincipalPolicy(ctx, &iot.AttachPrincipalPolicyInput{PolicyName: aws.String("p1"), Principal: aws.String("not-an-arn")})
	apiErr(t, err, "InvalidRequestException", 400)
	_, err = c.AttachPrincipalPolicy(ctx, &iot.AttachPrincipalPolicyInput{PolicyName: aws.String("bad name!"), Principal: aws.String(certARN)})
	apiErr(t, err, "InvalidRequestException", 400)
	_, err = c.DetachPrincipalPolicy(ctx, &iot.DetachPrincipalPolicyInput{PolicyName: aws.String("nope"), Principal: aws.String(certARN)})
	apiErr(t, err, "ResourceNotFoundException", 404)
	_, err = c.ListPolicyPrincipals(ctx, &iot.ListPolicyPrincipalsInput{PolicyName: aws.String("nope")})
	apiErr(t, err, "ResourceNotFoundException", 404)
	_, err = c.ListPrincipalPolicies(ctx, &iot.ListPrincipalPoliciesInput{Principal: aws.String(missingCert)})
	apiErr(t, err, "ResourceNotFoundException", 404)
	_, err = c.ListPrincipalPolicies(ctx, &iot.ListPrincipalPoliciesInput{Principal: aws.String(certARN), PageSize: aws.Int32(251)})
	apiErr(t, err, "InvalidRequestException", 400)
	_, err = c.ListPrincipalPolicies(ctx, &iot.ListPrincipalPoliciesInput{Principal: aws.String(certARN), Marker: aws.String("!!")})
	apiErr(t, err, "InvalidRequestException", 400)
	// Missing headers (the SDK would not send these).
	for _, p := range []string{"/principal-policies", "/policy-principals"} {
		resp, body := srv.Do(t, http.MethodGet, p, nil, "iot", nil)
		if resp.StatusCode != 400 || resp.Header.Get("X-Amzn-Errortype") != "InvalidRequestException" {
			t.Fatalf("GET %s without its header: %d %s", p, resp.StatusCode, body)
		}
	}
	resp, body = srv.Do(t, http.MethodPut, "/principal-policies/p1", nil, "iot", nil)
	if resp.StatusCode != 400 || resp.Header.Get("X-Amzn-Errortype") != "InvalidRequestException" {
		t.Fatalf("PUT without the principal header: %d %s", resp.StatusCode, body)
	}
}

// TestPrincipalPolicies_Limit checks the per-target limit applies to
// AttachPrincipalPolicy too (LimitExceededException 410), and the refused
// attach changes nothing.
func TestPrincipalPolicies_Limit(t *testing.T) {
	srv := moattest.Start(t)
	c := srv.IoT()
	ctx := context.Background()
	kc, err := c.CreateKeysAndCertificate(ctx, &iot.CreateKeysAndCertificateInput{})
	if err != nil {
		t.Fatal(err)
	}
	certARN := aws.ToString(kc.CertificateArn)
	for i := range 11 {
		n := fmt.Sprintf("p%02d", i)
		if _, err := c.CreatePolicy(ctx, &iot.CreatePolicyInput{PolicyName: aws.String(n), PolicyDocument: aws.String(seedPolicy)}); err != nil {
			t.Fatal(err)
		}
		_, err := c.AttachPrincipalPolicy(ctx, &iot.AttachPrincipalPolicyInput{PolicyName: aws.String(n), Principal: aws.String(certARN)})
		if i < 10 && err != nil {
			t.Fatalf("attach %s: %v", n, err)
		}
		if i == 10 {
			apiErr(t, err, "LimitExceededException", 410)
		}
	}
	lp, err := c.ListPrincipalPolicies(ctx, &iot.ListPrincipalPoliciesInput{Principal: aws.String(certARN)})
	if err != nil || len(lp.Policies) != 10 {
		t.Fatalf("ListPrincipalPolicies = %d policies, %v", len(lp.Policies), err)
	}
}
