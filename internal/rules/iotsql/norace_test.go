//go:build !race

package iotsql

const raceEnabled = false
