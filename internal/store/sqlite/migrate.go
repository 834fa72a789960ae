package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ErrSchemaTooNew: the database was migrated by a newer moat than this one;
// opening it could corrupt data this code does not understand.
var ErrSchemaTooNew = errors.New("sqlite: database schema is newer than this moat")

// migration is one schema step. Versions start at 1 and have no gaps; a
// released step is never edited, only followed by a new one.
type migration struct {
	version int
	name    string
	stmts   []string
}

// migrations is the schema history. Every statement is valid PostgreSQL as
// well as SQLite (see the package doc).
var migrations = []migration{
	{1, "initial", []string{
		`CREATE TABLE certificates (
			id                TEXT PRIMARY KEY,
			pem               TEXT NOT NULL,
			status            TEXT NOT NULL,
			ca_certificate_id TEXT NOT NULL,
			mode              TEXT NOT NULL,
			not_before        BIGINT NOT NULL,
			not_after         BIGINT NOT NULL,
			created_at        BIGINT NOT NULL,
			updated_at        BIGINT NOT NULL,
			generation_id     TEXT NOT NULL,
			customer_version  BIGINT NOT NULL
		)`,
		`CREATE INDEX certificates_created_id ON certificates (created_at, id)`,
		`CREATE INDEX certificates_ca ON certificates (ca_certificate_id, id)`,

		`CREATE TABLE policies (
			name               TEXT PRIMARY KEY,
			default_version_id INTEGER NOT NULL,
			created_at         BIGINT NOT NULL,
			updated_at         BIGINT NOT NULL,
			generation_id      TEXT NOT NULL
		)`,
		`CREATE TABLE policy_versions (
			policy_name TEXT NOT NULL REFERENCES policies (name) ON DELETE CASCADE,
			version_id  INTEGER NOT NULL,
			document    TEXT NOT NULL,
			created_at  BIGINT NOT NULL,
			PRIMARY KEY (policy_name, version_id)
		)`,
		`CREATE TABLE policy_targets (
			policy_name TEXT NOT NULL REFERENCES policies (name) ON DELETE CASCADE,
			target      TEXT NOT NULL,
			PRIMARY KEY (policy_name, target)
		)`,
		`CREATE INDEX policy_targets_target ON policy_targets (target, policy_name)`,

		`CREATE TABLE things (
			name       TEXT PRIMARY KEY,
			id         TEXT NOT NULL UNIQUE,
			type_name  TEXT NOT NULL,
			attributes TEXT NOT NULL,
			version    BIGINT NOT NULL,
			created_at BIGINT NOT NULL,
			updated_at BIGINT NOT NULL
		)`,
		`CREATE INDEX things_type_name ON things (type_name, name)`,
		// thing_attributes mirrors things.attributes for filtering.
		`CREATE TABLE thing_attributes (
			thing_name TEXT NOT NULL REFERENCES things (name) ON DELETE CASCADE,
			name       TEXT NOT NULL,
			value      TEXT NOT NULL,
			PRIMARY KEY (thing_name, name)
		)`,
		`CREATE INDEX thing_attributes_name_value ON thing_attributes (name, value, thing_name)`,

		`CREATE TABLE thing_principals (
			thing_name TEXT NOT NULL REFERENCES things (name) ON DELETE CASCADE,
			principal  TEXT NOT NULL,
			type       TEXT NOT NULL,
			created_at BIGINT NOT NULL,
			PRIMARY KEY (thing_name, principal)
		)`,
		`CREATE INDEX thing_principals_principal ON thing_principals (principal, thing_name)`,

		`CREATE TABLE access_keys (
			id           TEXT PRIMARY KEY,
			secret       TEXT NOT NULL,
			user_name    TEXT NOT NULL,
			status       TEXT NOT NULL,
			created_at   BIGINT NOT NULL,
			last_used_at BIGINT NOT NULL
		)`,
		`CREATE INDEX access_keys_user ON access_keys (user_name, id)`,
	}},
	{2, "mqtt", []string{
		// Binary columns are BYTEA, PostgreSQL's binary type. In SQLite the
		// name gives the column NUMERIC affinity, which never converts a
		// BLOB value, and every value is bound as a non-nil []byte, so
		// each is stored as a BLOB, byte for byte.
		`CREATE TABLE retained (
			topic      TEXT PRIMARY KEY,
			payload    BYTEA NOT NULL,
			qos        INTEGER NOT NULL,
			properties BYTEA NOT NULL,
			updated_at BIGINT NOT NULL,
			expires_at BIGINT NOT NULL
		)`,

		// next_seq is the Seq the session's next queued message gets; it
		// only grows, so a Seq is never reused while the row lives.
		// subscriptions is a JSON array (see sessions.go).
		`CREATE TABLE sessions (
			client_id        TEXT PRIMARY KEY,
			protocol_version INTEGER NOT NULL,
			expiry_interval  BIGINT NOT NULL,
			disconnected_at  BIGINT NOT NULL,
			certificate_id   TEXT NOT NULL,
			subscriptions    TEXT NOT NULL,
			will             BYTEA NOT NULL,
			next_seq         BIGINT NOT NULL,
			created_at       BIGINT NOT NULL,
			updated_at       BIGINT NOT NULL
		)`,
		// retain and sent are 0 or 1 (INTEGER, not BOOLEAN: SQLite has no
		// boolean type and the Go code converts either way).
		`CREATE TABLE session_queue (
			client_id  TEXT NOT NULL REFERENCES sessions (client_id) ON DELETE CASCADE,
			seq        BIGINT NOT NULL,
			topic      TEXT NOT NULL,
			payload    BYTEA NOT NULL,
			qos        INTEGER NOT NULL,
			retain     INTEGER NOT NULL,
			properties BYTEA NOT NULL,
			packet_id  INTEGER NOT NULL,
			sent       INTEGER NOT NULL,
			expires_at BIGINT NOT NULL,
			created_at BIGINT NOT NULL,
			PRIMARY KEY (client_id, seq)
		)`,
	}},
	{3, "registry", []string{
		// searchable_attributes is a JSON array of names; deprecated is 0
		// or 1. things.type_name does not reference thing_types: untyped
		// things have '', and refusing to delete a type still in use is
		// the caller's job (things_type_name answers "any thing of this
		// type?" with one index probe).
		`CREATE TABLE thing_types (
			name                  TEXT PRIMARY KEY,
			id                    TEXT NOT NULL UNIQUE,
			description           TEXT NOT NULL,
			searchable_attributes TEXT NOT NULL,
			deprecated            INTEGER NOT NULL,
			deprecated_at         BIGINT NOT NULL,
			created_at            BIGINT NOT NULL
		)`,

		// parent_name is '' for a root group. It is not a foreign key:
		// InsertThingGroup checks the parent, a group's parent never
		// changes, and refusing to delete a group with children is the
		// caller's job. attributes is a JSON object (as on things);
		// dynamic is 0 or 1.
		`CREATE TABLE thing_groups (
			name          TEXT PRIMARY KEY,
			id            TEXT NOT NULL UNIQUE,
			parent_name   TEXT NOT NULL,
			description   TEXT NOT NULL,
			attributes    TEXT NOT NULL,
			version       BIGINT NOT NULL,
			created_at    BIGINT NOT NULL,
			dynamic       INTEGER NOT NULL,
			query_string  TEXT NOT NULL,
			query_version TEXT NOT NULL,
			index_name    TEXT NOT NULL,
			status        TEXT NOT NULL
		)`,
		`CREATE INDEX thing_groups_parent ON thing_groups (parent_name, name)`,
		// A membership goes with its group or its thing (ON DELETE
		// CASCADE). The primary key lists a group's things in name order;
		// the index lists a thing's groups (and serves the cascade from
		// things).
		`CREATE TABLE thing_group_members (
			group_name TEXT NOT NULL REFERENCES thing_groups (name) ON DELETE CASCADE,
			thing_name TEXT NOT NULL REFERENCES things (name) ON DELETE CASCADE,
			PRIMARY KEY (group_name, thing_name)
		)`,
		`CREATE INDEX thing_group_members_thing ON thing_group_members (thing_name, group_name)`,

		// Tags of any resource by ARN: no foreign key, so whoever deletes
		// a resource deletes its tags.
		`CREATE TABLE tags (
			resource_arn TEXT NOT NULL,
			tag_key      TEXT NOT NULL,
			tag_value    TEXT NOT NULL,
			PRIMARY KEY (resource_arn, tag_key)
		)`,
	}},
	{4, "shadows", []string{
		// One row per shadow, live or tombstone; shadow_name is '' for
		// the classic shadow. No foreign key to things: a shadow may
		// exist for an unregistered thing name, and DeleteThingShadows is
		// the caller's to run. deleted_at is the zero time's microseconds
		// (-62135596800000000) while the shadow lives (see shadows.go); a
		// tombstone's document is the empty BLOB. The primary key serves
		// Shadow, ListShadows (a thing's shadows in name order) and
		// DeleteThingShadows.
		`CREATE TABLE shadows (
			thing_name  TEXT NOT NULL,
			shadow_name TEXT NOT NULL,
			document    BYTEA NOT NULL,
			version     BIGINT NOT NULL,
			updated_at  BIGINT NOT NULL,
			deleted_at  BIGINT NOT NULL,
			PRIMARY KEY (thing_name, shadow_name)
		)`,
		// PurgeShadowTombstones walks the tombstones by deleted_at. The
		// index is partial, tombstones only: a full one would be
		// rewritten by every update of a live shadow (SQLite deletes and
		// reinserts the entry of every index on a column in the SET
		// list), and PostgreSQL can still update a live shadow in place
		// (HOT), since deleted_at does not change.
		`CREATE INDEX shadows_tombstones ON shadows (deleted_at) WHERE deleted_at <> -62135596800000000`,
	}},
	{5, "topic rules", []string{
		// One row per rule. payload is the TopicRulePayload JSON as the
		// API took it (a BLOB, byte for byte, like the other BYTEA
		// columns); topic is the FROM filter of its SQL, copied out by
		// the rule service for ListTopicRules' topic filter, which walks
		// topic_rules_topic in name order. disabled is 0 or 1; listing
		// by it filters the primary-key walk row by row (an account has
		// at most 1000 rules).
		`CREATE TABLE topic_rules (
			name       TEXT PRIMARY KEY,
			payload    BYTEA NOT NULL,
			topic      TEXT NOT NULL,
			disabled   INTEGER NOT NULL,
			created_at BIGINT NOT NULL,
			updated_at BIGINT NOT NULL
		)`,
		`CREATE INDEX topic_rules_topic ON topic_rules (topic, name)`,
	}},
	{6, "ca certificates", []string{
		// Customer CA certificates (RegisterCACertificate). auto_registration
		// is ENABLE or DISABLE; registration_config is the registrationConfig
		// JSON as the API took it, the empty BLOB for none. Device
		// certificates name their CA in certificates.ca_certificate_id
		// (indexed since migration 1); deleting a CA that still has some is
		// the caller's to refuse.
		`CREATE TABLE ca_certificates (
			id                  TEXT PRIMARY KEY,
			pem                 TEXT NOT NULL,
			status              TEXT NOT NULL,
			mode                TEXT NOT NULL,
			auto_registration   TEXT NOT NULL,
			registration_config BYTEA NOT NULL,
			owner               TEXT NOT NULL,
			not_before          BIGINT NOT NULL,
			not_after           BIGINT NOT NULL,
			created_at          BIGINT NOT NULL,
			updated_at          BIGINT NOT NULL,
			generation_id       TEXT NOT NULL,
			customer_version    BIGINT NOT NULL
		)`,
		`CREATE INDEX ca_certificates_created_id ON ca_certificates (created_at, id)`,
		// One registration code per account (GetRegistrationCode), made on
		// first use and stable after.
		`CREATE TABLE registration_codes (
			account_id TEXT PRIMARY KEY,
			code       TEXT NOT NULL
		)`,
	}},
	{7, "objects", []string{
		// Small documents by kind and key: IAM users, roles and managed
		// policies, identity pools and identities, custom authorizers,
		// role aliases, server secrets (store.Tx.Object).
		`CREATE TABLE objects (
			kind       TEXT NOT NULL,
			key        TEXT NOT NULL,
			value      BYTEA NOT NULL,
			version    BIGINT NOT NULL,
			created_at BIGINT NOT NULL,
			updated_at BIGINT NOT NULL,
			PRIMARY KEY (kind, key)
		)`,
	}},
}

