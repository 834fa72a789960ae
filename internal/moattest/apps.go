package moattest

import (
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
)

// CognitoIdentity returns an aws-sdk-go-v2 cognito-identity client pointed
// at the server, signing with creds: the admin's when nil, none with
// aws.AnonymousCredentials{} (GetId, GetCredentialsForIdentity and
// GetOpenIdToken are unsigned, as an app calls them).
func (s *Server) CognitoIdentity(creds aws.CredentialsProvider) *cognitoidentity.Client {
	if creds == nil {
		creds = s.Credentials()
	}
	cfg := aws.Config{Region: s.Config.Region, Credentials: creds, HTTPClient: s.HTTPClient()}
	return cognitoidentity.NewFromConfig(cfg, func(o *cognitoidentity.Options) {
		o.BaseEndpoint = aws.String(s.URL)
		o.RetryMaxAttempts = 1
	})
}

// RootCAFile is the path of the server's trust anchor (DATA/root-ca.pem),
// for clients outside the process (the AWS CLI's --ca-bundle, boto3's
// verify, curl's --cacert).
func (s *Server) RootCAFile() string { return filepath.Join(s.Dir, "root-ca.pem") }
