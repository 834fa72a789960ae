package e2e

// Helpers of the Node.js tests (node_*_test.go): they run the scripts of
// testdata/node (the AWS IoT Device SDK for JavaScript, MQTT.js) as child
// processes against a moat started by moattest, and read what the scripts
// report as JSON lines. Every name starts with "node" so that the
// package's other test files can name theirs freely.

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

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	mqtt "github.com/eclipse/paho.mqtt.golang"

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
	cmd.Env = append(os.Environ(), "NODE_EXTRA_CA_CERTS="+filepath.Join(srv.Dir, "root-ca.pem"),
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

// nodeIoTARN is the ARN of an IoT resource ("client/ID", "topic/T") of
// the server's region and account.
func nodeIoTARN(srv *moattest.Server, resource string) string {
	return "arn:aws:iot:" + srv.Config.Region + ":" + srv.Config.AccountID + ":" + resource
}

// nodeMQTTPolicy is an IAM or IoT policy document allowing iot:Connect
// as a client id starting with clientPrefix (when not empty) and
// publishing, receiving and subscribing under topicPrefix.
func nodeMQTTPolicy(srv *moattest.Server, clientPrefix, topicPrefix string) string {
	var stmts []string
	if clientPrefix != "" {
		stmts = append(stmts, `{"Effect":"Allow","Action":"iot:Connect","Resource":"`+nodeIoTARN(srv, "client/"+clientPrefix+"*")+`"}`)
	}
	stmts = append(stmts,
		`{"Effect":"Allow","Action":["iot:Publish","iot:Receive"],"Resource":"`+nodeIoTARN(srv, "topic/"+topicPrefix+"*")+`"}`,
		`{"Effect":"Allow","Action":"iot:Subscribe","Resource":"`+nodeIoTARN(srv, "topicfilter/"+topicPrefix+"*")+`"}`)
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`
}

// nodeIAM is an aws-sdk-go-v2 iam client for the admin.
func nodeIAM(srv *moattest.Server) *iam.Client {
	cfg := aws.Config{Region: srv.Config.Region, Credentials: srv.Credentials(), HTTPClient: srv.HTTPClient(), RetryMaxAttempts: 1}
	return iam.NewFromConfig(cfg, func(o *iam.Options) { o.BaseEndpoint = aws.String(srv.URL) })
}

// nodeUser creates an IAM user with an inline policy (none when doc is
// empty) and an access key, and returns the key.
func nodeUser(t *testing.T, srv *moattest.Server, name, doc string) aws.Credentials {
	t.Helper()
	ctx := context.Background()
	c := nodeIAM(srv)
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
		t.Fatalf("CreateUser %s: %v", name, err)
	}
	if doc != "" {
		if _, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String("mqtt"),
			PolicyDocument: aws.String(doc)}); err != nil {
			t.Fatalf("PutUserPolicy %s: %v", name, err)
		}
	}
	k, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
	if err != nil {
		t.Fatalf("CreateAccessKey %s: %v", name, err)
	}
	return aws.Credentials{AccessKeyID: aws.ToString(k.AccessKey.AccessKeyId), SecretAccessKey: aws.ToString(k.AccessKey.SecretAccessKey)}
}

// nodeRole creates an IAM role with a trust policy and an inline policy,
// and returns its ARN.
func nodeRole(t *testing.T, srv *moattest.Server, name, trust, doc string) string {
	t.Helper()
	ctx := context.Background()
	c := nodeIAM(srv)
	r, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trust)})
	if err != nil {
		t.Fatalf("CreateRole %s: %v", name, err)
	}
	if _, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String("mqtt"),
		PolicyDocument: aws.String(doc)}); err != nil {
		t.Fatalf("PutRolePolicy %s: %v", name, err)
	}
	return aws.ToString(r.Role.Arn)
}

// nodeGoDevice is a device on the Go side: a certificate made through the
// iot API with an IoT policy for client ids starting with "nodego-" and
// topics under "node/", connected over MQTT over TLS with Paho.
type nodeGoDevice struct {
	t    *testing.T
	c    mqtt.Client
	msgs chan mqtt.Message
}

// nodeConnectGoDevice connects a new Go-side device as clientID, which
// must start with "nodego-".
func nodeConnectGoDevice(t *testing.T, srv *moattest.Server, clientID string) *nodeGoDevice {
	t.Helper()
	d := srv.NewDevice(t, "", nodeMQTTPolicy(srv, "nodego-", "node/"))
	g := &nodeGoDevice{t: t, msgs: make(chan mqtt.Message, 16)}
	g.c = mqtt.NewClient(mqtt.NewClientOptions().AddBroker("ssl://" + srv.MQTTAddr).SetClientID(clientID).
		SetTLSConfig(srv.MQTTTLS(&d)).SetAutoReconnect(false).SetConnectRetry(false).SetConnectTimeout(nodeWait).
		SetDefaultPublishHandler(func(_ mqtt.Client, m mqtt.Message) { g.msgs <- m }))
	if tok := g.c.Connect(); !tok.WaitTimeout(nodeWait) || tok.Error() != nil {
		t.Fatalf("Go-side device %s: connect: %v", clientID, tok.Error())
	}
	t.Cleanup(func() { g.c.Disconnect(100) })
	return g
}

// subscribe subscribes the device to filter at QoS 1.
func (g *nodeGoDevice) subscribe(filter string) {
	g.t.Helper()
	if tok := g.c.Subscribe(filter, 1, nil); !tok.WaitTimeout(nodeWait) || tok.Error() != nil {
		g.t.Fatalf("Go-side device: subscribe %s: %v", filter, tok.Error())
	}
}

// publish publishes payload to topic at QoS 1.
func (g *nodeGoDevice) publish(topic, payload string) {
	g.t.Helper()
	if tok := g.c.Publish(topic, 1, false, payload); !tok.WaitTimeout(nodeWait) || tok.Error() != nil {
		g.t.Fatalf("Go-side device: publish %s: %v", topic, tok.Error())
	}
}

// receive fails the test unless the device receives payload on topic
// next, within nodeWait.
func (g *nodeGoDevice) receive(topic, payload string) {
	g.t.Helper()
	select {
	case m := <-g.msgs:
		if m.Topic() != topic || string(m.Payload()) != payload {
			g.t.Fatalf("Go-side device received %q on %s, want %q on %s", m.Payload(), m.Topic(), payload, topic)
		}
	case <-time.After(nodeWait):
		g.t.Fatalf("Go-side device: nothing on %s within %v", topic, nodeWait)
	}
}

// nothing fails the test if the device receives anything within d.
func (g *nodeGoDevice) nothing(d time.Duration) {
	g.t.Helper()
	select {
	case m := <-g.msgs:
		g.t.Fatalf("Go-side device received %q on %s, want nothing", m.Payload(), m.Topic())
	case <-time.After(d):
	}
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

// nodeUpgrades reads moat's count of MQTT-over-WebSocket upgrade requests
// with result ("accepted", "signature", "custom_auth", ...) from /metrics.
func nodeUpgrades(t *testing.T, srv *moattest.Server, result string) int {
	t.Helper()
	resp, body := srv.Do(t, "GET", "/metrics", nil, "iot", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /metrics: %d %s", resp.StatusCode, body)
	}
	prefix := `moat_mqtt_websocket_upgrades_total{result="` + result + `"} `
	for line := range strings.Lines(string(body)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), prefix); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				t.Fatalf("metric line %q", line)
			}
			return n
		}
	}
	return 0
}
