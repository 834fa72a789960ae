// Package tags keeps the tags (key/value metadata) of AWS IoT resources, by
// ARN: TagResource, UntagResource, ListTagsForResource, and the tags the
// Create calls take (CreateThingType, CreatePolicy, CreateThingGroup, ...).
//
// The model: tags live in the store next to the resource, keyed by its ARN.
// A resource is taggable when AWS IoT lets it be tagged and it exists now;
// Resolve decides both. Things and device certificates are not taggable in
// AWS IoT (TagResource refuses them), so they are not here either. Types that
// AWS tags but moat does not have yet (jobs, billing groups, ...) resolve to
// ResourceNotFoundException, since none can exist.
//
// Every limit is AWS's: at most MaxPerResource tags per resource, keys of
// 1 to MaxKeyLength characters from [\p{L}\p{Z}\p{N}_.:/=+\-@], values of at
// most MaxValueLength characters, and no key starting "aws:" (reserved for
// AWS). Writers call Check before any write and Put or Delete inside their
// own transaction, so a resource and its tags change together.
package tags

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/moat-iot/moat/internal/arn"
	"github.com/moat-iot/moat/internal/awsapi"
	"github.com/moat-iot/moat/internal/names"
	"github.com/moat-iot/moat/internal/store"
)

// Limits (AWS "Tagging your AWS IoT resources" and the botocore shapes
// TagKey and TagValue).
const (
	// MaxPerResource is how many tags one resource may have.
	MaxPerResource = 50
	// MaxKeyLength is the longest tag key, in characters.
	MaxKeyLength = 128
	// MaxValueLength is the longest tag value, in characters.
	MaxValueLength = 256
	// reservedPrefix starts keys that only AWS may use (any case).
	reservedPrefix = "aws:"
)

// Tag is one key/value pair, as the API carries it.
type Tag struct {
	Key   string
	Value string
}

// Taggable resource types (the resource part of an IoT ARN before '/').
var taggable = map[string]bool{
	"thingtype":  true,
	"thinggroup": true,
	"policy":     true,
	"rule":       true,
	"cacert":     true,
	"authorizer": true,
	"rolealias":  true,
	// Taggable in AWS, not (yet) resources of moat: always not found.
	"job": true, "jobtemplate": true,
	"billinggroup": true, "provisioningtemplate": true,
	"domainconfiguration": true, "securityprofile": true, "otaupdate": true, "stream": true,
}

func keyAllowed(r rune) bool {
	return unicode.IsLetter(r) || unicode.In(r, unicode.Z) || unicode.IsNumber(r) ||
		strings.ContainsRune("_.:/=+-@", r)
}

// CheckKey checks one tag key; member names it in the error.
func CheckKey(member, k string) error {
	n := utf8.RuneCountInString(k)
	if n < 1 || n > MaxKeyLength || !utf8.ValidString(k) {
		return awsapi.Errorf(awsapi.InvalidRequest, "%s must be 1 to %d characters long, got %d.", member, MaxKeyLength, n)
	}
	for _, r := range k {
		if !keyAllowed(r) {
			return awsapi.Errorf(awsapi.InvalidRequest, `%s %q must match the pattern ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$.`, member, k)
		}
	}
	if len(k) >= len(reservedPrefix) && strings.EqualFold(k[:len(reservedPrefix)], reservedPrefix) {
		return awsapi.Errorf(awsapi.InvalidRequest, "%s %q uses the reserved prefix aws:.", member, k)
	}
	return nil
}

// Check validates a tag list (member names it in errors: "tags") and
// returns it as a map. A key given twice is InvalidRequestException, as is
// a list longer than MaxPerResource (callers whose operation has
// LimitExceededException check the total themselves, see Service.Tag).
func Check(member string, ts []Tag) (map[string]string, error) {
	if len(ts) > MaxPerResource {
		return nil, awsapi.Errorf(awsapi.InvalidRequest, "%s has %d tags; a resource may have at most %d.", member, len(ts), MaxPerResource)
	}
	m := make(map[string]string, len(ts))
	for i, t := range ts {
		if err := CheckKey(fmt.Sprintf("%s[%d].Key", member, i), t.Key); err != nil {
			return nil, err
		}
		if n := utf8.RuneCountInString(t.Value); n > MaxValueLength || !utf8.ValidString(t.Value) {
			return nil, awsapi.Errorf(awsapi.InvalidRequest, "%s[%d].Value must be at most %d characters long, got %d.", member, i, MaxValueLength, n)
		}
		if _, dup := m[t.Key]; dup {
			return nil, awsapi.Errorf(awsapi.InvalidRequest, "%s has the key %q twice.", member, t.Key)
		}
		m[t.Key] = t.Value
	}
	return m, nil
}

// Put adds or replaces tags of a resource inside tx, keeping the total at
// most MaxPerResource (LimitExceededException otherwise). tags must have
// passed Check. The caller has resolved the resource.
func Put(tx store.Tx, resourceARN string, tags map[string]string) error {
	if len(tags) == 0 {
		return nil
	}
	old, err := tx.Tags(resourceARN)
	if err != nil {
		return err
	}
	total := len(old)
	for k := range tags {
		if _, ok := old[k]; !ok {
			total++
		}
	}
	if total > MaxPerResource {
		return awsapi.Errorf(awsapi.LimitExceeded, "The resource would have %d tags; a resource may have at most %d.", total, MaxPerResource)
	}
	return tx.PutTags(resourceARN, tags)
}

