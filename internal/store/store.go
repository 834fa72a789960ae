// Package store is moat's durable state: the registry, certificates,
// policies, attachments, access keys, MQTT retained messages and persistent
// sessions with their message queues, device shadows and topic rules.
//
// The model: a Store runs functions inside transactions. View runs a
// read-only transaction; Update runs a read-write one. Every mutation that an
// API call makes happens inside exactly one Update, so a call that fails
// changes nothing. Update returns only after the transaction is durable on
// disk: an acknowledged write survives kill -9.
//
// Implementations live in subpackages named after what they talk to
// (store/sqlite now, store/postgres later) and share one test suite,
// store/storetest. Implementations may batch concurrent Updates into one
// database transaction (group commit) as long as each Update is atomic on
// its own: a function that returns an error rolls back its own writes only.
//
// Errors: lookups of a missing row return ErrNotFound; inserting a key that
// exists returns ErrExists. Callers translate these into API errors; the
// store never speaks AWS.
//
// Times are stored with microsecond precision (years 1 to 9999, so an X.509
// notAfter of 9999-12-31 fits) and returned in UTC; the zero time.Time
// round-trips as the zero time.
package store

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors, matched with errors.Is.
var (
	// ErrNotFound: the row asked for does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrExists: an insert collided with an existing primary key.
	ErrExists = errors.New("store: already exists")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("store: closed")
	// ErrInvalidCursor: a Page.After cursor that no listing of this kind
	// produced (a client sent a bad nextToken). Callers map it to a
	// client error, not a server failure.
	ErrInvalidCursor = errors.New("store: invalid page cursor")
	// ErrConflict: an UpdateObject whose Version is not the stored one
	// (someone else changed the object since it was read).
	ErrConflict = errors.New("store: changed since read")
)

// Store is the durable state of one moat deployment.
type Store interface {
	// View runs fn in a read-only transaction. fn must not keep tx after it
	// returns.
	View(ctx context.Context, fn func(tx Tx) error) error
	// Update runs fn in a read-write transaction and commits it durably if
	// fn returns nil; otherwise every write fn made is rolled back and fn's
	// error is returned. fn may be called more than once if the
	// implementation must retry (keep it free of outside side effects).
	Update(ctx context.Context, fn func(tx Tx) error) error
	// Close flushes and closes the store. Pending Updates finish first.
	Close() error
}

