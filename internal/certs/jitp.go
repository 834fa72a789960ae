package certs

import (
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/moat-iot/moat/internal/names"
	"github.com/moat-iot/moat/internal/pki"
	"github.com/moat-iot/moat/internal/policy"
	"github.com/moat-iot/moat/internal/provisioning"
	"github.com/moat-iot/moat/internal/store"
)

// Just-in-time provisioning (JITP): a registered CA whose registrationConfig
// has a templateBody provisions each unknown device certificate it signed
// on that certificate's first connect. The template runs with the
// certificate's parameters (provisioning.CertificateParameters) and its
// Plan is carried out in the transaction that registers the certificate:
// the thing (created, or updated as its OverrideSettings say), the
// certificate with the template's status, the policies (an inline one is
// created unless a policy of its name exists) attached to the certificate,
// and the certificate attached to the thing. A template that fails creates
// nothing, not even the certificate. As in AWS, the provisioning connect
// itself is refused and the device's next connect uses what it made.

// ErrProvisioning is the family of errors of just-in-time provisioning
// that come from the template or what it names (a missing parameter, a
// thing type that does not exist, a policy document that does not parse,
// an OverrideSettings FAIL that tripped): nothing was created.
var ErrProvisioning = errors.New("just-in-time provisioning failed")

// Limits of the registry and the policy service that JITP applies too
// (internal/registry and internal/policies import this package, so the
// values are repeated here).
const (
	jitpMaxAttributesUntyped = 3
	jitpMaxAttributesTyped   = 50
	jitpMaxPolicies          = 10
	// jitpMaxGroupsPage bounds one listing of a thing's groups.
	jitpMaxGroupsPage = 100
)

// Provisioned describes one run of just-in-time provisioning, as passed to
// Service.OnProvisioned.
type Provisioned struct {
	// CACertificateID is the CA whose template ran.
	CACertificateID string
	// CertificateID is the device certificate.
	CertificateID string
	// Status is the status the template gave it (ACTIVE or INACTIVE).
	Status string
	// ThingName is the thing created or updated, or "" when the template
	// has no thing (or provisioning failed before naming it).
	ThingName string
	// ThingGroups are the static groups the thing was added to.
	ThingGroups []string
	// Policies are the policies attached to the certificate, in template
	// order; CreatedPolicies those of them that the template created.
	Policies, CreatedPolicies []string
	// At is when the certificate was registered.
	At time.Time
}

// jitpTemplate returns the parsed JITP template of a CA, or nil when its
// registrationConfig has no templateBody. A stored template that does not
// parse is an ErrProvisioning error.
func jitpTemplate(ca store.CACertificate) (*provisioning.Template, error) {
	if len(ca.RegistrationConfig) == 0 {
		return nil, nil
	}
	var cfg struct {
		TemplateBody string `json:"templateBody"`
	}
	if err := json.Unmarshal(ca.RegistrationConfig, &cfg); err != nil {
		return nil, fmt.Errorf("%w: registrationConfig of CA %s: %w", ErrProvisioning, ca.ID, err)
	}
	if cfg.TemplateBody == "" {
		return nil, nil
	}
	t, err := provisioning.Parse(cfg.TemplateBody)
	if err != nil {
		return nil, fmt.Errorf("%w: template of CA %s: %w", ErrProvisioning, ca.ID, err)
	}
	return t, nil
}

