package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/moat-iot/moat/internal/store"
	"github.com/moat-iot/moat/internal/store/storetest"
)

func openTemp(t testing.TB) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "moat.db"), Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

// TestStore runs the shared store suite against SQLite.
func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
}
