package cognito

import (
	"errors"
	"strings"

	"github.com/google/uuid"

	"github.com/moat-iot/moat/internal/awsapi"
	"github.com/moat-iot/moat/internal/store"
)

// maxIDLength is the longest pool or identity id (botocore IdentityPoolId,
// IdentityId).
const maxIDLength = 55

// newID returns a fresh pool or identity id: REGION:UUID, as AWS makes
// them.
func newID(region string) string { return region + ":" + uuid.NewString() }

// splitID splits an id of AWS's pattern [\w-]+:[0-9a-f-]+ (at most 55
// characters) into its region and its id part; ok is false for anything
// else.
func splitID(s string) (region, rest string, ok bool) {
	if len(s) == 0 || len(s) > maxIDLength {
		return "", "", false
	}
	region, rest, ok = strings.Cut(s, ":")
	if !ok || region == "" || rest == "" {
		return "", "", false
	}
	for _, r := range region {
		if !word(r) && r != '-' {
			return "", "", false
		}
	}
	for _, r := range rest {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r == '-') {
			return "", "", false
		}
	}
	return region, rest, true
}

// word reports whether r is in Java's \w (the botocore patterns' class).
func word(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_'
}

// checkID checks a pool or identity id member: AWS's pattern, then this
// region (an id of another region cannot exist here) and a canonical
// UUID (moat makes no other). Only the pattern is InvalidParameter; the
// rest is not found, since such an id could exist elsewhere.
func (s *Service) checkID(member, id string, notFound func(string) *awsapi.Error) error {
	if id == "" {
		return invalid("%s is required.", member)
	}
	region, rest, ok := splitID(id)
	if !ok {
		return invalid("%s %q must match the pattern [\\w-]+:[0-9a-f-]+ and be at most %d characters long.", member, id, maxIDLength)
	}
	if region != s.opts.Region || !canonicalUUID(rest) {
		return notFound(id)
	}
	return nil
}

func canonicalUUID(s string) bool {
	u, err := uuid.Parse(s)
	return err == nil && u.String() == s
}

// IsIdentityID reports whether target has the shape of a Cognito identity
// id (REGION:UUID, AWS's pattern [\w-]+:[0-9a-f-]+) rather than an ARN.
// AttachPolicy and the legacy AttachPrincipalPolicy take either.
func IsIdentityID(target string) bool {
	_, _, ok := splitID(target)
	return ok
}

// CheckTarget validates a policy attachment target that IsIdentityID
// accepted, inside the attaching transaction: the identity must be one of
// this region's and exist (InvalidRequestException for another region's
// id or a malformed UUID, ResourceNotFoundException for an unknown
// identity, as the iot API words its errors).
func CheckTarget(tx store.Tx, region, target string) error {
	r, rest, ok := splitID(target)
	if !ok {
		return awsapi.Errorf(awsapi.InvalidRequest, "target %q is not a Cognito identity id (REGION:UUID).", target)
	}
	if r != region || !canonicalUUID(rest) {
		return awsapi.Errorf(awsapi.InvalidRequest, "target %q is not a Cognito identity id of region %s.", target, region)
	}
	_, err := tx.Object(KindIdentity, target)
	if errors.Is(err, store.ErrNotFound) {
		return awsapi.Errorf(awsapi.ResourceNotFound, "Cognito identity %s does not exist.", target)
	}
	return err
}
