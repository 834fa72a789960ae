package iam

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/moat-iot/moat/internal/policy"
)

// AWSPolicyARNPrefix starts the ARN of every AWS managed policy.
const AWSPolicyARNPrefix = "arn:aws:iam::aws:policy/"

// awsPolicy is an AWS managed policy: built in, attachable to any user or
// role, never changed or deleted through the API.
type awsPolicy struct {
	name, id, description, version string
	created, updated               time.Time
	document                       string
	compiled                       *policy.Compiled
}

func (p *awsPolicy) arn() string { return AWSPolicyARNPrefix + p.name }

// ref is the policy's key prefix among attachments.
func (p *awsPolicy) ref() string { return "aws/" + p.name }

// The AWS managed policies for AWS IoT (reference §12): their actions as
// AWS's managed policy reference lists them, so that a user given one
// here can do what it allows on AWS.
var (
	iotDataActions = []string{
		"iot:Connect", "iot:Publish", "iot:Subscribe", "iot:Receive",
		"iot:GetThingShadow", "iot:UpdateThingShadow", "iot:DeleteThingShadow",
		"iot:ListNamedShadowsForThing",
	}
	iotConfigReadActions = []string{
		"iot:DescribeAuthorizer", "iot:DescribeCACertificate", "iot:DescribeCertificate",
		"iot:DescribeDefaultAuthorizer", "iot:DescribeEndpoint", "iot:DescribeEventConfigurations",
		"iot:DescribeIndex", "iot:DescribeJob", "iot:DescribeJobExecution", "iot:DescribeRoleAlias",
		"iot:DescribeStream", "iot:DescribeThing", "iot:DescribeThingGroup",
		"iot:DescribeThingRegistrationTask", "iot:DescribeThingType",
		"iot:GetEffectivePolicies", "iot:GetIndexingConfiguration", "iot:GetJobDocument",
		"iot:GetLoggingOptions", "iot:GetOTAUpdate", "iot:GetPolicy", "iot:GetPolicyVersion",
		"iot:GetRegistrationCode", "iot:GetTopicRule", "iot:GetV2LoggingOptions",
		"iot:ListAttachedPolicies", "iot:ListAuthorizers", "iot:ListCACertificates",
		"iot:ListCertificates", "iot:ListCertificatesByCA", "iot:ListIndices",
		"iot:ListJobExecutionsForJob", "iot:ListJobExecutionsForThing", "iot:ListJobs",
		"iot:ListOTAUpdates", "iot:ListOutgoingCertificates", "iot:ListPolicies",
		"iot:ListPolicyPrincipals", "iot:ListPolicyVersions", "iot:ListPrincipalPolicies",
		"iot:ListPrincipalThings", "iot:ListRoleAliases", "iot:ListStreams",
		"iot:ListTargetsForPolicy", "iot:ListThingGroups", "iot:ListThingGroupsForThing",
		"iot:ListThingPrincipals", "iot:ListThingRegistrationTaskReports",
		"iot:ListThingRegistrationTasks", "iot:ListThings", "iot:ListThingsInThingGroup",
		"iot:ListThingTypes", "iot:ListTopicRules", "iot:ListV2LoggingLevels",
		"iot:SearchIndex", "iot:TestAuthorization", "iot:TestInvokeAuthorizer",
		"iot:DescribeAccountAuditConfiguration", "iot:DescribeAuditTask", "iot:ListAuditTasks",
		"iot:DescribeScheduledAudit", "iot:ListScheduledAudits", "iot:ListAuditFindings",
		"iot:DescribeSecurityProfile", "iot:ListSecurityProfiles", "iot:ListSecurityProfilesForTarget",
		"iot:ListTargetsForSecurityProfile", "iot:ListActiveViolations", "iot:ListViolationEvents",
		"iot:ValidateSecurityProfileBehaviors",
	}
	iotConfigWriteActions = []string{
		"iot:AcceptCertificateTransfer", "iot:AddThingToThingGroup", "iot:AssociateTargetsWithJob",
		"iot:AttachPolicy", "iot:AttachPrincipalPolicy", "iot:AttachThingPrincipal",
		"iot:CancelCertificateTransfer", "iot:CancelJob", "iot:CancelJobExecution",
		"iot:ClearDefaultAuthorizer", "iot:CreateAuthorizer", "iot:CreateCertificateFromCsr",
		"iot:CreateDynamicThingGroup", "iot:CreateJob", "iot:CreateKeysAndCertificate",
		"iot:CreateOTAUpdate", "iot:CreatePolicy", "iot:CreatePolicyVersion", "iot:CreateRoleAlias",
		"iot:CreateStream", "iot:CreateThing", "iot:CreateThingGroup", "iot:CreateThingType",
		"iot:CreateTopicRule", "iot:DeleteAuthorizer", "iot:DeleteCACertificate",
		"iot:DeleteCertificate", "iot:DeleteDynamicThingGroup", "iot:DeleteJob",
		"iot:DeleteJobExecution", "iot:DeleteOTAUpdate", "iot:DeletePolicy",
		"iot:DeletePolicyVersion", "iot:DeleteRegistrationCode", "iot:DeleteRoleAlias",
		"iot:DeleteStream", "iot:DeleteThing", "iot:DeleteThingGroup", "iot:DeleteThingType",
		"iot:DeleteTopicRule", "iot:DeleteV2LoggingLevel", "iot:DeprecateThingType",
		"iot:DetachPolicy", "iot:DetachPrincipalPolicy", "iot:DetachThingPrincipal",
		"iot:DisableTopicRule", "iot:EnableTopicRule", "iot:ListTagsForResource",
		"iot:RegisterCACertificate", "iot:RegisterCertificate", "iot:RegisterCertificateWithoutCA",
		"iot:RegisterThing", "iot:RejectCertificateTransfer", "iot:RemoveThingFromThingGroup",
		"iot:ReplaceTopicRule", "iot:SetDefaultAuthorizer", "iot:SetDefaultPolicyVersion",
		"iot:SetLoggingOptions", "iot:SetV2LoggingLevel", "iot:SetV2LoggingOptions",
		"iot:StartThingRegistrationTask", "iot:StopThingRegistrationTask", "iot:TagResource",
		"iot:TransferCertificate", "iot:UntagResource", "iot:UpdateAuthorizer",
		"iot:UpdateCACertificate", "iot:UpdateCertificate", "iot:UpdateDynamicThingGroup",
		"iot:UpdateEventConfigurations", "iot:UpdateIndexingConfiguration", "iot:UpdateRoleAlias",
		"iot:UpdateStream", "iot:UpdateThing", "iot:UpdateThingGroup",
		"iot:UpdateThingGroupsForThing", "iot:UpdateThingType",
		"iot:UpdateAccountAuditConfiguration", "iot:DeleteAccountAuditConfiguration",
		"iot:StartOnDemandAuditTask", "iot:CancelAuditTask", "iot:CreateScheduledAudit",
		"iot:UpdateScheduledAudit", "iot:DeleteScheduledAudit", "iot:CreateSecurityProfile",
		"iot:UpdateSecurityProfile", "iot:DeleteSecurityProfile", "iot:AttachSecurityProfile",
		"iot:DetachSecurityProfile",
	}
)

