package moattest

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// AWSConfig is an aws.Config for the server's region, over an HTTP client
// that trusts its root CA, signing with creds (the admin's when nil), with
// no retries.
func (s *Server) AWSConfig(creds aws.CredentialsProvider) aws.Config {
	if creds == nil {
		creds = s.Credentials()
	}
	return aws.Config{Region: s.Config.Region, Credentials: creds, HTTPClient: s.HTTPClient(), RetryMaxAttempts: 1}
}

// IAM returns an aws-sdk-go-v2 iam client pointed at the server, signing
// with creds (the admin's when nil).
func (s *Server) IAM(creds aws.CredentialsProvider, opts ...func(*iam.Options)) *iam.Client {
	all := append([]func(*iam.Options){func(o *iam.Options) { o.BaseEndpoint = aws.String(s.URL) }}, opts...)
	return iam.NewFromConfig(s.AWSConfig(creds), all...)
}

// STS returns an aws-sdk-go-v2 sts client pointed at the server, signing
// with creds (the admin's when nil).
func (s *Server) STS(creds aws.CredentialsProvider, opts ...func(*sts.Options)) *sts.Client {
	all := append([]func(*sts.Options){func(o *sts.Options) { o.BaseEndpoint = aws.String(s.URL) }}, opts...)
	return sts.NewFromConfig(s.AWSConfig(creds), all...)
}

// IoTAs returns an iot client like IoT, signing with creds.
func (s *Server) IoTAs(creds aws.CredentialsProvider) *iot.Client {
	return s.IoT(func(o *iot.Options) { o.Credentials = creds })
}

// User is an IAM user made through the real iam API, with one access key.
type User struct {
	Name        string
	ARN         string
	AccessKeyID string
	Secret      string
}

// Credentials are the user's long-term credentials.
func (u User) Credentials() aws.Credentials {
	return aws.Credentials{AccessKeyID: u.AccessKeyID, SecretAccessKey: u.Secret, Source: "moattest"}
}

// Provider gives the user's credentials to an SDK client.
func (u User) Provider() aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(u.AccessKeyID, u.Secret, "")
}

// NewUser creates an IAM user with an access key, as the admin, and
// attaches the managed policies policyARNs (e.g.
// "arn:aws:iam::aws:policy/AWSIoTDataAccess") to it.
func (s *Server) NewUser(t testing.TB, name string, policyARNs ...string) User {
	t.Helper()
	ctx := context.Background()
	c := s.IAM(nil)
	out, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)})
	if err != nil {
		t.Fatalf("CreateUser %s: %v", name, err)
	}
	k, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
	if err != nil {
		t.Fatalf("CreateAccessKey %s: %v", name, err)
	}
	for _, p := range policyARNs {
		if _, err := c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String(name), PolicyArn: aws.String(p)}); err != nil {
			t.Fatalf("AttachUserPolicy %s %s: %v", name, p, err)
		}
	}
	return User{Name: name, ARN: aws.ToString(out.User.Arn),
		AccessKeyID: aws.ToString(k.AccessKey.AccessKeyId), Secret: aws.ToString(k.AccessKey.SecretAccessKey)}
}

// NewRole creates an IAM role with the trust policy trustDoc and, when
// permissionsDoc is not empty, the inline policy "permissions", as the
// admin, and returns the role's ARN.
func (s *Server) NewRole(t testing.TB, name, trustDoc, permissionsDoc string) string {
	t.Helper()
	ctx := context.Background()
	c := s.IAM(nil)
	out, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trustDoc)})
	if err != nil {
		t.Fatalf("CreateRole %s: %v", name, err)
	}
	if permissionsDoc != "" {
		if _, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String("permissions"),
			PolicyDocument: aws.String(permissionsDoc)}); err != nil {
			t.Fatalf("PutRolePolicy %s: %v", name, err)
		}
	}
	return aws.ToString(out.Role.Arn)
}