// provision runs a JITP template for leaf (whose record rec is not yet
// inserted) inside tx and carries out its plan. Any error leaves tx to be
// rolled back.
func (s *Service) provision(tx store.Tx, tmpl *provisioning.Template, leaf *x509.Certificate, rec store.Certificate, out *Provisioned) error {
	plan, err := tmpl.Execute(provisioning.CertificateParameters(leaf, rec.ID))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrProvisioning, err)
	}
	if err := jitpCertificate(plan.Certificate, leaf, &rec); err != nil {
		return err
	}
	out.Status = rec.Status
	if len(plan.Policies) > jitpMaxPolicies {
		return fmt.Errorf("%w: the template attaches %d policies; a certificate can have at most %d", ErrProvisioning, len(plan.Policies), jitpMaxPolicies)
	}
	if plan.Thing != nil {
		out.ThingName = plan.Thing.ThingName
		if out.ThingGroups, err = jitpThing(tx, plan.Thing, rec.CreatedAt); err != nil {
			return err
		}
	}
	if err := tx.InsertCertificate(rec); err != nil {
		return err
	}
	certARN := s.arns.Cert(rec.ID)
	for _, pp := range plan.Policies {
		created, err := jitpPolicy(tx, pp, rec.CreatedAt)
		if err != nil {
			return err
		}
		if created {
			out.CreatedPolicies = append(out.CreatedPolicies, pp.Name)
		}
		if slices.Contains(out.Policies, pp.Name) {
			continue
		}
		if err := tx.AttachPolicy(pp.Name, certARN); err != nil {
			return err
		}
		out.Policies = append(out.Policies, pp.Name)
	}
	if plan.Thing != nil {
		return tx.AttachThingPrincipal(store.ThingPrincipal{ThingName: plan.Thing.ThingName, Principal: certARN,
			Type: "NON_EXCLUSIVE_THING", CreatedAt: rec.CreatedAt})
	}
	return nil
}

// jitpCertificate checks that the template's certificate is the device
// certificate and sets rec's status from it. As in AWS, the status is
// set whatever the StatusOverride: the record is new.
func jitpCertificate(cp *provisioning.CertificatePlan, leaf *x509.Certificate, rec *store.Certificate) error {
	if cp == nil {
		return fmt.Errorf("%w: the template has no AWS::IoT::Certificate resource (CertificateId: {\"Ref\": \"AWS::IoT::Certificate::Id\"})", ErrProvisioning)
	}
	id := cp.CertificateID
	if cp.CertificatePEM != "" {
		c, err := pki.ParseCertificatePEM(cp.CertificatePEM)
		if err != nil {
			return fmt.Errorf("%w: Resources.%s: CertificatePem: %w", ErrProvisioning, cp.LogicalName, err)
		}
		id = pki.CertificateID(c.Raw)
	}
	if id != pki.CertificateID(leaf.Raw) {
		return fmt.Errorf("%w: Resources.%s must be the device certificate (CertificateId: {\"Ref\": \"AWS::IoT::Certificate::Id\"})", ErrProvisioning, cp.LogicalName)
	}
	switch cp.Status {
	case "", Active:
		rec.Status = Active
	case Inactive:
		rec.Status = Inactive
	default:
		return fmt.Errorf("%w: Resources.%s: Status must be ACTIVE or INACTIVE, got %q", ErrProvisioning, cp.LogicalName, cp.Status)
	}
	return nil
}

// jitpThing creates the planned thing, or updates an existing one as its
// overrides say, and adds it to its groups. It returns the groups the
// thing was added to.
func jitpThing(tx store.Tx, tp *provisioning.ThingPlan, now time.Time) ([]string, error) {
	if err := checkThingPlan(tp); err != nil {
		return nil, err
	}
	t, err := tx.Thing(tp.ThingName)
	isNew := errors.Is(err, store.ErrNotFound)
	switch {
	case isNew:
		t = store.Thing{Name: tp.ThingName, ID: uuid.NewString(), Attributes: map[string]string{}, Version: 1, CreatedAt: now, UpdatedAt: now}
		maps.Copy(t.Attributes, nonEmpty(tp.Attributes))
		if tp.ThingTypeName != "" {
			if err := jitpThingType(tx, tp.ThingTypeName); err != nil {
				return nil, err
			}
			t.TypeName = tp.ThingTypeName
		}
	case err != nil:
		return nil, err
	default:
		changed, err := overrideThing(tx, &t, tp)
		if err != nil {
			return nil, err
		}
		if !changed {
			break
		}
		t.Version++
		t.UpdatedAt = now
	}
	limit := jitpMaxAttributesTyped
	if t.TypeName == "" {
		limit = jitpMaxAttributesUntyped
	}
	if len(t.Attributes) > limit {
		return nil, fmt.Errorf("%w: thing %s would have %d attributes; the limit is %d", ErrProvisioning, t.Name, len(t.Attributes), limit)
	}
	if isNew {
		err = tx.InsertThing(t)
	} else {
		err = tx.UpdateThing(t)
	}
	if err != nil {
		return nil, err
	}
	return jitpGroups(tx, tp, isNew)
}