// awsPolicies are the AWS managed policies, by name.
var awsPolicies = []*awsPolicy{
	newAWSPolicy("AWSIoTConfigAccess", "ANPAJWWGD4LM4EMXNRL7I", "v9",
		"This policy gives full access to the AWS IoT configuration actions",
		slices.Concat(iotConfigReadActions, iotConfigWriteActions)),
	newAWSPolicy("AWSIoTConfigReadOnlyAccess", "ANPAJHENEMXGX4XMFOIOI", "v8",
		"This policy gives read only access to the AWS IoT configuration actions",
		iotConfigReadActions),
	newAWSPolicy("AWSIoTDataAccess", "ANPAJM2KI2UJDR24XPS2K", "v2",
		"This policy gives full access to the AWS IoT messaging actions",
		iotDataActions),
	newAWSPolicy("AWSIoTFullAccess", "ANPAJU2FPGG6PQWN72V2G", "v2",
		"This policy gives full access to the AWS IoT configuration and messaging actions",
		[]string{"iot:*", "iotjobsdata:*"}),
}

// newAWSPolicy builds and compiles a built-in policy; a document that
// does not compile is a programming error.
func newAWSPolicy(name, id, version, description string, actions []string) *awsPolicy {
	doc, err := json.MarshalIndent(map[string]any{
		"Version": policy.Version2012,
		"Statement": []map[string]any{{
			"Effect": "Allow", "Action": actions, "Resource": "*",
		}},
	}, "", "  ")
	if err != nil {
		panic(err)
	}
	d, err := policy.ParseOptions{MaxSize: maxDocumentLen, Mode: policy.ModeIdentity}.Parse(doc)
	if err != nil {
		panic(fmt.Sprintf("iam: AWS managed policy %s: %v", name, err))
	}
	p := &awsPolicy{name: name, id: id, version: version, description: description, document: string(doc),
		created: time.Date(2015, 10, 27, 21, 52, 0, 0, time.UTC), updated: time.Date(2019, 9, 27, 20, 52, 0, 0, time.UTC)}
	if p.compiled, err = policy.Compile(p.arn(), version, d); err != nil {
		panic(err)
	}
	return p
}

// awsPolicyByARN finds an AWS managed policy by ARN.
func awsPolicyByARN(arn string) (*awsPolicy, bool) {
	name, ok := strings.CutPrefix(arn, AWSPolicyARNPrefix)
	if !ok {
		return nil, false
	}
	for _, p := range awsPolicies {
		if p.name == name {
			return p, true
		}
	}
	return nil, false
}
