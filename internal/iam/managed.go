package iam

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/moat-iot/moat/internal/policy"
	"github.com/moat-iot/moat/internal/store"
)

// Policy is a managed policy: a customer managed one, or one of the AWS
// managed policies (AWSManaged; ARN arn:aws:iam::aws:policy/NAME).
type Policy struct {
	Name, ID         string
	Path             string
	ARN              string
	Description      string
	DefaultVersionID string
	AttachmentCount  int
	AWSManaged       bool
	CreatedAt        time.Time
	UpdatedAt        time.Time
	Tags             []Tag
}

// PolicyVersion is one version of a managed policy. Document is the JSON
// text as it was given.
type PolicyVersion struct {
	VersionID string
	Document  string
	IsDefault bool
	CreatedAt time.Time
}

func (s *Service) localPolicy(r *policyRecord, attachments int) Policy {
	return Policy{Name: r.Name, ID: r.ID, Path: r.Path, ARN: s.policyARN(r.Path, r.Name), Description: r.Description,
		DefaultVersionID: r.Default, AttachmentCount: attachments, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, Tags: r.Tags}
}

func (p *awsPolicy) info(attachments int) Policy {
	return Policy{Name: p.name, ID: p.id, Path: "/", ARN: p.arn(), Description: p.description, DefaultVersionID: p.version,
		AttachmentCount: attachments, AWSManaged: true, CreatedAt: p.created, UpdatedAt: p.updated}
}

// localRef is the attachment key prefix of a customer managed policy.
func localRef(name string) string { return "local/" + key(name) }

// policyRef is a resolved policy ARN: exactly one of aws and local is
// set.
type policyRef struct {
	aws   *awsPolicy
	local *policyRecord
}

func (r policyRef) ref() string {
	if r.aws != nil {
		return r.aws.ref()
	}
	return localRef(r.local.Name)
}

// checkPolicyARN validates the PolicyArn member's length.
func checkPolicyARN(arn string) error {
	return checkString("policyArn", arn, 20, 2048, nil)
}

// resolvePolicy finds the policy an ARN names: an AWS managed policy, or
// a customer managed policy of this account whose path and name match.
func (s *Service) resolvePolicy(tx store.Tx, arn string) (policyRef, error) {
	if p, ok := awsPolicyByARN(arn); ok {
		return policyRef{aws: p}, nil
	}
	noSuch := errorf(NoSuchEntity, "Policy %s does not exist or is not attachable.", arn)
	if strings.HasPrefix(arn, AWSPolicyARNPrefix) {
		return policyRef{}, noSuch
	}
	rest, ok := strings.CutPrefix(arn, "arn:aws:iam::")
	account, rest, ok2 := strings.Cut(rest, ":policy/")
	if !ok || !ok2 || !isAccount(account) {
		return policyRef{}, errorf(InvalidInput, "ARN %s is not valid.", clip(arn))
	}
	i := strings.LastIndexByte(rest, '/')
	path, name := "/"+rest[:i+1], rest[i+1:]
	if account != s.cfg.Account || !namePattern.MatchString(name) {
		return policyRef{}, noSuch
	}
	var rec policyRecord
	err := getRecord(tx, kindPolicy, name, &rec)
	if notFound(err) || err == nil && rec.Path != path {
		return policyRef{}, noSuch
	}
	if err != nil {
		return policyRef{}, err
	}
	return policyRef{local: &rec}, nil
}

func isAccount(s string) bool { return len(s) == 12 && strings.Trim(s, "0123456789") == "" }

// CreatePolicyInput is CreatePolicy's request.
type CreatePolicyInput struct {
	PolicyName  string
	Path        string // "" means "/"
	Document    string
	Description string
	Tags        []Tag
}

