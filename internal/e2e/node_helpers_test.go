package e2e

// Helpers of the Node.js tests (node_*_test.go): they run the scripts of
// testdata/node (the AWS IoT Device SDK for JavaScript, MQTT.js) as child
// processes against a moat started by moattest, and read what the scripts
// report as JSON lines. The clients, identities and custom authorizers
// on the Go side are the package's shared ones (helpers_*_test.go).

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moat-iot/moat/internal/moattest"
)

// nodeDir holds package.json, the lock file, the scripts and, once
// `npm ci` has run there, node_modules.
const nodeDir = "testdata/node"

// nodeWait bounds each wait for a script's next report or a Go-side
// client; nodeScriptTimeout is a script's own bound on its whole run (it
// reports "timeout" and exits), and the test kills it a little later.
const (
	nodeWait          = 10 * time.Second
	nodeScriptTimeout = 8 * time.Second
)

// nodePackages are the npm packages the scripts need (package.json).
var nodePackages = []string{"aws-iot-device-sdk", "mqtt"}

// nodeRequire returns the node binary. It skips the test, saying what to
// do, when node or the installed packages are missing; under CI=true it
// fails instead, since .ci/run installs them.
func nodeRequire(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	missing := ""
	if err != nil {
		missing = "node (Node.js 18 or later) is not on PATH"
	} else {
		for _, p := range nodePackages {
			if _, err := os.Stat(filepath.Join(nodeDir, "node_modules", p, "package.json")); err != nil {
				missing = "the npm package " + p + " is not installed: run `npm ci` in internal/e2e/" + nodeDir
				break
			}
		}
	}
	if missing != "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s (CI=true: the Node.js tests must run)", missing)
		}
		t.Skipf("skipping the Node.js client tests: %s", missing)
	}
	return node
}

// nodeEvent is one line a script reports (see the scripts' comments).
type nodeEvent struct {
	Event      string `json:"event"`
	Reason     string `json:"reason"`
	Topic      string `json:"topic"`
	Payload    string `json:"payload"`
	Granted    int    `json:"granted"`
	ReasonCode int    `json:"reasonCode"`
}

func (e nodeEvent) String() string {
	b, _ := json.Marshal(e)
	return string(b)
}

// nodeProc is a running script.
type nodeProc struct {
	t      *testing.T
	name   string
	cmd    *exec.Cmd
	events chan nodeEvent // closed when stdout ends
	exited chan struct{}  // closed when the process has exited
	err    error          // the exit error, set before exited is closed

	mu  sync.Mutex
	out bytes.Buffer // stderr and stdout lines that are not events
}

// nodeStart runs `node testdata/node/<script> <opts as JSON>` with the
// server's root CA trusted (NODE_EXTRA_CA_CERTS). The process is killed
// when the test ends, if it has not exited by then.
func nodeStart(t *testing.T, srv *moattest.Server, script string, opts map[string]any) *nodeProc {
	t.Helper()
	node := nodeRequire(t)
	opts["timeoutMs"] = nodeScriptTimeout.Milliseconds()
	arg, err := json.Marshal(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), nodeScriptTimeout+nodeWait)
	cmd := exec.CommandContext(ctx, node, filepath.Join(nodeDir, script), string(arg))
	cmd.Env = append(os.Environ(), "NODE_EXTRA_CA_CERTS="+srv.RootCAFile(),
		// The SDK must sign with what the test gives it, nothing else.
		"AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", "AWS_SESSION_TOKEN=", "AWS_PROFILE=", "NODE_OPTIONS=")
	p := &nodeProc{t: t, name: script, cmd: cmd, events: make(chan nodeEvent, 64), exited: make(chan struct{})}
	cmd.Stderr = nodeWriter{p}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start %s: %v", script, err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var ev nodeEvent
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil || ev.Event == "" {
				p.log(sc.Text())
				continue
			}
			select {
			case p.events <- ev:
			case <-ctx.Done():
				// The test has ended (or given up): nobody reads.
			}
		}
		close(p.events)
		// Wait closes stdout: only once every line is read.
		p.err = cmd.Wait()
		cancel()
		close(p.exited)
	}()
	t.Cleanup(func() {
		cancel()
		<-p.exited
	})
	return p
}

// nodeWriter collects a script's stderr.
type nodeWriter struct{ p *nodeProc }

func (w nodeWriter) Write(b []byte) (int, error) {
	w.p.log(string(b))
	return len(b), nil
}

