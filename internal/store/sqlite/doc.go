// Package sqlite implements store.Store on an embedded SQLite database: the
// default store of a single moat node, one file in the data dir.
//
// # Design note: the driver
//
// The driver is modernc.org/sqlite, registered with database/sql as
// "sqlite". It is SQLite translated to pure Go, so `go run ./cmd/moat` and
// `go test ./...` need no C toolchain (no cgo, unlike mattn/go-sqlite3) and
// cross-compile like any Go program. It tracks upstream SQLite releases,
// passes SQLite's own test suite, and is widely used. Going through
// database/sql keeps the code close to what store/postgres will be.
//
// # Connections and durability
//
// Open makes two pools over the same file:
//
//   - one writer connection (journal_mode=WAL, synchronous=FULL,
//     foreign_keys=ON, busy_timeout, BEGIN IMMEDIATE), used only by the
//     writer goroutine;
//   - a read pool of several connections with query_only=ON, used by View.
//
// Every connection has an 8 MiB page cache (cache_size; SQLite's default
// is 2 MiB), filled only as pages are read: with a large registry the
// upper levels of the things and thing_attributes indexes stay cached
// instead of being read from the OS on each lookup.
//
// In WAL mode readers never block the writer and see a consistent snapshot
// for the life of their transaction. synchronous=FULL fsyncs the WAL on every
// commit, so an Update that returned nil survives kill -9 and power loss.
// The database file and its -wal and -shm files are mode 0600: the file is
// created 0600 before SQLite opens it (SQLite gives -wal and -shm the mode
// of the database file), and Open tightens any of the three it finds more
// open than that.
//
// # Group commit
//
// Update does not touch the database itself: it queues a request and waits.
// One writer goroutine, started by Open and owned by the Store, takes up to
// Options.MaxBatch queued requests, opens one transaction, runs each
// request's function inside its own SAVEPOINT (ROLLBACK TO on error, so a
// failing function undoes only its own writes), commits once, and then
// answers every caller: with its own function's error, or with the commit
// error if the commit failed. One fsync is shared by the whole batch, which
// is what makes thousands of small durable writes per second possible.
// Close stops taking new Updates, lets the writer finish the queue, waits for
// it, checkpoints the WAL into the main file (wal_checkpoint(TRUNCATE)) and
// closes both pools.
//
// # Schema
//
// The schema (migrate.go) uses only types and constructs PostgreSQL has too:
// TEXT, INTEGER, BIGINT, primary keys, foreign keys with ON DELETE CASCADE,
// plain and unique indexes, INSERT ... ON CONFLICT. Times are BIGINT unix
// microseconds in UTC: nanoseconds overflow int64 before year 2262 (X.509
// certificates may say notAfter 9999-12-31), milliseconds lose precision for
// no gain, and microseconds are PostgreSQL's own timestamp precision. The
// zero time.Time is stored as its unix microseconds (-62135596800000000) and
// so round-trips. Migrations are numbered steps recorded in
// schema_migrations; Open applies the missing ones in one transaction and
// refuses a database whose version is newer than the code.
//
// Thing attributes are stored twice: as a JSON object on the thing row, so
// DescribeThing is one row read, and as rows of thing_attributes indexed by
// (name, value, thing_name), so ListThings by attribute walks an index in
// thing-name order instead of scanning things.
//
// Listings page by key: the cursor is the base64url encoding of the last
// row's ordering key, so pages stay correct while rows are inserted.
//
// # MQTT state (migration 2)
//
// retained (one row per topic), sessions (one row per client id, its
// subscriptions a JSON array: a session is always read and written whole)
// and session_queue (one row per QoS 1/2 message owed, keyed by (client_id,
// seq), deleted with its session by ON DELETE CASCADE). Payloads,
// properties and wills are BYTEA columns holding BLOBs. A session's next
// Seq is next_seq on its row: EnqueueMessages reserves a block with one
// UPDATE ... RETURNING per session, so Seqs are never reused while the
// session lives, and a rolled-back Update gives its reservation back
// without anyone having seen it.
//
// # Thing types, groups and tags (migration 3)
//
// thing_types and thing_groups hold one row each, their list fields as
// JSON TEXT like things.attributes (searchable attributes an array, group
// attributes an object). Neither is referenced by a foreign key from an
// older table: things.type_name stays a plain name (empty: untyped), and
// thing_groups.parent_name is empty for a root group and checked by
// InsertThingGroup rather than by a constraint, since a parent never
// changes and refusing to delete a type in use or a group with children
// is the caller's decision. thing_group_members has foreign keys with ON
// DELETE CASCADE to both things and thing_groups, so deleting either
// drops its memberships; its primary key (group_name, thing_name) lists a
// group's things and the index (thing_name, group_name) a thing's groups,
// each one index range. ListThingGroups walks the primary key, or
// (parent_name, name) with a parent or RootOnly, and turns NamePrefix
// into the byte-wise range [prefix, prefixRange's bound) instead of LIKE,
// whose '%' and '_' are wildcards and whose case folding is not byte-wise.
// tags is keyed by (resource_arn, tag_key) with no foreign key: ARNs are
// the caller's, so is deleting a resource's tags.
//
// Each listing of migration 3 has its own cursor kind (tx.go), so a
// nextToken of one is ErrInvalidCursor for another.
//
// # Statement cache
//
// The driver parses a statement's SQL on every Exec. The hot MQTT writes
// (EnqueueMessages, DeleteQueuedMessages, PutRetained, PutSession) go
// through a small cache of statements prepared once per transaction, which
// on the writer is one group-commit batch: in a busy batch each is parsed
// once and run many times (about 1.5x the enqueue rate of unprepared
// statements).
package sqlite
