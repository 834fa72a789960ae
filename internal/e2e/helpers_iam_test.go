package e2e

// Shared helpers for identities and what they may do: policy documents
// (IoT, IAM identity and trust policies, one builder for all), IAM users
// with an inline policy, and STS AssumeRole. IAM roles are made by
// moattest.Server.NewRole, users with managed policies by NewUser.

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	iamsdk "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/moat-iot/moat/internal/moattest"
)

// The AWS managed policies for AWS IoT, by ARN.
const (
	dataAccessARN     = "arn:aws:iam::aws:policy/AWSIoTDataAccess"
	configReadOnlyARN = "arn:aws:iam::aws:policy/AWSIoTConfigReadOnlyAccess"
)

// statement is one statement of a policy document.
type statement struct {
	Effect    string         `json:"Effect"`
	Principal map[string]any `json:"Principal,omitempty"`
	Action    []string       `json:"Action"`
	Resource  []string       `json:"Resource,omitempty"`
	Condition map[string]any `json:"Condition,omitempty"`
}

// allow allows actions on resources.
func allow(actions []string, resources ...string) statement {
	return statement{Effect: "Allow", Action: actions, Resource: resources}
}

// document is a policy document (IoT, IAM identity or trust policy) of
// the statements.
func document(stmts ...statement) string {
	b, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": stmts})
	if err != nil {
		panic(err)
	}
	return string(b)
}

// iotARN is the ARN of an IoT resource of the server's account, e.g.
// iotARN(s, "topic", "app/x").
func iotARN(s *moattest.Server, kind, name string) string {
	return "arn:aws:iot:" + s.Config.Region + ":" + s.Config.AccountID + ":" + kind + "/" + name
}

// allowPubSub allows connecting as clientID (may hold wildcards and
// policy variables) and allowTopics under each topic prefix.
func allowPubSub(s *moattest.Server, clientID string, prefixes ...string) []statement {
	return append([]statement{allow([]string{"iot:Connect"}, iotARN(s, "client", clientID))}, allowTopics(s, prefixes...)...)
}

// allowTopics allows publishing, receiving and subscribing under each
// topic prefix (e.g. "app/guest": the topics app/guest/* and the filters
// app/guest/*).
func allowTopics(s *moattest.Server, prefixes ...string) []statement {
	var topics, filters []string
	for _, p := range prefixes {
		topics = append(topics, iotARN(s, "topic", p+"/*"))
		filters = append(filters, iotARN(s, "topicfilter", p+"/*"))
	}
	return []statement{
		allow([]string{"iot:Publish", "iot:Receive"}, topics...),
		allow([]string{"iot:Subscribe"}, filters...),
	}
}

// trustAWS is a trust policy letting principalARN (a user, or an
// account's root) assume the role.
func trustAWS(principalARN string) string {
	return document(statement{Effect: "Allow", Principal: map[string]any{"AWS": principalARN}, Action: []string{"sts:AssumeRole"}})
}

// trustCognito is a trust policy letting the identities of the Cognito
// identity pool whose authentication (amr) is like amr
// ("authenticated", "unauthenticated") assume the role.
func trustCognito(pool, amr string) string {
	return document(statement{Effect: "Allow", Principal: map[string]any{"Federated": "cognito-identity.amazonaws.com"},
		Action: []string{"sts:AssumeRoleWithWebIdentity"}, Condition: map[string]any{
			"StringEquals":           map[string]string{"cognito-identity.amazonaws.com:aud": pool},
			"ForAnyValue:StringLike": map[string]string{"cognito-identity.amazonaws.com:amr": amr},
		}})
}

// userWithPolicy creates an IAM user with the inline policy "mqtt" (none
// when doc is empty) and an access key, as the admin, and returns the
// key.
func userWithPolicy(t testing.TB, s *moattest.Server, name, doc string) aws.Credentials {
	t.Helper()
	u := s.NewUser(t, name)
	if doc != "" {
		if _, err := s.IAM(nil).PutUserPolicy(context.Background(), &iamsdk.PutUserPolicyInput{UserName: aws.String(name),
			PolicyName: aws.String("mqtt"), PolicyDocument: aws.String(doc)}); err != nil {
			t.Fatalf("PutUserPolicy %s: %v", name, err)
		}
	}
	return u.Credentials()
}

// assumeRole has the caller assume roleARN for 900 s and returns the
// temporary credentials.
func assumeRole(t testing.TB, s *moattest.Server, caller aws.CredentialsProvider, roleARN, session string) aws.Credentials {
	t.Helper()
	out, err := s.STS(caller).AssumeRole(context.Background(), &sts.AssumeRoleInput{RoleArn: aws.String(roleARN),
		RoleSessionName: aws.String(session), DurationSeconds: aws.Int32(900)})
	if err != nil {
		t.Fatalf("AssumeRole %s: %v", roleARN, err)
	}
	c := out.Credentials
	return aws.Credentials{AccessKeyID: aws.ToString(c.AccessKeyId), SecretAccessKey: aws.ToString(c.SecretAccessKey),
		SessionToken: aws.ToString(c.SessionToken), CanExpire: true, Expires: aws.ToTime(c.Expiration)}
}