func (p *nodeProc) log(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.out.WriteString(strings.TrimRight(s, "\n") + "\n")
}

// output is what the script printed besides its events.
func (p *nodeProc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// next returns the script's next report; it fails the test when none
// comes within nodeWait or the script ended without one.
func (p *nodeProc) next() nodeEvent {
	p.t.Helper()
	select {
	case ev, ok := <-p.events:
		if !ok {
			<-p.exited
			p.t.Fatalf("%s ended (%v) without reporting more; its output:\n%s", p.name, p.err, p.output())
		}
		return ev
	case <-time.After(nodeWait):
		p.t.Fatalf("%s reported nothing for %v; its output:\n%s", p.name, nodeWait, p.output())
	}
	panic("unreachable")
}

// expect fails the test unless the script's next report is event, and
// returns it.
func (p *nodeProc) expect(event string) nodeEvent {
	p.t.Helper()
	ev := p.next()
	if ev.Event != event {
		p.t.Fatalf("%s reported %s, want %q; its output:\n%s", p.name, ev, event, p.output())
	}
	return ev
}

// exit waits for the script to exit and fails the test unless its exit
// status is code.
func (p *nodeProc) exit(code int) {
	p.t.Helper()
	select {
	case <-p.exited:
	case <-time.After(nodeWait):
		p.t.Fatalf("%s has not exited after %v", p.name, nodeWait)
	}
	if got := p.cmd.ProcessState.ExitCode(); got != code {
		p.t.Fatalf("%s exited with %d (%v), want %d; its output:\n%s", p.name, got, p.err, code, p.output())
	}
}

// nodeMQTTPolicy is an IAM or IoT policy document allowing iot:Connect
// as a client id starting with clientPrefix (when not empty) and
// publishing, receiving and subscribing under node/.
func nodeMQTTPolicy(srv *moattest.Server, clientPrefix string) string {
	if clientPrefix == "" {
		return document(allowTopics(srv, "node")...)
	}
	return document(allowPubSub(srv, clientPrefix+"*", "node")...)
}

// nodeConnectGoDevice connects a device on the Go side as clientID, which
// must start with "nodego-": a certificate made through the iot API with
// an IoT policy for client ids starting with "nodego-" and topics under
// "node/", connected over MQTT over TLS with Paho (MQTT 3.1.1).
func nodeConnectGoDevice(t *testing.T, srv *moattest.Server, clientID string) *mqtt3Client {
	t.Helper()
	d := srv.NewDevice(t, "", nodeMQTTPolicy(srv, "nodego-"))
	g, _, err := dialMQTT3(t, "ssl://"+srv.MQTTAddr, srv.MQTTTLS(&d), clientID, nodeWait)
	if err != nil {
		t.Fatalf("Go-side device %s: connect: %v", clientID, err)
	}
	return g
}

// nodeHostPort splits the server's HTTPS address for the scripts.
func nodeHostPort(t *testing.T, srv *moattest.Server) (string, int) {
	t.Helper()
	host, port, err := net.SplitHostPort(srv.HTTPSAddr)
	n, perr := strconv.Atoi(port)
	if err != nil || perr != nil {
		t.Fatalf("HTTPS address %q", srv.HTTPSAddr)
	}
	return host, n
}

// nodeTokenHeader is where the Node.js tests' authorizers find the token
// (tokenKeyName).
const nodeTokenHeader = "x-node-token"

// nodeStartWithAuthorizers starts a moat with two custom authorizers
// whose function allows the tokens that start with "allow" (connecting as
// a client id starting with "nodejs-" and publishing under
// node/js/allowed/) and denies every other: "node-open"
// (signingDisabled) and "node-signed" (tokens signed with the returned
// key). Both find the token in the nodeTokenHeader header.
func nodeStartWithAuthorizers(t *testing.T) (*moattest.Server, *authorizerFn, signingKey) {
	t.Helper()
	srv, fn := startWithFn(t, 0)
	fn.setPrefix("allow", fnAnswer{policy: document(
		allow([]string{"iot:Connect"}, iotARN(srv, "client", "nodejs-*")),
		allow([]string{"iot:Publish"}, iotARN(srv, "topic", "node/js/allowed/*")))})
	key := newSigningKey(t)
	createAuthorizer(t, srv, "node-open", fn, nodeTokenHeader, nil)
	createAuthorizer(t, srv, "node-signed", fn, nodeTokenHeader, &key)
	return srv, fn, key
}