// DeleteAll removes every tag of a resource inside tx; deleting a resource
// calls it in the same transaction.
func DeleteAll(tx store.Tx, resourceARN string) error {
	return tx.DeleteTags(resourceARN, nil)
}

// Resolve checks that resourceARN names a taggable resource of this account
// that exists: InvalidRequestException for a value that is not an IoT ARN of
// this region and account or names a type AWS IoT does not tag (thing,
// cert, ...); ResourceNotFoundException for one that does not exist.
func Resolve(tx store.Tx, arns arn.Builder, resourceARN string) error {
	if resourceARN == "" {
		return names.Required("resourceArn")
	}
	a, err := arn.Parse(resourceARN)
	if err != nil || a.Service != "iot" {
		return awsapi.Errorf(awsapi.InvalidRequest, "resourceArn %q is not an AWS IoT ARN.", resourceARN)
	}
	if a.Region != arns.Region || a.Account != arns.Account {
		return awsapi.Errorf(awsapi.InvalidRequest, "resourceArn %q is not in this region and account (%s, %s).", resourceARN, arns.Region, arns.Account)
	}
	typ, name := a.Type(), a.Name()
	if !taggable[typ] || name == "" {
		return awsapi.Errorf(awsapi.InvalidRequest, "resourceArn %q: resources of type %q cannot be tagged.", resourceARN, typ)
	}
	notFound := awsapi.Errorf(awsapi.ResourceNotFound, "Resource %s does not exist.", resourceARN)
	switch typ {
	case "thingtype":
		_, err = tx.ThingType(name)
	case "thinggroup":
		_, err = tx.ThingGroup(name)
	case "policy":
		_, err = tx.Policy(name)
	case "rule":
		_, err = tx.TopicRule(name)
	case "cacert":
		_, err = tx.CACertificate(name)
	case "authorizer":
		// internal/authorizer's store kind; named here, not imported, as
		// that package depends on this one.
		_, err = tx.Object("iot/authorizer", name)
	case "rolealias":
		// internal/rolealias's store kind (rolealias.Kind), named here for
		// the same reason.
		_, err = tx.Object("iot/rolealias", name)
	default:
		return notFound
	}
	if errors.Is(err, store.ErrNotFound) {
		return notFound
	}
	return err
}

// Service serves the tagging operations over a store.
type Service struct {
	st   store.Store
	arns arn.Builder
}

// New returns a tag service.
func New(st store.Store, arns arn.Builder) *Service {
	return &Service{st: st, arns: arns}
}

// Tag adds or replaces tags of a resource (TagResource). A resource with
// more than MaxPerResource tags afterwards is LimitExceededException.
func (s *Service) Tag(ctx context.Context, resourceARN string, ts []Tag) error {
	if ts == nil {
		return names.Required("tags")
	}
	if len(ts) > MaxPerResource {
		return awsapi.Errorf(awsapi.LimitExceeded, "tags has %d tags; a resource may have at most %d.", len(ts), MaxPerResource)
	}
	m, err := Check("tags", ts)
	if err != nil {
		return err
	}
	return s.st.Update(ctx, func(tx store.Tx) error {
		if err := Resolve(tx, s.arns, resourceARN); err != nil {
			return err
		}
		return Put(tx, resourceARN, m)
	})
}

// Untag removes tags by key (UntagResource); keys the resource does not
// have are ignored.
func (s *Service) Untag(ctx context.Context, resourceARN string, keys []string) error {
	if keys == nil {
		return names.Required("tagKeys")
	}
	for i, k := range keys {
		if err := CheckKey(fmt.Sprintf("tagKeys[%d]", i), k); err != nil {
			return err
		}
	}
	return s.st.Update(ctx, func(tx store.Tx) error {
		if err := Resolve(tx, s.arns, resourceARN); err != nil {
			return err
		}
		if len(keys) == 0 {
			return nil
		}
		return tx.DeleteTags(resourceARN, keys)
	})
}

// List returns the tags of a resource ordered by key
// (ListTagsForResource). A resource has at most MaxPerResource tags, so
// they all fit in one page: there is never a next token, and a token the
// caller sends is not one moat made.
func (s *Service) List(ctx context.Context, resourceARN, nextToken string) ([]Tag, error) {
	if nextToken != "" {
		return nil, awsapi.Errorf(awsapi.InvalidRequest, "The pagination token (nextToken) is not valid.")
	}
	var out []Tag
	err := s.st.View(ctx, func(tx store.Tx) error {
		if err := Resolve(tx, s.arns, resourceARN); err != nil {
			return err
		}
		m, err := tx.Tags(resourceARN)
		if err != nil {
			return err
		}
		out = Sorted(m)
		return nil
	})
	return out, err
}

// Sorted returns m as a list ordered by key.
func Sorted(m map[string]string) []Tag {
	out := make([]Tag, 0, len(m))
	for k, v := range m {
		out = append(out, Tag{Key: k, Value: v})
	}
	slices.SortFunc(out, func(a, b Tag) int { return strings.Compare(a.Key, b.Key) })
	return out
}