// Tx is one transaction. Every method may return a wrapped database error
// besides the sentinels documented on each.
type Tx interface {
	// Certificates.

	// Certificate returns the certificate with this id, or ErrNotFound.
	Certificate(id string) (Certificate, error)
	// InsertCertificate adds c; ErrExists if its ID is taken.
	InsertCertificate(c Certificate) error
	// UpdateCertificate replaces the mutable fields (Status, UpdatedAt,
	// GenerationID, CustomerVersion) of an existing certificate; ErrNotFound
	// if there is none.
	UpdateCertificate(c Certificate) error
	// DeleteCertificate removes it; ErrNotFound if there is none.
	DeleteCertificate(id string) error
	// ListCertificates returns certificates ordered by creation time then
	// id (ascending or descending), starting strictly after the cursor p.After
	// (an opaque string produced by a previous page's Next).
	//
	// Every listing pages by key (never by offset), so a cursor stays valid
	// while rows are inserted or deleted; a malformed cursor is
	// ErrInvalidCursor, and so may be (and for the MQTT, thing-type and
	// group listings is) a cursor of another kind of listing.
	ListCertificates(p Page, ascending bool) ([]Certificate, string, error)

	// CA certificates (customer CAs registered with RegisterCACertificate)
	// and the account's registration code.

	// CACertificate returns the CA certificate with this id, or ErrNotFound.
	CACertificate(id string) (CACertificate, error)
	// InsertCACertificate adds c; ErrExists if its ID is taken.
	InsertCACertificate(c CACertificate) error
	// UpdateCACertificate replaces the mutable fields (Status,
	// AutoRegistration, RegistrationConfig, UpdatedAt, GenerationID,
	// CustomerVersion) of an existing CA certificate; ErrNotFound if none.
	UpdateCACertificate(c CACertificate) error
	// DeleteCACertificate removes it; ErrNotFound if there is none. The
	// device certificates it signed are the caller's to check.
	DeleteCACertificate(id string) error
	// ListCACertificates returns CA certificates ordered by creation time
	// then id, as ListCertificates.
	ListCACertificates(p Page, ascending bool) ([]CACertificate, string, error)
	// ActiveCACertificates returns every CA certificate whose Status is
	// ACTIVE, in no particular order (the trust pool of auto-registration).
	ActiveCACertificates() ([]CACertificate, error)
	// ListCertificatesByCA returns the device certificates whose
	// CACertificateID is caID, ordered as ListCertificates.
	ListCertificatesByCA(caID string, p Page, ascending bool) ([]Certificate, string, error)
	// RegistrationCode returns the registration code of an account, or
	// ErrNotFound if it has none yet.
	RegistrationCode(account string) (string, error)
	// InsertRegistrationCode sets an account's registration code;
	// ErrExists if it has one.
	InsertRegistrationCode(account, code string) error

	// Policies.

	// Policy returns the policy with this name, or ErrNotFound.
	Policy(name string) (Policy, error)
	// InsertPolicy adds p; ErrExists if the name is taken.
	InsertPolicy(p Policy) error
	// UpdatePolicy replaces DefaultVersionID, UpdatedAt, GenerationID;
	// ErrNotFound if there is none.
	UpdatePolicy(p Policy) error
	// DeletePolicy removes the policy and all its versions; ErrNotFound if
	// there is none.
	DeletePolicy(name string) error
	// ListPolicies returns policies ordered by name.
	ListPolicies(p Page, ascending bool) ([]Policy, string, error)
	// PolicyVersion returns one version, or ErrNotFound.
	PolicyVersion(name string, versionID int) (PolicyVersion, error)
	// InsertPolicyVersion adds v; ErrExists if (PolicyName, VersionID) is
	// taken, ErrNotFound if the policy does not exist.
	InsertPolicyVersion(v PolicyVersion) error
	// DeletePolicyVersion removes one version; ErrNotFound if none.
	DeletePolicyVersion(name string, versionID int) error
	// PolicyVersions returns every version of a policy ordered by VersionID.
	PolicyVersions(name string) ([]PolicyVersion, error)

	// Policy attachments: a policy attached to a target (a certificate ARN,
	// a thing group ARN, a Cognito identity id, ...).

	// AttachPolicy records the attachment; attaching twice is a no-op.
	// ErrNotFound if the policy does not exist. DeletePolicy removes the
	// policy's attachments too.
	AttachPolicy(policyName, target string) error
	// DetachPolicy removes it; ErrNotFound if it was not attached.
	DetachPolicy(policyName, target string) error
	// AttachedPolicies lists the policy names attached to target, ordered
	// by name.
	AttachedPolicies(target string, p Page) ([]string, string, error)
	// PolicyTargets lists the targets a policy is attached to, ordered.
	PolicyTargets(policyName string, p Page) ([]string, string, error)

	// Things.

	// Thing returns the thing with this name, or ErrNotFound.
	Thing(name string) (Thing, error)
	// InsertThing adds t; ErrExists if the name is taken.
	InsertThing(t Thing) error
	// UpdateThing replaces TypeName, Attributes, Version, UpdatedAt of an
	// existing thing; ErrNotFound if none.
	UpdateThing(t Thing) error
	// DeleteThing removes it with its principal attachments and group
	// memberships; ErrNotFound if none.
	DeleteThing(name string) error
	// ListThings returns things ordered by name that pass the filter.
	ListThings(f ThingFilter, p Page) ([]Thing, string, error)

	// Thing principals: certificates (by ARN) and other principals attached
	// to things.

	// AttachThingPrincipal records it; attaching twice updates the type.
	// ErrNotFound if the thing does not exist. DeleteThing removes the
	// thing's attachments too.
	AttachThingPrincipal(a ThingPrincipal) error
	// DetachThingPrincipal removes it; ErrNotFound if it was not attached.
	DetachThingPrincipal(thingName, principal string) error
	// ThingPrincipals lists the principals of a thing, ordered.
	ThingPrincipals(thingName string, p Page) ([]ThingPrincipal, string, error)
	// PrincipalThings lists the things a principal is attached to, ordered
	// by thing name.
	PrincipalThings(principal string, p Page) ([]ThingPrincipal, string, error)

	// Access keys (SigV4 credentials of users, including the admin).

	// Objects: small documents kept by kind and key, for the control data
	// that is read by key and listed by key prefix and never queried by
	// content (IAM users, roles and managed policies, Cognito identity
	// pools and identities, custom authorizers, role aliases, server
	// secrets). The owner of a kind encodes Value (JSON) and chooses its
	// keys; the store only orders them byte-wise.

	// Object returns the object of this kind and key, or ErrNotFound.
	Object(kind, key string) (Object, error)
	// InsertObject adds o with Version 1; ErrExists if (Kind, Key) is
	// taken. CreatedAt and UpdatedAt are stored as given.
	InsertObject(o Object) error
	// UpdateObject replaces Value and UpdatedAt of an existing object and
	// increments its Version; ErrNotFound if none. If o.Version is not 0
	// it must equal the stored version, else ErrConflict (optimistic
	// concurrency across transactions, e.g. read in a View, written in an
	// Update).
	UpdateObject(o Object) error
	// DeleteObject removes it; ErrNotFound if none.
	DeleteObject(kind, key string) error
	// ListObjects returns the objects of a kind whose key starts with
	// prefix, ordered by key (byte-wise), paged by key.
	ListObjects(kind, prefix string, p Page) ([]Object, string, error)
	// CountObjects counts the objects of a kind whose key starts with
	// prefix.
	CountObjects(kind, prefix string) (int, error)

	// AccessKey returns the key with this id, or ErrNotFound.
	AccessKey(id string) (AccessKey, error)
	// InsertAccessKey adds k; ErrExists if the id is taken.
	InsertAccessKey(k AccessKey) error
	// UpdateAccessKey replaces Status and LastUsedAt; ErrNotFound if none.
	UpdateAccessKey(k AccessKey) error
	// DeleteAccessKey removes it; ErrNotFound if none.
	DeleteAccessKey(id string) error
	// ListAccessKeys lists the keys of one user (all users when userName is
	// empty), ordered by id.
	ListAccessKeys(userName string, p Page) ([]AccessKey, string, error)

	// Retained messages (MQTT), one per topic.

	// Retained returns the retained message of a topic, or ErrNotFound.
	Retained(topic string) (Retained, error)
	// PutRetained inserts or replaces the retained message of r.Topic.
	PutRetained(r Retained) error
	// DeleteRetained removes it; ErrNotFound if there was none.
	DeleteRetained(topic string) error
	// ListRetained returns retained messages ordered by topic (byte-wise),
	// expired ones included: expiry is the caller's to enforce.
	ListRetained(p Page) ([]Retained, string, error)

	// Persistent MQTT sessions: the session's state, its subscriptions
	// (inside Session) and its queue of QoS 1/2 messages not yet
	// acknowledged by the client.

	// Session returns a session, or ErrNotFound.
	Session(clientID string) (Session, error)
	// PutSession inserts or replaces a session's state (every field of s);
	// replacing keeps the session's queue and its Seq counter.
	PutSession(s Session) error
	// DeleteSession removes a session and its whole queue; ErrNotFound if
	// there was none.
	DeleteSession(clientID string) error
	// ListSessions returns sessions ordered by client id.
	ListSessions(p Page) ([]Session, string, error)
	// EnqueueMessages appends messages (to one or several sessions) to
	// their sessions' queues and returns copies with Seq assigned; ms is not
	// modified and its Seq fields are ignored. Seqs start at 1 for a new
	// session and increase per session in the order of ms; a Seq is never
	// reused while the session exists, whatever is deleted and across
	// restarts. (A session deleted and created again starts again at 1.)
	// ErrNotFound if a session does not exist; then nothing is queued.
	EnqueueMessages(ms []QueuedMessage) ([]QueuedMessage, error)
	// UpdateQueuedMessage replaces PacketID and Sent of a queued message
	// (when it is sent or its packet id changes); ErrNotFound if gone.
	UpdateQueuedMessage(m QueuedMessage) error
	// DeleteQueuedMessages removes messages of one session by Seq (the
	// client acknowledged them, or they expired); missing ones are ignored.
	DeleteQueuedMessages(clientID string, seqs []int64) error
	// QueuedMessages returns up to limit messages of a session with Seq >
	// after, in Seq order; limit <= 0 means 100, and implementations may
	// return fewer than limit (at most 1000), so page with after = the last
	// Seq until a page comes back empty. A missing session has no messages
	// (no error).
	QueuedMessages(clientID string, after int64, limit int) ([]QueuedMessage, error)

	// Thing types.

	// ThingType returns a thing type, or ErrNotFound.
	ThingType(name string) (ThingType, error)
	// InsertThingType adds t; ErrExists if the name is taken.
	InsertThingType(t ThingType) error
	// UpdateThingType replaces Description, SearchableAttributes,
	// Deprecated and DeprecatedAt; ErrNotFound if none.
	UpdateThingType(t ThingType) error
	// DeleteThingType removes it; ErrNotFound if none. Things of the type
	// keep their TypeName: refusing to delete a type in use is the
	// caller's job (ListThings by TypeName with Limit 1 is one index
	// probe).
	DeleteThingType(name string) error
	// ListThingTypes returns thing types ordered by name; a non-empty name
	// returns at most that one.
	ListThingTypes(name string, p Page) ([]ThingType, string, error)

	// Thing groups (static and dynamic) and their members.

	// ThingGroup returns a group, or ErrNotFound.
	ThingGroup(name string) (ThingGroup, error)
	// InsertThingGroup adds g; ErrExists if the name is taken; ErrNotFound
	// if its ParentName is set and does not exist.
	InsertThingGroup(g ThingGroup) error
	// UpdateThingGroup replaces Description, Attributes, Version,
	// QueryString, QueryVersion, IndexName and Status; ErrNotFound if none.
	UpdateThingGroup(g ThingGroup) error
	// DeleteThingGroup removes a group and its memberships; ErrNotFound if
	// none. (Refusing a group with children is the caller's job; children
	// left behind keep their ParentName.)
	DeleteThingGroup(name string) error
	// ListThingGroups returns groups that pass the filter, ordered by name.
	ListThingGroups(f GroupFilter, p Page) ([]ThingGroup, string, error)
	// AddThingToGroup records a membership; adding twice is a no-op;
	// ErrNotFound if the thing or the group does not exist. The store
	// does not tell static from dynamic groups here: refusing manual
	// membership of a dynamic group is the caller's job.
	AddThingToGroup(group, thing string) error
	// RemoveThingFromGroup removes it; ErrNotFound if it was not a member.
	RemoveThingFromGroup(group, thing string) error
	// GroupThings lists the things of one group (not its children),
	// ordered by name; a missing group has none (no error).
	GroupThings(group string, p Page) ([]string, string, error)
	// ThingGroupsOf lists the groups a thing is directly in, ordered by
	// name; a missing thing is in none (no error).
	ThingGroupsOf(thing string, p Page) ([]string, string, error)

	// Tags of any resource, by ARN. The store does not know which ARN
	// names which row, so deleting a resource leaves its tags: whoever
	// deletes a taggable resource calls DeleteTags(arn, nil) in the same
	// Update.

	// Tags returns the tags of a resource: an empty, non-nil map, not an
	// error, if none.
	Tags(resourceARN string) (map[string]string, error)
	// PutTags adds or replaces tags of a resource; other tags are kept.
	PutTags(resourceARN string, tags map[string]string) error
	// DeleteTags removes tags by key, all of them when keys is nil (an
	// empty, non-nil keys removes none); missing keys are ignored.
	DeleteTags(resourceARN string, keys []string) error

	// Device shadows, keyed by thing name and shadow name ("" is the
	// classic shadow). A deleted shadow is kept as a tombstone (Document
	// nil, DeletedAt set) so that its version continues when it is
	// re-created. Shadows do not reference the registry: a shadow may
	// exist for a thing name with no thing, and DeleteThing leaves the
	// thing's shadows (DeleteThingShadows removes them).

	// Shadow returns the shadow or its tombstone, or ErrNotFound if it
	// never existed (or was purged).
	Shadow(thingName, shadowName string) (Shadow, error)
	// PutShadow inserts or replaces the shadow (a tombstone is a Shadow
	// with DeletedAt set and Document nil; a tombstone with a non-empty
	// Document is refused).
	PutShadow(s Shadow) error
	// DeleteThingShadows removes every shadow of the thing, tombstones
	// included (the thing was deleted); no error when there are none.
	DeleteThingShadows(thingName string) error
	// ListShadows returns the live (not deleted) named shadows of a thing
	// (the classic one excluded), ordered by name (byte-wise), paged; a
	// cursor of another kind of listing is ErrInvalidCursor. A thing with
	// none has an empty page (no error).
	ListShadows(thingName string, p Page) ([]Shadow, string, error)
	// PurgeShadowTombstones removes the tombstones whose DeletedAt is
	// strictly before before and returns how many. Live shadows are never
	// purged.
	PurgeShadowTombstones(before time.Time) (int, error)

	// Topic rules, by name. The store keeps a rule's payload as the API
	// took it and does not look inside: parsing the SQL, checking the
	// actions and keeping Topic in step with the SQL's FROM are the rule
	// service's job.

	// TopicRule returns a rule, or ErrNotFound.
	TopicRule(name string) (TopicRule, error)
	// InsertTopicRule adds r; ErrExists if the name is taken.
	InsertTopicRule(r TopicRule) error
	// UpdateTopicRule replaces Payload, Topic, Disabled and UpdatedAt
	// (Name and CreatedAt stay); ErrNotFound if none.
	UpdateTopicRule(r TopicRule) error
	// DeleteTopicRule removes it; ErrNotFound if none. (Its tags are the
	// caller's to delete, as for every taggable resource.)
	DeleteTopicRule(name string) error
	// ListTopicRules returns rules ordered by name (byte-wise), paged. A
	// non-empty topic keeps only rules whose Topic equals it exactly
	// (AWS's ListTopicRules topic filter names the rule's FROM filter; it
	// is not matched as a topic against filters); a non-nil disabled keeps
	// only rules in that state. The filters combine with AND. A cursor of
	// another kind of listing is ErrInvalidCursor.
	ListTopicRules(p Page, topic string, disabled *bool) ([]TopicRule, string, error)
	// AllTopicRules returns every rule ordered by name, unpaged: what the
	// rules engine loads when it starts (AWS allows 1000 rules per
	// account and region).
	AllTopicRules() ([]TopicRule, error)
}

