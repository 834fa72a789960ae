package iamapi

import (
	"time"

	"github.com/moat-iot/moat/internal/awsapi/query"
	"github.com/moat-iot/moat/internal/iam"
)

// XML answer shapes (botocore iam 2010-05-08 and sts 2011-06-15). Member
// names are the model's; lists are <member> elements.

type tagOut struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

func tagsOut(tags []iam.Tag) []tagOut {
	return convert(tags, func(t iam.Tag) tagOut { return tagOut{Key: t.Key, Value: t.Value} })
}

// convert makes the answer's shape of each item: a list of len(in),
// never nil.
func convert[T, U any](in []T, shape func(T) U) []U {
	out := make([]U, len(in))
	for i, v := range in {
		out[i] = shape(v)
	}
	return out
}

type userOut struct {
	Path       string     `xml:"Path"`
	UserName   string     `xml:"UserName"`
	UserID     string     `xml:"UserId"`
	Arn        string     `xml:"Arn"`
	CreateDate query.Time `xml:"CreateDate"`
	Tags       []tagOut   `xml:"Tags>member,omitempty"`
}

func userShape(u iam.User) userOut {
	return userOut{Path: u.Path, UserName: u.Name, UserID: u.ID, Arn: u.ARN, CreateDate: query.Time(u.CreatedAt), Tags: tagsOut(u.Tags)}
}

type userResult struct {
	User userOut `xml:"User"`
}

type listUsersResult struct {
	Users       []userOut `xml:"Users>member"`
	IsTruncated bool      `xml:"IsTruncated"`
	Marker      string    `xml:"Marker,omitempty"`
}

type accessKeyOut struct {
	UserName        string      `xml:"UserName"`
	AccessKeyID     string      `xml:"AccessKeyId"`
	Status          string      `xml:"Status"`
	SecretAccessKey string      `xml:"SecretAccessKey,omitempty"`
	CreateDate      *query.Time `xml:"CreateDate,omitempty"`
}

func accessKeyShape(k iam.AccessKey) accessKeyOut {
	return accessKeyOut{UserName: k.UserName, AccessKeyID: k.ID, Status: k.Status, SecretAccessKey: k.Secret, CreateDate: query.NewTime(k.CreatedAt)}
}

type createAccessKeyResult struct {
	AccessKey accessKeyOut `xml:"AccessKey"`
}

type listAccessKeysResult struct {
	AccessKeyMetadata []accessKeyOut `xml:"AccessKeyMetadata>member"`
	IsTruncated       bool           `xml:"IsTruncated"`
	Marker            string         `xml:"Marker,omitempty"`
}

// inlinePolicyResult is GetUserPolicy's and GetRolePolicy's answer; the
// document is percent-encoded, as IAM returns it.
type inlinePolicyResult struct {
	UserName       string `xml:"UserName,omitempty"`
	RoleName       string `xml:"RoleName,omitempty"`
	PolicyName     string `xml:"PolicyName"`
	PolicyDocument string `xml:"PolicyDocument"`
}

type policyNamesResult struct {
	PolicyNames []string `xml:"PolicyNames>member"`
	IsTruncated bool     `xml:"IsTruncated"`
	Marker      string   `xml:"Marker,omitempty"`
}

type policyOut struct {
	PolicyName                    string      `xml:"PolicyName"`
	PolicyID                      string      `xml:"PolicyId"`
	Arn                           string      `xml:"Arn"`
	Path                          string      `xml:"Path"`
	DefaultVersionID              string      `xml:"DefaultVersionId"`
	AttachmentCount               int         `xml:"AttachmentCount"`
	PermissionsBoundaryUsageCount int         `xml:"PermissionsBoundaryUsageCount"`
	IsAttachable                  bool        `xml:"IsAttachable"`
	Description                   string      `xml:"Description,omitempty"`
	CreateDate                    query.Time  `xml:"CreateDate"`
	UpdateDate                    *query.Time `xml:"UpdateDate,omitempty"`
	Tags                          []tagOut    `xml:"Tags>member,omitempty"`
}

