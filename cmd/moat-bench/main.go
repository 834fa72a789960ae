// Command moat-bench is a load generator for MQTT brokers over mutual TLS:
// moat, or any broker (Mosquitto is the reference). Its client is a lean
// one built on moat's own codec (internal/mqtt/packet), so its CPU cost is
// low and the same whatever the broker. On a small machine the broker and
// the load generator share the CPUs: the report gives both their CPU time.
//
//	moat-bench gencerts -out DIR [-pubs 10 -subs 10 -conns 16 -idle 0]
//	moat-bench pubsub  -broker 127.0.0.1:8883 -cafile DIR/ca.crt -certdir DIR [flags]
//	moat-bench connect -broker ... [flags]
//	moat-bench idle    -broker ... -conns 10000 -broker-pid PID [flags]
//	moat-bench shadow  -broker ... -conns 100 -things 1000 -updates 10 [flags]
//
// Only loopback brokers are accepted unless -allow-remote is given. Every
// run ends by itself: after -warmup + -duration (+ -drain), and in any case
// when -timeout passes. See bench/README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"
)

const usage = `moat-bench: MQTT-over-mTLS load generator for moat or any MQTT broker

usage:
  moat-bench gencerts -out DIR [-pubs N -subs M -conns C -idle K -key-type ecdsa-p256]
  moat-bench pubsub  -broker HOST:PORT -cafile CA (-certdir DIR | -cert C -key K) [-pubs 10 -subs 10 -qos 0 -size 64 -rate 0 -duration 10s]
  moat-bench connect -broker HOST:PORT -cafile CA (-certdir DIR | -cert C -key K) [-c 16 -duration 10s]
  moat-bench idle    -broker HOST:PORT -cafile CA (-certdir DIR | -cert C -key K) [-conns 10000 -broker-pid PID]
` + shadowUsage + registryUsage + `
modes:
  pubsub   N publishers -> M subscribers; delivered msgs/s, end-to-end latency p50/p99/max, lost, duplicates
  connect  full mTLS handshakes + CONNECT/CONNACK per second with C workers
  idle     hold K idle connections; broker RSS before/after and per connection
  shadow   device shadow updates over MQTT (AWS contract); accepted updates/s, latency p50/p99/max, rejected, missing
  gencerts a CA and per-client certificates (CN=<clientid>) for -certdir
  freeport print a free TCP port on 127.0.0.1 (for scripts)
  registry CreateThing/s, DescribeThing and ListThings-by-attribute latency through the iot API (SigV4, HTTPS)

'moat-bench MODE -h' lists the flags. The broker and the load generator share
this machine's CPUs: compare brokers in the same conditions, alternating runs.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes one subcommand and returns the exit code: 0 ok, 1 failure,
// 2 bad usage.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, usage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	mode, args := args[0], args[1:]
	if mode == "freeport" { // for the bench scripts: a free TCP port on 127.0.0.1
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fmt.Fprintf(stderr, "moat-bench freeport: %v\n", err)
			return 1
		}
		fmt.Fprintln(stdout, l.Addr().(*net.TCPAddr).Port)
		l.Close()
		return 0
	}
	if mode == "registry" { // the iot API (registry), its own flags: registry.go
		return runRegistry(ctx, args, stdout, stderr)
	}
	if mode == "shadow" { // device shadows over MQTT, its own flags: shadow*.go
		return runShadow(ctx, args, stdout, stderr)
	}
	if mode == "gencerts" {
		g, err := parseCertsConfig(args, stderr)
		if err != nil {
			return usageErr(stderr, mode, err)
		}
		if err := genCerts(g, stderr); err != nil {
			fmt.Fprintf(stderr, "moat-bench gencerts: %v\n", err)
			return 1
		}
		return 0
	}
	modes := map[string]func(context.Context, *config, io.Writer) (*result, error){
		"pubsub": runPubSub, "connect": runConnect, "idle": runIdle,
	}
	fn, ok := modes[mode]
	if !ok {
		fmt.Fprintf(stderr, "moat-bench: unknown mode %q\n\n%s", mode, usage)
		return 2
	}
	c, err := parseConfig(mode, args, stderr)
	if err != nil {
		return usageErr(stderr, mode, err)
	}
	// The hard limit: whatever hangs, the process ends.
	watchdog := time.AfterFunc(c.timeout, func() {
		fmt.Fprintf(stderr, "moat-bench %s: hard timeout %v reached; exiting\n", mode, c.timeout)
		os.Exit(3)
	})
	defer watchdog.Stop()
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	if c.cpuProfile != "" {
		f, err := os.Create(c.cpuProfile)
		if err != nil {
			return usageErr(stderr, mode, fmt.Errorf("-cpuprofile: %w", err))
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return usageErr(stderr, mode, fmt.Errorf("-cpuprofile: %w", err))
		}
		defer pprof.StopCPUProfile()
	}
	res, err := fn(ctx, c, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "moat-bench %s: %v\n", mode, err)
		return 1
	}
	if err := res.report(c, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "moat-bench %s: %v\n", mode, err)
		return 1
	}
	return 0
}

func usageErr(w io.Writer, mode string, err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintf(w, "moat-bench %s: %v\n(moat-bench %s -h lists the flags)\n", mode, err, mode)
	return 2
}
