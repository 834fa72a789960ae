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
	return cognitoidentity.NewFromConfig(s.AWSConfig(creds), func(o *cognitoidentity.Options) { o.BaseEndpoint = aws.String(s.URL) })
}

// RootCAFile is the path of the server's trust anchor (DATA/root-ca.pem),
// for clients outside the process (the AWS CLI's --ca-bundle, boto3's
// verify, curl's --cacert).
func (s *Server) RootCAFile() string { return filepath.Join(s.Dir, "root-ca.pem") }
