package iam

import (
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/moat-iot/moat/internal/store"
)

// Store layout. Users, roles and customer managed policies are store
// objects whose value is the JSON record below, keyed by the lower-cased
// name (IAM names are unique without regard to case; the record keeps the
// spelling). A user's or role's inline policies and the ARNs of its
// attached managed policies live in its record, which the size and count
// quotas keep small. Each attachment also has an object of kindAttachment
// keyed "POLICYREF/user/NAME" or "POLICYREF/role/NAME", so that a policy's
// attachments are counted by key prefix; POLICYREF is "aws/NAME" for an
// AWS managed policy and "local/name" for a customer managed one. Names
// cannot contain '/', so the prefixes do not overlap.
const (
	kindUser       = "iam/user"
	kindRole       = "iam/role"
	kindPolicy     = "iam/policy"
	kindAttachment = "iam/attachment"
)

// entityRecord is what a stored user and a stored role both hold; the
// JSON fields of userRecord and roleRecord include its own.
type entityRecord struct {
	Name      string            `json:"name"`
	ID        string            `json:"id"`
	Path      string            `json:"path"`
	CreatedAt time.Time         `json:"created"`
	Tags      []Tag             `json:"tags,omitempty"`
	Inline    map[string]string `json:"inline,omitempty"`   // policy name -> document
	Attached  []string          `json:"attached,omitempty"` // managed policy ARNs, in attachment order
}

// common returns the part of a user or role record that both have.
func (r *entityRecord) common() *entityRecord { return r }

// userRecord is a stored user.
type userRecord struct {
	entityRecord
}

// roleRecord is a stored role.
type roleRecord struct {
	entityRecord
	Description string `json:"description,omitempty"`
	Trust       string `json:"trust"`
	// TrustIDs are the unique ids of the users and roles the trust policy
	// names by ARN, when it was stored (trustids.go).
	TrustIDs   map[string]string `json:"trustIds,omitempty"`
	MaxSession int               `json:"maxSession"` // seconds
}

// policyRecord is a stored customer managed policy with its versions.
type policyRecord struct {
	Name        string          `json:"name"`
	ID          string          `json:"id"`
	Path        string          `json:"path"`
	Description string          `json:"description,omitempty"`
	CreatedAt   time.Time       `json:"created"`
	UpdatedAt   time.Time       `json:"updated"`
	Default     string          `json:"default"` // version id, "v1"...
	Next        int             `json:"next"`    // number of the next version
	Versions    []versionRecord `json:"versions"`
	Tags        []Tag           `json:"tags,omitempty"`
}

type versionRecord struct {
	ID        string    `json:"id"`
	Document  string    `json:"doc"`
	CreatedAt time.Time `json:"created"`
}

func (p *policyRecord) version(id string) (*versionRecord, bool) {
	for i := range p.Versions {
		if p.Versions[i].ID == id {
			return &p.Versions[i], true
		}
	}
	return nil, false
}

// key is the object key of a name: IAM names are case-insensitive.
func key(name string) string { return strings.ToLower(name) }

// recordKind describes a kind of named record (users, roles, customer
// managed policies): how it is stored, created and reported missing.
type recordKind struct {
	kind   string // the store object kind
	prefix string // of the kind's ids
	quota  string // the account quota on how many may exist
	exists string // the EntityAlreadyExists message; %s is the name
	noSuch string // the NoSuchEntity message; %s is the name
}

// The kinds of named records.
var (
	userRecords = recordKind{kind: kindUser, prefix: "AIDA", quota: "UsersPerAccount",
		exists: "User with name %s already exists.", noSuch: "The user with name %s cannot be found."}
	roleRecords = recordKind{kind: kindRole, prefix: "AROA", quota: "RolesPerAccount",
		exists: "Role with name %s already exists.", noSuch: "The role with name %s cannot be found."}
	policyRecords = recordKind{kind: kindPolicy, prefix: "ANPA", quota: "PoliciesPerAccount",
		exists: "A policy called %s already exists. Duplicate names are not allowed."}
)

// get reads and decodes the record of a name; NoSuchEntity when there is
// none.
func (k recordKind) get(tx store.Tx, name string, v any) error {
	err := getRecord(tx, k.kind, name, v)
	if notFound(err) {
		return errorf(NoSuchEntity, k.noSuch, name)
	}
	return err
}

// create stores the record of a new name, which build makes from the
// record's new id: LimitExceeded when the account already has max
// records of the kind, EntityAlreadyExists when the name is taken.
func (k recordKind) create(tx store.Tx, name string, max int, now time.Time, build func(id string) any) error {
	n, err := tx.CountObjects(k.kind, "")
	if err != nil {
		return err
	}
	if n >= max {
		return errorf(LimitExceeded, "Cannot exceed quota for %s: %d", k.quota, max)
	}
	id, err := newID(k.prefix)
	if err != nil {
		return err
	}
	err = insertRecord(tx, k.kind, name, build(id), now)
	if errors.Is(err, store.ErrExists) {
		return errorf(EntityAlreadyExists, k.exists, name)
	}
	return err
}

// getRecord reads and decodes the object of kind and name; ErrNotFound
// when there is none.
func getRecord(tx store.Tx, kind, name string, v any) error {
	_, err := store.GetJSON(tx, kind, key(name), v)
	return err
}

// insertRecord stores a new object; ErrExists when the name is taken.
func insertRecord(tx store.Tx, kind, name string, v any, now time.Time) error {
	return store.InsertJSON(tx, store.Object{Kind: kind, Key: key(name), CreatedAt: now, UpdatedAt: now}, v)
}

// putRecord replaces an existing object.
func putRecord(tx store.Tx, kind, name string, v any, now time.Time) error {
	return store.UpdateJSON(tx, store.Object{Kind: kind, Key: key(name), UpdatedAt: now}, v)
}

// attachmentKey is the object key of the attachment of policy ref to a
// user or role ("user" or "role" as typ).
func attachmentKey(ref, typ, name string) string { return ref + "/" + typ + "/" + key(name) }

// attachmentCount counts a policy's attachments.
func attachmentCount(tx store.Tx, ref string) (int, error) {
	return tx.CountObjects(kindAttachment, ref+"/")
}

// newID returns a unique id with IAM's prefix for the entity type (AIDA
// users, AROA roles, ANPA policies) and 16 random base32 characters.
func newID(prefix string) (string, error) {
	b := make([]byte, 10)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("iam: id: %w", err)
	}
	return prefix + base32.StdEncoding.EncodeToString(b), nil
}

// notFound reports whether err is the store's ErrNotFound.
func notFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