// checkThingPlan checks the names in a thing plan as the registry's API
// would.
func checkThingPlan(tp *provisioning.ThingPlan) error {
	check := func(err error) error {
		if err != nil {
			return fmt.Errorf("%w: Resources.%s: %w", ErrProvisioning, tp.LogicalName, err)
		}
		return nil
	}
	if err := check(names.Thing("ThingName", tp.ThingName)); err != nil {
		return err
	}
	if tp.ThingTypeName != "" {
		if err := check(names.Thing("ThingTypeName", tp.ThingTypeName)); err != nil {
			return err
		}
	}
	for _, g := range tp.ThingGroups {
		if err := check(names.Thing("ThingGroups", g)); err != nil {
			return err
		}
	}
	for k, v := range tp.Attributes {
		if err := check(names.AttributeName("AttributePayload", k)); err != nil {
			return err
		}
		if v != "" {
			if err := check(names.AttributeValue("AttributePayload", v)); err != nil {
				return err
			}
		}
	}
	if tp.BillingGroup != "" {
		return fmt.Errorf("%w: Resources.%s: BillingGroup: billing groups are not supported", ErrProvisioning, tp.LogicalName)
	}
	return nil
}

// overrideThing applies the plan to an existing thing t as the overrides
// say, reporting whether t changed.
func overrideThing(tx store.Tx, t *store.Thing, tp *provisioning.ThingPlan) (bool, error) {
	changed := false
	if tp.ThingTypeName != "" && tp.ThingTypeName != t.TypeName {
		switch tp.ThingTypeOverride {
		case provisioning.Replace:
			if err := jitpThingType(tx, tp.ThingTypeName); err != nil {
				return false, err
			}
			t.TypeName, changed = tp.ThingTypeName, true
		case provisioning.Fail:
			return false, conflict(t.Name, "ThingTypeName")
		}
	}
	if tp.Attributes != nil {
		want := maps.Clone(t.Attributes)
		switch tp.AttributesOverride {
		case provisioning.Replace:
			want = nonEmpty(tp.Attributes)
		case provisioning.Merge:
			if want == nil {
				want = map[string]string{}
			}
			for k, v := range tp.Attributes {
				if v == "" {
					delete(want, k)
				} else {
					want[k] = v
				}
			}
		case provisioning.Fail:
			if !maps.Equal(nonEmpty(tp.Attributes), nonEmpty(t.Attributes)) {
				return false, conflict(t.Name, "AttributePayload")
			}
		}
		if !maps.Equal(want, t.Attributes) {
			t.Attributes, changed = want, true
		}
	}
	return changed, nil
}

