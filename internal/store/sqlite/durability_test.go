package sqlite

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/moat-iot/moat/internal/store"
)

// helperEnv names the database the helper process writes to; the helper
// test does nothing without it.
const helperEnv = "MOAT_STORE_SQLITE_HELPER_DB"

// TestHelperWriter is not a test: TestStore_DurableUnderKill runs it in a
// child process. It inserts things w-0, w-1, ... from several goroutines
// (so that commits are grouped) and prints "ack NAME" after each Update
// returns, until it is killed.
func TestHelperWriter(t *testing.T) {
	path := os.Getenv(helperEnv)
	if path == "" {
		t.Skip("helper process for TestStore_DurableUnderKill")
	}
	s, err := Open(path, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(2)
	}
	var next atomic.Int64
	var mu sync.Mutex
	for range 8 {
		go func() {
			for {
				name := fmt.Sprintf("w-%d", next.Add(1)-1)
				err := s.Update(context.Background(), func(tx store.Tx) error {
					return tx.InsertThing(store.Thing{Name: name, ID: name, Version: 1})
				})
				if err != nil {
					fmt.Fprintln(os.Stderr, "update:", err)
					os.Exit(2)
				}
				mu.Lock()
				// os.Stdout is unbuffered: one write(2) per line.
				fmt.Fprintf(os.Stdout, "ack %s\n", name)
				mu.Unlock()
			}
		}()
	}
	select {} // until killed
}

// TestStore_DurableUnderKill checks that every Update acknowledged to a
// process survives SIGKILL of that process.
func TestStore_DurableUnderKill(t *testing.T) {
	path, names := killAfterAcks(t, "TestHelperWriter", 200)
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer s.Close()
	err = s.View(context.Background(), func(tx store.Tx) error {
		for _, name := range names {
			if _, err := tx.Thing(name); err != nil {
				return fmt.Errorf("acknowledged %s: %w", name, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d acknowledged updates survived SIGKILL", len(names))
}

// killAfterAcks runs the helper test in a child process writing to a new
// database, waits until it has printed n "ack ..." lines, kills it with
// SIGKILL and returns the database path and every acknowledged name.
func killAfterAcks(t *testing.T, helper string, n int) (string, []string) {
	t.Helper()
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	path := t.TempDir() + "/moat.db"
	cmd := exec.Command(os.Args[0], "-test.run=^"+helper+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+path)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := make(chan []string, 1)
	got := make(chan int, 1000)
	go func() {
		var names []string
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if name, ok := strings.CutPrefix(sc.Text(), "ack "); ok {
				names = append(names, name)
				select {
				case got <- len(names):
				default:
				}
			}
		}
		acked <- names
	}()
	deadline := time.After(30 * time.Second)
wait:
	for {
		select {
		case k := <-got:
			if k >= n {
				break wait
			}
		case <-deadline:
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("%s did not acknowledge %d updates in 30 s", helper, n)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	names := <-acked // stdout closes when the child dies
	cmd.Wait()
	return path, names
}