// Page selects one page of a listing. Limit <= 0 means the implementation's
// default (100); After is the opaque cursor returned as the previous page's
// next cursor ("" for the first page). A returned next cursor of "" means
// there are no more rows.
type Page struct {
	After string
	Limit int
}

// Certificate is a device (or CA-signed, or self-signed) client certificate
// known to moat. Its ID is the lowercase hex SHA-256 of the DER encoding, as
// AWS IoT computes it. Private keys are never stored.
type Certificate struct {
	ID              string
	PEM             string // the certificate, PEM-encoded
	Status          string // ACTIVE, INACTIVE, REVOKED, PENDING_TRANSFER, REGISTER_INACTIVE, PENDING_ACTIVATION
	CACertificateID string // "" when not issued by a registered CA
	Mode            string // DEFAULT or SNI_ONLY
	NotBefore       time.Time
	NotAfter        time.Time
	CreatedAt       time.Time
	UpdatedAt       time.Time
	GenerationID    string // changes on every update (AWS generationId)
	CustomerVersion int64  // starts at 1, +1 on every update
}

// CACertificate is a customer CA certificate registered with
// RegisterCACertificate. Its ID is the lowercase hex SHA-256 of its DER, as
// for device certificates. Device certificates it signed name it in
// Certificate.CACertificateID.
type CACertificate struct {
	ID     string
	PEM    string // the CA certificate, PEM-encoded
	Status string // ACTIVE or INACTIVE
	Mode   string // DEFAULT or SNI_ONLY
	// AutoRegistration is ENABLE or DISABLE (AWS autoRegistrationStatus):
	// whether unknown device certificates it signed are registered on
	// their first connect (JITR).
	AutoRegistration string
	// RegistrationConfig is the registrationConfig JSON object as the API
	// took it (templateBody, roleArn, templateName: the JITP hook), stored
	// byte for byte; nil when there is none.
	RegistrationConfig []byte
	Owner              string // the AWS account id that registered it
	NotBefore          time.Time
	NotAfter           time.Time
	CreatedAt          time.Time
	UpdatedAt          time.Time
	GenerationID       string // changes on every update (AWS generationId)
	CustomerVersion    int64  // starts at 1, +1 on every update
}

