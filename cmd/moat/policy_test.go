package main

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"

	"github.com/moat-iot/moat/internal/moattest"
)

// TestPolicyExplain runs `moat policy explain` in-process against a real
// server: an allowed publish names the deciding statement and the
// variables; a foreign topic is an implicit deny; an explicit Deny is
// named; a missing thing shows the unresolved variable.
func TestPolicyExplain(t *testing.T) {
	srv := moattest.Start(t)
	dev := srv.NewDevice(t, "lamp-1", srv.DevicePolicy())
	c := srv.IoT()
	ctx := context.Background()
	deny := `{"Version":"2012-10-17","Statement":[{"Sid":"NoSecrets","Effect":"Deny","Action":"iot:Publish","Resource":"arn:aws:iot:us-east-1:000000000000:topic/${iot:ClientId}/secret"}]}`
	if _, err := c.CreatePolicy(ctx, &iot.CreatePolicyInput{PolicyName: aws.String("no-secrets"), PolicyDocument: aws.String(deny)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AttachPolicy(ctx, &iot.AttachPolicyInput{PolicyName: aws.String("no-secrets"), Target: aws.String(dev.CertificateARN)}); err != nil {
		t.Fatal(err)
	}
	loner := srv.NewDevice(t, "", srv.DevicePolicy()) // no thing attached
	base := []string{"policy", "explain", "--data-dir", srv.Dir, "--endpoint-url", srv.URL}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     []string
	}{
		// Allowed: the seed's statement 1, with ${iot:ClientId} resolved.
		{"allowed by thing", []string{"--thing", "lamp-1", "--action", "iot:Publish", "--resource", "topic/lamp-1/state"}, 0, []string{
			"iot:Publish on arn:aws:iot:us-east-1:000000000000:topic/lamp-1/state",
			"decision: ALLOWED",
			"decided by: policy lamp-1-policy version 1, statement 1: Allow",
			`statement:  {"Effect":"Allow","Action":["iot:Publish","iot:Receive"],"Resource":"arn:aws:iot:us-east-1:000000000000:topic/${iot:ClientId}/*"}`,
			`with ${iot:ClientId} = "lamp-1"`,
			`iot:Connection.Thing.ThingName   "lamp-1"`,
		}},
		// Denied: nothing allows another device's topic.
		{"implicit deny by cert", []string{"--cert", dev.CertificateID, "--action", "publish", "--resource", "lamp-2/state"}, exitDenied, []string{
			"topic/lamp-2/state", "decision: IMPLICIT_DENY", "implicit deny: no statement matched",
			"statements for iot:Publish, none of whose resources matched:",
			`lamp-1-policy v1 statement 1: {"Effect":"Allow","Action":["iot:Publish","iot:Receive"],"Resource":"arn:aws:iot:us-east-1:000000000000:topic/${iot:ClientId}/*"}`,
		}},
		// An explicit Deny is named with its Sid.
		{"explicit deny", []string{"--cert", dev.CertificateARN, "--action", "iot:Publish", "--resource", "arn:aws:iot:us-east-1:000000000000:topic/lamp-1/secret"}, exitDenied, []string{
			"decision: EXPLICIT_DENY", `decided by: policy no-secrets version 1, statement 0 (Sid "NoSecrets"): Deny`,
		}},
		// Without a thing, the Connect statement's variable has no value.
		{"unresolved thing", []string{"--cert", loner.CertificateID, "--client-id", "x", "--action", "iot:Connect", "--resource", "client/x"}, exitDenied, []string{
			"decision: IMPLICIT_DENY", "thing (none)", "statement 0: ${iot:Connection.Thing.ThingName}", `iot:Connection.Thing.IsAttached  "false"`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runT(t, append(append([]string{}, base...), tt.args...), nil, nil)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, out, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Fatalf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// TestPolicyExplain_Usage checks usage errors exit 2 with a hint, and
// errors from the server exit 1 with its message.
func TestPolicyExplain_Usage(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     string
	}{
		{"no subcommand", []string{"policy"}, 2, "Usage: moat policy explain"},
		{"help", []string{"policy", "--help"}, 0, ""},
		{"unknown subcommand", []string{"policy", "simulate"}, 2, `unknown subcommand "simulate"`},
		{"neither cert nor thing", []string{"policy", "explain", "--action", "iot:Publish", "--resource", "topic/a"}, 2, "exactly one of --cert and --thing"},
		{"bad action", []string{"policy", "explain", "--thing", "a", "--action", "iot:Delete", "--resource", "topic/a"}, 2, `--action "iot:Delete"`},
		{"no credentials", []string{"policy", "explain", "--thing", "a", "--action", "publish", "--resource", "a", "--data-dir", t.TempDir()}, 1, "admin.credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runT(t, tt.args, nil, nil)
			if code != tt.wantCode || !strings.Contains(errOut, tt.want) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, errOut, tt.wantCode, tt.want)
			}
		})
	}
	srv := moattest.Start(t)
	code, _, errOut := runT(t, []string{"policy", "explain", "--data-dir", srv.Dir, "--endpoint-url", srv.URL, "--thing", "ghost", "--action", "publish", "--resource", "a"}, nil, nil)
	if code != 1 || !strings.Contains(errOut, "ResourceNotFoundException") {
		t.Fatalf("unknown thing: exit %d, stderr %q", code, errOut)
	}
}
