// Package provisioning implements AWS IoT provisioning templates: the JSON
// language that just-in-time provisioning (JITP, a template on a registered
// CA) and fleet provisioning (CreateProvisioningTemplate, RegisterThing)
// use to describe the thing, certificate and policies a device gets.
//
// The package is pure: no store, no I/O, standard library only. The
// control plane and the connect path call it and carry out the Plan.
//
// # Lifecycle
//
//  1. Parse, when a template is stored (RegisterCACertificate's
//     registrationConfig, CreateProvisioningTemplate). Parse validates the
//     body and returns a *Template or an *Error wrapping ErrSyntax or
//     ErrInvalid whose text (with a path such as
//     "Resources.thing.Properties.ThingName") is safe to return as
//     InvalidRequestException.
//  2. Execute, at provisioning time, with the parameters: for JITP,
//     CertificateParameters(deviceCert, certificateID); for fleet
//     provisioning, the device's parameters. It returns a *Plan, or an
//     *Error wrapping ErrMissingParameter or ErrEvaluation.
//
// # Grammar
//
// Sections: Parameters (Type "String", optional Default), Mappings (two
// levels, literal strings or lists of strings), Conditions, Resources and
// DeviceConfiguration (fleet provisioning: names to string values).
// AWSTemplateFormatVersion, Description and Metadata are accepted and
// ignored; any other section is an error.
//
// Resources: at most one AWS::IoT::Thing (ThingName, AttributePayload,
// ThingTypeName, ThingGroups, BillingGroup), at most one
// AWS::IoT::Certificate (exactly one of CertificateId, CertificatePem with
// optional CACertificatePem, CertificateSigningRequest; Status ACTIVE or
// INACTIVE, default ACTIVE) and any number of AWS::IoT::Policy (exactly one
// of PolicyName and PolicyDocument). Each may carry OverrideSettings (not
// policies) and a Condition naming an entry of Conditions; a resource whose
// condition is false is left out of the Plan. Unknown properties are
// errors.
//
// Intrinsic functions: Ref (a declared parameter, an
// AWS::IoT::Certificate::* parameter, or AWS::NoValue to drop the property
// or list element), Fn::Join, Fn::Select, Fn::Split, Fn::Sub (both forms,
// "${!x}" for a literal "${x}"), Fn::FindInMap, Fn::If; and in Conditions
// Fn::Equals, Fn::And, Fn::Or (2 to 10 operands), Fn::Not and
// {"Condition": name}. The condition functions follow CloudFormation,
// whose grammar AWS IoT's templates borrow; AWS IoT's own documentation
// lists only Ref, Fn::Join, Fn::Select, Fn::Split, Fn::Sub and
// Fn::FindInMap. Ref of a resource, Fn::GetAtt and Fn::Base64 are not
// supported.
//
// # Caveats
//
// Execute evaluates every node of the template at most once and every
// condition once, so its work is linear in the template size and the
// parameter values; MaxBodySize and MaxNesting bound both.
package provisioning