// Policy is an IoT policy; its documents live in versions.
type Policy struct {
	Name             string
	DefaultVersionID int
	CreatedAt        time.Time
	UpdatedAt        time.Time
	GenerationID     string
}

// PolicyVersion is one immutable version of a policy document.
type PolicyVersion struct {
	PolicyName string
	VersionID  int // 1, 2, ... never reused within a policy's life
	Document   string
	CreatedAt  time.Time
}

// Thing is a registry entry.
type Thing struct {
	Name       string
	ID         string // UUID, assigned at creation
	TypeName   string // "" when untyped
	Attributes map[string]string
	Version    int64 // starts at 1, +1 on every update
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// ThingFilter narrows ListThings. Zero values mean no filter: with
// AttributeName set and AttributeValue "" (exact), things that have the
// attribute with any value match. Filters combine with AND.
type ThingFilter struct {
	AttributeName  string
	AttributeValue string
	// AttributePrefix makes AttributeValue a prefix match.
	AttributePrefix bool
	TypeName        string
}

// ThingPrincipal is one principal attached to one thing.
type ThingPrincipal struct {
	ThingName string
	Principal string // certificate ARN, Cognito identity id, ...
	Type      string // EXCLUSIVE_THING or NON_EXCLUSIVE_THING
	CreatedAt time.Time
}

// Object is a small document of some kind (see Tx.Object).
type Object struct {
	Kind, Key string
	Value     []byte
	// Version is 1 when inserted and incremented by each update.
	Version              int64
	CreatedAt, UpdatedAt time.Time
}

// AccessKey is a SigV4 credential. The secret is needed to verify
// signatures, so it is stored; the data dir is 0700 and the database 0600.
type AccessKey struct {
	ID         string // AKIA + 16 base32 characters
	Secret     string // 40 characters; never logged
	UserName   string // "admin" for the bootstrap administrator
	Status     string // Active or Inactive
	CreatedAt  time.Time
	LastUsedAt time.Time // zero: never used
}

// Retained is an MQTT retained message.
//
// Byte fields (Payload and Properties here, Session.Will,
// QueuedMessage.Payload and Properties) are stored byte for byte, NUL bytes
// and invalid UTF-8 included; an empty value (nil or not) reads back as nil.
type Retained struct {
	Topic   string
	Payload []byte
	QoS     byte
	// Properties are the MQTT 5 publish properties to deliver with the
	// message (payload format, content type, user properties, ...),
	// encoded by the broker; opaque to the store.
	Properties []byte
	UpdatedAt  time.Time
	// ExpiresAt is when the message expires (MQTT 5 message expiry); zero
	// means never.
	ExpiresAt time.Time
}

// Session is a persistent MQTT session: what survives its connection.
type Session struct {
	ClientID string
	// ProtocolVersion is 4 (3.1.1) or 5 of the last connection.
	ProtocolVersion byte
	// ExpiryInterval is how long the session outlives its connection, in
	// seconds.
	ExpiryInterval uint32
	// DisconnectedAt is when its last connection ended; zero while
	// connected.
	DisconnectedAt time.Time
	// CertificateID is the certificate of the last connection.
	CertificateID string
	Subscriptions []Subscription
	// Will, if set, is the will message to publish when the session ends
	// or the will delay passes (encoded by the broker; opaque).
	Will      []byte
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Subscription is one topic filter of a session.
type Subscription struct {
	Filter            string
	QoS               byte
	NoLocal           bool
	RetainAsPublished bool
	RetainHandling    byte
	// Identifier is the MQTT 5 subscription identifier; 0 means none.
	Identifier uint32
}

// QueuedMessage is a QoS 1/2 message owed to a persistent session.
type QueuedMessage struct {
	ClientID string
	Seq      int64 // assigned by EnqueueMessages
	Topic    string
	Payload  []byte
	QoS      byte
	Retain   bool
	// Properties are the MQTT 5 publish properties (opaque).
	Properties []byte
	// PacketID is the packet identifier it was last sent with; 0 if not
	// sent yet.
	PacketID uint16
	// Sent is true once it was sent (QoS 2: once PUBREC arrived, the
	// message is released and Sent marks the PUBREL state).
	Sent      bool
	ExpiresAt time.Time // zero: never
	CreatedAt time.Time
}

// ThingType is a registry thing type.
type ThingType struct {
	Name        string
	ID          string // UUID
	Description string
	// SearchableAttributes are the attribute names declared searchable (at
	// most 3), in their order; none reads back as nil.
	SearchableAttributes []string
	Deprecated           bool
	DeprecatedAt         time.Time // zero unless Deprecated
	CreatedAt            time.Time
}

// ThingGroup is a static or dynamic thing group.
type ThingGroup struct {
	Name        string
	ID          string // UUID
	ParentName  string // "" for a root group
	Description string
	Attributes  map[string]string
	Version     int64 // starts at 1, +1 on every update
	CreatedAt   time.Time
	// Dynamic groups: membership is computed from QueryString; Status is
	// ACTIVE, BUILDING or REBUILDING.
	Dynamic      bool
	QueryString  string
	QueryVersion string
	IndexName    string
	Status       string
}

// GroupFilter narrows ListThingGroups. Zero values mean no filter. Filters
// combine with AND (so Parent with RootOnly matches nothing).
type GroupFilter struct {
	// Parent lists the direct children of this group only.
	Parent string
	// RootOnly lists groups without a parent.
	RootOnly bool
	// NamePrefix keeps names starting with it, byte-wise: no character
	// ('%', '_', ...) is a wildcard.
	NamePrefix string
}

// Shadow is one device shadow as stored. Document is opaque to the store
// (the shadow service's encoding of state and metadata), stored byte for
// byte, NUL bytes and invalid UTF-8 included; an empty Document reads back
// as nil (as the byte fields of Retained do).
type Shadow struct {
	ThingName  string
	ShadowName string // "" for the classic shadow
	Document   []byte // nil for a tombstone
	// Version is the shadow's version, kept by the caller: the store
	// neither checks nor increments it.
	Version   int64
	UpdatedAt time.Time
	DeletedAt time.Time // zero while the shadow exists; set: a tombstone
}

// Deleted reports whether s is a tombstone.
func (s Shadow) Deleted() bool { return !s.DeletedAt.IsZero() }

// TopicRule is a stored topic rule. Payload is the rule's TopicRulePayload
// JSON as the API took it, opaque to the store and stored byte for byte
// (an empty Payload reads back as nil, as the byte fields of Retained do).
type TopicRule struct {
	Name    string
	Payload []byte
	// Topic is the FROM topic filter of the rule's SQL ("" when the rule
	// has none, e.g. a Basic Ingest only rule), kept beside the payload
	// for ListTopicRules' topic filter.
	Topic string
	// Disabled is the rule's ruleDisabled: a disabled rule is kept but
	// does not run.
	Disabled  bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ViewPage runs list in a read-only transaction and returns the page it
// produced: the one-liner behind every paged listing of the services.
func ViewPage[T any](ctx context.Context, st Store, list func(tx Tx) ([]T, string, error)) ([]T, string, error) {
	var out []T
	var next string
	err := st.View(ctx, func(tx Tx) error {
		var err error
		out, next, err = list(tx)
		return err
	})
	return out, next, err
}