// CreatePolicy creates a customer managed policy whose version v1 is the
// document (at most MaxManagedSize characters, whitespace excluded).
func (s *Service) CreatePolicy(ctx context.Context, in CreatePolicyInput) (Policy, error) {
	if err := checkName("policyName", in.PolicyName, maxNameLen); err != nil {
		return Policy{}, err
	}
	path, err := checkPolicyPath("path", in.Path)
	if err != nil {
		return Policy{}, err
	}
	if err := checkDescription(in.Description); err != nil {
		return Policy{}, err
	}
	if err := checkTags(in.Tags); err != nil {
		return Policy{}, err
	}
	if err := checkManagedDocument(in.Document); err != nil {
		return Policy{}, err
	}
	var rec policyRecord
	err = s.update(ctx, func(tx store.Tx, now time.Time) ([]Change, error) {
		return nil, policyRecords.create(tx, in.PolicyName, s.cfg.MaxPolicies, now, func(id string) any {
			rec = policyRecord{Name: in.PolicyName, ID: id, Path: path, Description: in.Description, CreatedAt: now, UpdatedAt: now,
				Default: "v1", Next: 2, Versions: []versionRecord{{ID: "v1", Document: in.Document, CreatedAt: now}}, Tags: in.Tags}
			return &rec
		})
	})
	if err != nil {
		return Policy{}, err
	}
	return s.localPolicy(&rec, 0), nil
}

// checkManagedDocument validates a managed policy document.
func checkManagedDocument(doc string) error {
	_, size, err := parseDocument("policyDocument", doc, policy.ModeIdentity)
	if err != nil {
		return err
	}
	if size > MaxManagedSize {
		return errorf(LimitExceeded, "Cannot exceed quota for PolicySize: %d", MaxManagedSize)
	}
	return nil
}

// GetPolicy returns a managed policy with its attachment count.
func (s *Service) GetPolicy(ctx context.Context, arn string) (Policy, error) {
	var p Policy
	err := s.viewPolicy(ctx, arn, nil, func(tx store.Tx, r policyRef) error {
		n, err := attachmentCount(tx, r.ref())
		if err != nil {
			return err
		}
		if r.aws != nil {
			p = r.aws.info(n)
		} else {
			p = s.localPolicy(r.local, n)
		}
		return nil
	})
	return p, err
}

// viewPolicy runs fn on the managed policy arn names in a read
// transaction. Before the store, it validates the ARN, then answers
// refuse if it is not nil (the operation's validation of its other
// members).
func (s *Service) viewPolicy(ctx context.Context, arn string, refuse error, fn func(tx store.Tx, r policyRef) error) error {
	if err := cmp.Or(checkPolicyARN(arn), refuse); err != nil {
		return err
	}
	return s.view(ctx, func(tx store.Tx) error {
		r, err := s.resolvePolicy(tx, arn)
		if err != nil {
			return err
		}
		return fn(tx, r)
	})
}

// updateLocal runs fn on the customer managed policy arn names in a
// store transaction and reports the changes fn returns once it commits;
// refuse is as for viewPolicy. An AWS managed policy is refused as
// UnmodifiableEntity: it cannot be what ("changed", "deleted").
func (s *Service) updateLocal(ctx context.Context, arn, what string, refuse error, fn func(tx store.Tx, now time.Time, rec *policyRecord) ([]Change, error)) error {
	if err := cmp.Or(checkPolicyARN(arn), refuse); err != nil {
		return err
	}
	return s.update(ctx, func(tx store.Tx, now time.Time) ([]Change, error) {
		rec, err := s.resolveLocal(tx, arn, what)
		if err != nil {
			return nil, err
		}
		return fn(tx, now, rec)
	})
}

// saveLocal writes a changed customer managed policy, updated at now.
func saveLocal(tx store.Tx, rec *policyRecord, now time.Time) error {
	rec.UpdatedAt = now
	return putRecord(tx, kindPolicy, rec.Name, rec, now)
}

// resolveLocal resolves an ARN that must name a customer managed policy:
// the AWS managed ones cannot be changed.
func (s *Service) resolveLocal(tx store.Tx, arn, what string) (*policyRecord, error) {
	r, err := s.resolvePolicy(tx, arn)
	if err != nil {
		return nil, err
	}
	if r.aws != nil {
		return nil, errorf(UnmodifiableEntity, "Policy %s is an AWS managed policy; it cannot be %s.", arn, what)
	}
	return r.local, nil
}

// DeletePolicy deletes a customer managed policy that is attached to no
// user or role and has no version besides its default one.
func (s *Service) DeletePolicy(ctx context.Context, arn string) error {
	return s.updateLocal(ctx, arn, "deleted", nil, func(tx store.Tx, _ time.Time, rec *policyRecord) ([]Change, error) {
		n, err := attachmentCount(tx, localRef(rec.Name))
		if err != nil {
			return nil, err
		}
		switch {
		case n > 0:
			return nil, errorf(DeleteConflict, "Cannot delete a policy attached to entities.")
		case len(rec.Versions) > 1:
			return nil, errorf(DeleteConflict, "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.")
		}
		return []Change{{PolicyARN: arn}}, tx.DeleteObject(kindPolicy, key(rec.Name))
	})
}