// jitpGroups brings the thing's static group memberships in line with the
// plan: a new thing joins every group; an existing one as
// ThingGroupsOverride says. It returns the groups joined.
func jitpGroups(tx store.Tx, tp *provisioning.ThingPlan, isNew bool) ([]string, error) {
	if tp.ThingGroups == nil {
		return nil, nil
	}
	cur, _, err := tx.ThingGroupsOf(tp.ThingName, store.Page{Limit: jitpMaxGroupsPage})
	if err != nil {
		return nil, err
	}
	action := tp.ThingGroupsOverride
	if isNew {
		action = provisioning.Merge
	}
	for _, g := range tp.ThingGroups {
		if _, err := jitpGroup(tx, g); err != nil {
			return nil, err
		}
	}
	var joined []string
	switch action {
	case provisioning.DoNothing:
		return nil, nil
	case provisioning.Fail:
		a, b := slices.Sorted(slices.Values(cur)), slices.Compact(slices.Sorted(slices.Values(tp.ThingGroups)))
		if !slices.Equal(a, b) {
			return nil, conflict(tp.ThingName, "ThingGroups")
		}
		return nil, nil
	case provisioning.Replace:
		for _, g := range cur {
			if slices.Contains(tp.ThingGroups, g) {
				continue
			}
			grp, err := tx.ThingGroup(g)
			if err != nil {
				return nil, err
			}
			if !grp.Dynamic {
				if err := tx.RemoveThingFromGroup(g, tp.ThingName); err != nil {
					return nil, err
				}
			}
		}
	}
	for _, g := range tp.ThingGroups {
		if slices.Contains(cur, g) || slices.Contains(joined, g) {
			continue
		}
		if err := tx.AddThingToGroup(g, tp.ThingName); err != nil {
			return nil, err
		}
		joined = append(joined, g)
	}
	return joined, nil
}

// jitpGroup returns a static thing group that must exist.
func jitpGroup(tx store.Tx, name string) (store.ThingGroup, error) {
	g, err := tx.ThingGroup(name)
	if errors.Is(err, store.ErrNotFound) {
		return g, fmt.Errorf("%w: thing group %s does not exist", ErrProvisioning, name)
	}
	if err == nil && g.Dynamic {
		return g, fmt.Errorf("%w: thing group %s is dynamic; things cannot be added to it", ErrProvisioning, name)
	}
	return g, err
}

// jitpThingType checks that a thing type exists and is not deprecated.
func jitpThingType(tx store.Tx, name string) error {
	tt, err := tx.ThingType(name)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: thing type %s does not exist", ErrProvisioning, name)
	}
	if err != nil {
		return err
	}
	if tt.Deprecated {
		return fmt.Errorf("%w: thing type %s is deprecated", ErrProvisioning, name)
	}
	return nil
}

// jitpPolicy makes sure the planned policy exists: an inline document
// creates it unless a policy of its name exists; a named policy must
// exist. It reports whether it created the policy.
func jitpPolicy(tx store.Tx, pp provisioning.PolicyPlan, now time.Time) (bool, error) {
	if err := names.Policy("PolicyName", pp.Name); err != nil {
		return false, fmt.Errorf("%w: Resources.%s: %w", ErrProvisioning, pp.LogicalName, err)
	}
	_, err := tx.Policy(pp.Name)
	if err == nil || !errors.Is(err, store.ErrNotFound) {
		return false, err
	}
	if pp.Document == "" {
		return false, fmt.Errorf("%w: Resources.%s: policy %s does not exist", ErrProvisioning, pp.LogicalName, pp.Name)
	}
	if _, err := policy.Parse([]byte(pp.Document)); err != nil {
		return false, fmt.Errorf("%w: Resources.%s: PolicyDocument: %w", ErrProvisioning, pp.LogicalName, err)
	}
	p := store.Policy{Name: pp.Name, DefaultVersionID: 1, CreatedAt: now, UpdatedAt: now, GenerationID: newGenerationID()}
	if err := tx.InsertPolicy(p); err != nil {
		return false, err
	}
	return true, tx.InsertPolicyVersion(store.PolicyVersion{PolicyName: pp.Name, VersionID: 1, Document: pp.Document, CreatedAt: now})
}

// conflict is the error of an OverrideSettings FAIL that tripped (AWS's
// ResourceConflictsException).
func conflict(thing, property string) error {
	return fmt.Errorf("%w: thing %s exists with another %s and its override is FAIL", ErrProvisioning, thing, property)
}

// nonEmpty returns the entries of m with a non-empty value (an empty
// attribute value means "no attribute"), or nil when there are none.
func nonEmpty(m map[string]string) map[string]string {
	var out map[string]string
	for k, v := range m {
		if v != "" {
			if out == nil {
				out = map[string]string{}
			}
			out[k] = v
		}
	}
	return out
}