// schemaVersion is the version this code writes and understands.
func schemaVersion() int { return migrations[len(migrations)-1].version }

// migrate brings the database up to schemaVersion in one transaction, or
// fails with ErrSchemaTooNew if it is already past it. It is idempotent.
func migrate(conn *sql.Conn) error { return migrateSteps(conn, migrations) }

// migrateSteps applies the steps of ms that the database lacks; the last
// one is the version this code knows. Tests pass a prefix of migrations to
// make a database of an older release.
func migrateSteps(conn *sql.Conn, ms []migration) (err error) {
	ctx := context.Background()
	tx, err := conn.BeginTx(ctx, nil) // BEGIN IMMEDIATE: one migrator at a time
	if err != nil {
		return fmt.Errorf("sqlite migrate: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at BIGINT NOT NULL
	)`); err != nil {
		return fmt.Errorf("sqlite migrate: %w", err)
	}
	var cur int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&cur); err != nil {
		return fmt.Errorf("sqlite migrate: %w", err)
	}
	known := ms[len(ms)-1].version
	if cur > known {
		return fmt.Errorf("%w: database has version %d, this code knows up to %d", ErrSchemaTooNew, cur, known)
	}
	now := time.Now().UnixMicro()
	for _, m := range ms {
		if m.version <= cur {
			continue
		}
		for _, stmt := range m.stmts {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("sqlite migrate %d (%s): %w", m.version, m.name, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
			m.version, m.name, now); err != nil {
			return fmt.Errorf("sqlite migrate %d (%s): %w", m.version, m.name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite migrate: %w", err)
	}
	return nil
}