// Policy scopes of ListPolicies.
const (
	ScopeAll   = "All"
	ScopeAWS   = "AWS"
	ScopeLocal = "Local"
)

// ListPoliciesInput is ListPolicies' request.
type ListPoliciesInput struct {
	Scope        string // ScopeAll (""), ScopeAWS or ScopeLocal
	OnlyAttached bool
	PathPrefix   string // "" means "/"
	Page
}

// ListPolicies lists customer managed policies (in name order) and then
// the AWS managed ones, as Scope selects, keeping those whose path starts
// with PathPrefix and, with OnlyAttached, those attached to some user or
// role. The marker is "L" and the store's cursor while customer managed
// policies remain, "A" and an index in the AWS managed ones after.
func (s *Service) ListPolicies(ctx context.Context, in ListPoliciesInput) ([]Policy, string, error) {
	switch in.Scope {
	case "":
		in.Scope = ScopeAll
	case ScopeAll, ScopeAWS, ScopeLocal:
	default:
		return nil, "", constraint("scope", in.Scope, "Member must satisfy enum value set: [All, AWS, Local]")
	}
	prefix, err := checkPolicyPath("pathPrefix", in.PathPrefix)
	if err != nil {
		return nil, "", err
	}
	max, err := checkPage(in.Page)
	if err != nil {
		return nil, "", err
	}
	phase, cursor := byte('L'), ""
	if in.Scope == ScopeAWS {
		phase = 'A'
	}
	if in.Marker != "" {
		phase, cursor = in.Marker[0], in.Marker[1:]
		if phase != 'L' && phase != 'A' || phase == 'L' && in.Scope == ScopeAWS || phase == 'A' && in.Scope == ScopeLocal {
			return nil, "", invalidMarker()
		}
	}
	var out []Policy
	next := ""
	err = s.view(ctx, func(tx store.Tx) error {
		out, next = nil, ""
		if phase == 'L' {
			var err error
			out, next, err = s.listLocal(tx, cursor, max, prefix, in.OnlyAttached)
			if err != nil || next != "" || in.Scope == ScopeLocal {
				if next != "" {
					next = "L" + next
				}
				return err
			}
			cursor = ""
		}
		start := 0
		if cursor != "" {
			n, err := strconv.Atoi(cursor)
			if err != nil || n < 0 || n > len(awsPolicies) {
				return invalidMarker()
			}
			start = n
		}
		for i := start; i < len(awsPolicies); i++ {
			if len(out) >= max {
				next = "A" + strconv.Itoa(i)
				break
			}
			p := awsPolicies[i]
			n, err := attachmentCount(tx, p.ref())
			if err != nil {
				return err
			}
			if in.OnlyAttached && n == 0 || !strings.HasPrefix("/", prefix) {
				continue
			}
			out = append(out, p.info(n))
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return out, next, nil
}

// listLocal lists customer managed policies with their attachment counts.
func (s *Service) listLocal(tx store.Tx, cursor string, max int, prefix string, onlyAttached bool) ([]Policy, string, error) {
	var out []Policy
	var countErr error
	_, next, err := listRecords(tx, kindPolicy, cursor, max, func(r *policyRecord) bool {
		if !strings.HasPrefix(r.Path, prefix) || countErr != nil {
			return false
		}
		n, err := attachmentCount(tx, localRef(r.Name))
		if err != nil {
			countErr = err
			return false
		}
		if onlyAttached && n == 0 {
			return false
		}
		out = append(out, s.localPolicy(r, n))
		return true
	})
	if countErr != nil {
		return nil, "", countErr
	}
	return out, next, err
}

// CreatePolicyVersion adds a version to a customer managed policy, which
// may have at most MaxVersions; setDefault makes it the one in force.
func (s *Service) CreatePolicyVersion(ctx context.Context, arn, doc string, setDefault bool) (PolicyVersion, error) {
	var v versionRecord
	err := s.updateLocal(ctx, arn, "changed", checkManagedDocument(doc), func(tx store.Tx, now time.Time, rec *policyRecord) ([]Change, error) {
		if len(rec.Versions) >= MaxVersions {
			return nil, errorf(LimitExceeded, "A managed policy can have up to %d versions. Before you create a new version, you must delete an existing version.", MaxVersions)
		}
		v = versionRecord{ID: "v" + strconv.Itoa(rec.Next), Document: doc, CreatedAt: now}
		rec.Next++
		rec.Versions = append(rec.Versions, v)
		var changes []Change
		if setDefault {
			rec.Default = v.ID
			changes = []Change{{PolicyARN: arn}}
		}
		return changes, saveLocal(tx, rec, now)
	})
	if err != nil {
		return PolicyVersion{}, err
	}
	return PolicyVersion{VersionID: v.ID, Document: v.Document, IsDefault: setDefault, CreatedAt: v.CreatedAt}, nil
}

func checkVersionID(id string) error {
	return checkString("versionId", id, 1, 128, versionPattern)
}

func noSuchVersion(arn, id string) *Error {
	return errorf(NoSuchEntity, "Policy %s version %s does not exist or is not attachable.", arn, id)
}

// GetPolicyVersion returns one version of a managed policy.
func (s *Service) GetPolicyVersion(ctx context.Context, arn, versionID string) (PolicyVersion, error) {
	var out PolicyVersion
	err := s.viewPolicy(ctx, arn, checkVersionID(versionID), func(_ store.Tx, r policyRef) error {
		versions := r.versions()
		i := slices.IndexFunc(versions, func(v PolicyVersion) bool { return v.VersionID == versionID })
		if i < 0 {
			return noSuchVersion(arn, versionID)
		}
		out = versions[i]
		return nil
	})
	return out, err
}

// versions lists a policy's versions, newest first.
func (r policyRef) versions() []PolicyVersion {
	if r.aws != nil {
		return []PolicyVersion{{VersionID: r.aws.version, Document: r.aws.document, IsDefault: true, CreatedAt: r.aws.updated}}
	}
	out := make([]PolicyVersion, 0, len(r.local.Versions))
	for i := len(r.local.Versions) - 1; i >= 0; i-- {
		v := r.local.Versions[i]
		out = append(out, PolicyVersion{VersionID: v.ID, Document: v.Document, IsDefault: v.ID == r.local.Default, CreatedAt: v.CreatedAt})
	}
	return out
}

// ListPolicyVersions lists a managed policy's versions, newest first.
func (s *Service) ListPolicyVersions(ctx context.Context, arn string, p Page) ([]PolicyVersion, string, error) {
	var versions []PolicyVersion
	err := s.viewPolicy(ctx, arn, nil, func(_ store.Tx, r policyRef) error {
		versions = r.versions()
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return pageSlice(versions, p)
}

// DeletePolicyVersion deletes a version that is not the default one.
func (s *Service) DeletePolicyVersion(ctx context.Context, arn, versionID string) error {
	return s.updateLocal(ctx, arn, "changed", checkVersionID(versionID), func(tx store.Tx, now time.Time, rec *policyRecord) ([]Change, error) {
		i := slices.IndexFunc(rec.Versions, func(v versionRecord) bool { return v.ID == versionID })
		switch {
		case i < 0:
			return nil, noSuchVersion(arn, versionID)
		case rec.Default == versionID:
			return nil, errorf(DeleteConflict, "Cannot delete the default version of a policy.")
		}
		rec.Versions = slices.Delete(rec.Versions, i, i+1)
		return nil, saveLocal(tx, rec, now)
	})
}

// SetDefaultPolicyVersion makes a version the one in force for every
// user and role the policy is attached to.
func (s *Service) SetDefaultPolicyVersion(ctx context.Context, arn, versionID string) error {
	return s.updateLocal(ctx, arn, "changed", checkVersionID(versionID), func(tx store.Tx, now time.Time, rec *policyRecord) ([]Change, error) {
		if _, ok := rec.version(versionID); !ok {
			return nil, noSuchVersion(arn, versionID)
		}
		if rec.Default == versionID {
			return nil, nil
		}
		rec.Default = versionID
		return []Change{{PolicyARN: arn}}, saveLocal(tx, rec, now)
	})
}