func policyShape(p iam.Policy) policyOut {
	return policyOut{PolicyName: p.Name, PolicyID: p.ID, Arn: p.ARN, Path: p.Path, DefaultVersionID: p.DefaultVersionID,
		AttachmentCount: p.AttachmentCount, IsAttachable: true, Description: p.Description,
		CreateDate: query.Time(p.CreatedAt), UpdateDate: query.NewTime(p.UpdatedAt), Tags: tagsOut(p.Tags)}
}

type policyResult struct {
	Policy policyOut `xml:"Policy"`
}

type listPoliciesResult struct {
	Policies    []policyOut `xml:"Policies>member"`
	IsTruncated bool        `xml:"IsTruncated"`
	Marker      string      `xml:"Marker,omitempty"`
}

type policyVersionOut struct {
	Document         string     `xml:"Document,omitempty"`
	VersionID        string     `xml:"VersionId"`
	IsDefaultVersion bool       `xml:"IsDefaultVersion"`
	CreateDate       query.Time `xml:"CreateDate"`
}

// versionShape writes a version; withDocument adds its percent-encoded
// document (GetPolicyVersion only, as IAM).
func versionShape(v iam.PolicyVersion, withDocument bool) policyVersionOut {
	out := policyVersionOut{VersionID: v.VersionID, IsDefaultVersion: v.IsDefault, CreateDate: query.Time(v.CreatedAt)}
	if withDocument {
		out.Document = escapeDocument(v.Document)
	}
	return out
}

type policyVersionResult struct {
	PolicyVersion policyVersionOut `xml:"PolicyVersion"`
}

type listPolicyVersionsResult struct {
	Versions    []policyVersionOut `xml:"Versions>member"`
	IsTruncated bool               `xml:"IsTruncated"`
	Marker      string             `xml:"Marker,omitempty"`
}

type attachedPolicyOut struct {
	PolicyName string `xml:"PolicyName"`
	PolicyArn  string `xml:"PolicyArn"`
}

type listAttachedResult struct {
	AttachedPolicies []attachedPolicyOut `xml:"AttachedPolicies>member"`
	IsTruncated      bool                `xml:"IsTruncated"`
	Marker           string              `xml:"Marker,omitempty"`
}

type roleOut struct {
	Path                     string     `xml:"Path"`
	RoleName                 string     `xml:"RoleName"`
	RoleID                   string     `xml:"RoleId"`
	Arn                      string     `xml:"Arn"`
	CreateDate               query.Time `xml:"CreateDate"`
	AssumeRolePolicyDocument string     `xml:"AssumeRolePolicyDocument"`
	Description              string     `xml:"Description,omitempty"`
	MaxSessionDuration       int        `xml:"MaxSessionDuration"`
	Tags                     []tagOut   `xml:"Tags>member,omitempty"`
}

func roleShape(r iam.Role) roleOut {
	return roleOut{Path: r.Path, RoleName: r.Name, RoleID: r.ID, Arn: r.ARN, CreateDate: query.Time(r.CreatedAt),
		AssumeRolePolicyDocument: escapeDocument(r.TrustPolicy), Description: r.Description,
		MaxSessionDuration: int(r.MaxSessionDuration / time.Second), Tags: tagsOut(r.Tags)}
}

type roleResult struct {
	Role roleOut `xml:"Role"`
}

type listRolesResult struct {
	Roles       []roleOut `xml:"Roles>member"`
	IsTruncated bool      `xml:"IsTruncated"`
	Marker      string    `xml:"Marker,omitempty"`
}

type callerIdentityResult struct {
	UserID  string `xml:"UserId"`
	Account string `xml:"Account"`
	Arn     string `xml:"Arn"`
}

type credentialsOut struct {
	AccessKeyID     string     `xml:"AccessKeyId"`
	SecretAccessKey string     `xml:"SecretAccessKey"`
	SessionToken    string     `xml:"SessionToken"`
	Expiration      query.Time `xml:"Expiration"`
}

type assumedRoleUserOut struct {
	AssumedRoleID string `xml:"AssumedRoleId"`
	Arn           string `xml:"Arn"`
}

type assumeRoleResult struct {
	Credentials     credentialsOut     `xml:"Credentials"`
	AssumedRoleUser assumedRoleUserOut `xml:"AssumedRoleUser"`
}
