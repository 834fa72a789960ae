// Package storetest is the one test suite every store.Store implementation
// passes (store/sqlite now, store/postgres later). An implementation's test
// calls Run with a function that opens a fresh, empty store:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store {
//			s, err := sqlite.Open(filepath.Join(t.TempDir(), "moat.db"), sqlite.Options{})
//			if err != nil {
//				t.Fatal(err)
//			}
//			return s
//		})
//	}
//
// Run closes every store it opens (some tests close it themselves first, so
// a second Close must not panic). Subtests run in parallel, each on its own
// store.
//
// Beyond the method contracts in package store, the suite expects: View is
// a snapshot (REPEATABLE READ on PostgreSQL), times round-trip at microsecond
// precision in UTC, and string ordering is byte-wise (COLLATE "C" on
// PostgreSQL).
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/moat-iot/moat/internal/store"
)

// Run runs the whole suite; open must return a new, empty store.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := map[string]func(t *testing.T, s store.Store){
		"Certificates":             testCertificates,
		"CertificateTimes":         testCertificateTimes,
		"ListCertificates":         testListCertificates,
		"CACertificates":           testCACertificates,
		"ListCACertificates":       testListCACertificates,
		"CertificatesByCA":         testCertificatesByCA,
		"RegistrationCodes":        testRegistrationCodes,
		"Policies":                 testPolicies,
		"PolicyVersions":           testPolicyVersions,
		"ListPolicies":             testListPolicies,
		"PolicyAttachments":        testPolicyAttachments,
		"Things":                   testThings,
		"ListThings":               testListThings,
		"ListThingsFilters":        testListThingsFilters,
		"ThingPrincipals":          testThingPrincipals,
		"AccessKeys":               testAccessKeys,
		"Objects":                  testObjects,
		"ListObjects":              testListObjects,
		"InvalidCursor":            testInvalidCursor,
		"UpdateRollback":           testUpdateRollback,
		"UpdateAtomicConcurrent":   testUpdateAtomicConcurrent,
		"UpdateContext":            testUpdateContext,
		"UpdatePanic":              testUpdatePanic,
		"ViewReadOnly":             testViewReadOnly,
		"ViewSnapshot":             testViewSnapshot,
		"Close":                    testClose,
		"CloseFinishesQueued":      testCloseFinishesQueued,
		"ConcurrentViewAndUpdate":  testConcurrentViewAndUpdate,
		"Retained":                 testRetained,
		"ListRetained":             testListRetained,
		"Sessions":                 testSessions,
		"ListSessions":             testListSessions,
		"Queue":                    testQueue,
		"QueueMissingSession":      testQueueMissingSession,
		"QueueConcurrent":          testQueueConcurrent,
		"DeleteSessionQueue":       testDeleteSessionQueue,
		"ThingTypes":               testThingTypes,
		"ListThingTypes":           testListThingTypes,
		"ThingGroups":              testThingGroups,
		"ListThingGroups":          testListThingGroups,
		"ListThingGroupsFilters":   testListThingGroupsFilters,
		"GroupMembers":             testGroupMembers,
		"GroupMembersPaging":       testGroupMembersPaging,
		"Tags":                     testTags,
		"RegistryRollback":         testRegistryRollback,
		"RegistryAtomicConcurrent": testRegistryAtomicConcurrent,
		"Shadows":                  testShadows,
		"ListShadows":              testListShadows,
		"DeleteThingShadows":       testDeleteThingShadows,
		"PurgeShadowTombstones":    testPurgeShadowTombstones,
		"ShadowRollback":           testShadowRollback,
		"TopicRules":               testTopicRules,
		"ListTopicRules":           testListTopicRules,
	}
	names := make([]string, 0, len(tests))
	for name := range tests {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fn := tests[name]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			t.Cleanup(func() { s.Close() })
			fn(t, s)
		})
	}
}

// errBoom is returned by test functions that must be rolled back.
var errBoom = errors.New("storetest: boom")

// ts returns a fixed UTC time n seconds after a base, with microsecond
// detail (what the store keeps).
func ts(n int) time.Time {
	return time.Unix(1_700_000_000+int64(n), 123_456_000).UTC()
}

// update runs fn in an Update and fails the test on error.
func update(t *testing.T, s store.Store, fn func(tx store.Tx) error) {
	t.Helper()
	if err := s.Update(context.Background(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// view runs fn in a View and fails the test on error.
func view(t *testing.T, s store.Store, fn func(tx store.Tx) error) {
	t.Helper()
	if err := s.View(context.Background(), fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

// wantErr fails unless errors.Is(err, want) (want nil: err must be nil).
func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("%s: unexpected error %v", what, err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Fatalf("%s: error %v, want %v", what, err, want)
	}
}

// wantEqual fails unless got and want are deeply equal.
func wantEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

// pageAll pages through a listing with limit n, calling between(i) after
// page i (to insert rows while paging), and returns all rows and the
// number of pages.
func pageAll[T any](t *testing.T, s store.Store, n int, between func(page int),
	list func(tx store.Tx, p store.Page) ([]T, string, error)) ([]T, int) {
	t.Helper()
	var all []T
	cursor := ""
	for page := 0; ; page++ {
		if page > 10_000 {
			t.Fatal("pagination does not end")
		}
		var rows []T
		var next string
		view(t, s, func(tx store.Tx) error {
			var err error
			rows, next, err = list(tx, store.Page{After: cursor, Limit: n})
			return err
		})
		if len(rows) > n {
			t.Fatalf("page %d has %d rows, limit %d", page, len(rows), n)
		}
		if next != "" && len(rows) != n {
			t.Fatalf("page %d has %d rows and a next cursor; want a full page", page, len(rows))
		}
		all = append(all, rows...)
		if next == "" {
			return all, page + 1
		}
		cursor = next
		if between != nil {
			between(page)
		}
	}
}

func name(prefix string, i int) string { return fmt.Sprintf("%s-%04d", prefix, i) }

func bg() context.Context { return context.Background() }
