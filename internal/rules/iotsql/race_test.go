//go:build race

package iotsql

// raceEnabled: under the race detector sync.Pool drops a share of what is
// put back, so pooled evaluation state is sometimes allocated afresh.
const raceEnabled = true
