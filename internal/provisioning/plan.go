package provisioning

import "strconv"

// Plan is what a template asks for, resolved with one set of parameters.
// The caller carries it out in this order: create or update the thing
// (Thing), register or update the certificate and set its status
// (Certificate), create missing inline policies and attach every policy to
// the certificate (Policies), attach the certificate to the thing, then
// return DeviceConfiguration to a fleet-provisioning device. A resource the
// template does not declare, or whose Condition is false, is nil / absent.
type Plan struct {
	Thing       *ThingPlan
	Certificate *CertificatePlan
	// Policies are attached in template order. AWS allows "one or more"
	// policy resources, hence a list.
	Policies []PolicyPlan
	// DeviceConfiguration is the resolved DeviceConfiguration section
	// (fleet provisioning), or nil when the template has none.
	DeviceConfiguration map[string]string
}

// Action is an OverrideSettings value: what to do with a property of a
// resource that already exists.
type Action uint8

// The OverrideSettings actions. DoNothing is the zero value and the
// default when a template gives none (moat's choice; AWS does not document
// the default).
const (
	// DoNothing leaves the existing value as it is.
	DoNothing Action = iota
	// Replace overwrites the existing value with the template's.
	Replace
	// Fail makes provisioning fail with ResourceConflictsException (AWS's
	// name) when the existing value differs from the template's.
	Fail
	// Merge adds the template's attributes or group memberships to the
	// existing ones; valid only for AttributePayload and ThingGroups.
	Merge
)

// String returns the action as templates spell it: "DO_NOTHING", ...
func (a Action) String() string {
	switch a {
	case DoNothing:
		return "DO_NOTHING"
	case Replace:
		return "REPLACE"
	case Fail:
		return "FAIL"
	case Merge:
		return "MERGE"
	}
	return "Action(" + strconv.Itoa(int(a)) + ")"
}

// ThingPlan is the thing to create, or to update when a thing of that name
// exists. A property the template omits (empty string, nil slice or map)
// leaves an existing thing's value unchanged whatever its override; a new
// thing simply does not get it.
type ThingPlan struct {
	// LogicalName is the resource's key in the template's Resources.
	LogicalName string
	// ThingName is the thing's name (always set).
	ThingName string
	// ThingTypeName is the thing type, or "" for none.
	ThingTypeName string
	// ThingGroups are the static thing groups to add the thing to, in
	// template order; nil when the template has no ThingGroups.
	ThingGroups []string
	// BillingGroup is the billing group, or "" for none.
	BillingGroup string
	// Attributes is the AttributePayload; nil when the template has none.
	Attributes map[string]string
	// Overrides apply when the thing already exists.
	AttributesOverride, ThingTypeOverride, ThingGroupsOverride Action
}

// CertificatePlan is the certificate the device uses. Exactly one of
// CertificateID, CertificatePEM and CSR is set.
type CertificatePlan struct {
	// LogicalName is the resource's key in the template's Resources.
	LogicalName string
	// CertificateID names an existing certificate; for JITP it is the
	// device certificate (AWS::IoT::Certificate::Id).
	CertificateID string
	// CertificatePEM is a device certificate to register, with
	// CACertificatePEM its signing CA when the template gives it.
	CertificatePEM, CACertificatePEM string
	// CSR is a certificate signing request to sign (bulk registration).
	CSR string
	// Status is "ACTIVE" (the default) or "INACTIVE".
	Status string
	// StatusOverride applies when the certificate existed before this
	// provisioning with another status. For JITP the device certificate
	// was registered PENDING_ACTIVATION by the connect itself, and AWS sets
	// Status whatever the override (the documented JITP template uses
	// DO_NOTHING and the certificate still becomes ACTIVE).
	StatusOverride Action
}

// PolicyPlan is one policy to attach to the certificate.
type PolicyPlan struct {
	// LogicalName is the resource's key in the template's Resources.
	LogicalName string
	// Name is the policy's name. With an inline Document it is the
	// lowercase hex SHA-256 of Document (AWS: "defaults to a hash of the
	// policy document"; the hash AWS uses is not documented).
	Name string
	// Document is the inline policy document, or "" when the template
	// names an existing policy. When set, the caller creates the policy
	// Name with it unless a policy of that name exists, then attaches it;
	// the caller's policy package validates its grammar.
	Document string
}

// MarshalText writes the action as templates spell it, so that a Plan
// encodes readably.
func (a Action) MarshalText() ([]byte, error) { return []byte(a.String()), nil }
