package readme

import (
	"bufio"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// section returns the ```sh blocks of the README section whose heading
// starts with title.
func section(t *testing.T, readme, title string) []string {
	t.Helper()
	var blocks []string
	in, inBlock := false, false
	var cur strings.Builder
	sc := bufio.NewScanner(strings.NewReader(readme))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "## "):
			in = strings.HasPrefix(line, "## "+title)
		case in && !inBlock && line == "```sh":
			inBlock = true
			cur.Reset()
		case in && inBlock && line == "```":
			inBlock = false
			blocks = append(blocks, cur.String())
		case in && inBlock:
			cur.WriteString(line + "\n")
		}
	}
	if len(blocks) == 0 {
		t.Fatalf("README has no sh blocks under %q", title)
	}
	return blocks
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func requireTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required under CI=true (.ci/run installs it): %v", name, err)
		}
		t.Skipf("%s is not installed; the README quickstart test needs it", name)
	}
}

// TestQuickstart runs the README's quickstart commands as written, in a
// temporary directory, against the moat binary built from this tree. The
// only change is the port: "go run ./cmd/moat" becomes the built binary and
// 8443 a free port, given to moat through MOAT_HTTPS_ADDR.
func TestQuickstart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and drives the AWS CLI; not in -short")
	}
	requireTool(t, "aws")
	requireTool(t, "curl")
	requireTool(t, "mosquitto_pub")
	requireTool(t, "mosquitto_sub")
	requireTool(t, "node")
	requireTool(t, "npm")
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	bin := filepath.Join(work, "moat-bin")
	build := exec.Command("go", "build", "-o", bin, "./cmd/moat")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	https, mqtt := freePort(t), freePort(t)
	// The quickstart, then the sections that continue it, in README order,
	// as a newcomer would run them. A section whose commands end with a
	// deliberate refusal (policy explain exits 3 on a deny) runs with set +e.
	var script string
	for _, sec := range []struct {
		title   string
		mayFail bool
	}{{"Quickstart", false}, {"Publishing over HTTPS", false}, {"The control plane", false}, {"Device policies", true}, {"Device shadows", false}, {"Rules", false}, {"Bring your own CA", false}, {"Users and IAM policies", false}, {"Apps with temporary credentials", false},
		{"Custom authorizers", false}, {"MQTT over WebSocket", false}} {
		body := strings.Join(section(t, string(readme), sec.title), "\n")
		if sec.mayFail {
			body = "set +e\n" + body + "\nset -e\n"
		}
		script += body + "\n"
	}
	script = strings.ReplaceAll(script, "go run ./cmd/moat", `"$MOAT_BIN"`)
	script = strings.ReplaceAll(script, "localhost:8443", "localhost:"+strconv.Itoa(https))
	script = strings.ReplaceAll(script, "-p 8883", "-p "+strconv.Itoa(mqtt))
	script = strings.ReplaceAll(script, "-p 8443", "-p "+strconv.Itoa(https))       // MQTT by ALPN on the HTTPS port
	script = strings.ReplaceAll(script, "port: 8443", "port: "+strconv.Itoa(https)) // the JavaScript device SDK
	hook := freePort(t)                                                             // the Rules section's HTTP receiver
	script = strings.ReplaceAll(script, "localhost:9000", "localhost:"+strconv.Itoa(hook))
	script = strings.ReplaceAll(script, `("127.0.0.1", 9000)`, `("127.0.0.1", `+strconv.Itoa(hook)+`)`)
	fn := freePort(t) // the custom authorizer's function
	script = strings.ReplaceAll(script, "localhost:9001", "localhost:"+strconv.Itoa(fn))
	script = strings.ReplaceAll(script, `("127.0.0.1", 9001)`, `("127.0.0.1", `+strconv.Itoa(fn)+`)`)
	full := "set -euo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null; wait' EXIT\n" + script

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", full)
	cmd.Dir = work
	cmd.Env = append(cleanEnv(),
		"MOAT_BIN="+bin,
		"MOAT_HTTPS_ADDR=127.0.0.1:"+strconv.Itoa(https),
		"MOAT_MQTT_ADDR=127.0.0.1:"+strconv.Itoa(mqtt),
		"AWS_CONFIG_FILE=/dev/null", "AWS_PAGER=",
	)
	out, err := cmd.CombinedOutput()
	text := string(out)
	if err != nil {
		t.Fatalf("quickstart failed: %v\n%s", err, text)
	}
	for _, want := range []string{
		`"thingName": "lamp-1"`,
		"arn:aws:iot:us-east-1:000000000000:cert/",
		`"policyName": "lamp-policy"`,
		"ResourceNotFoundException",
		"moat is ready.",
		"lamp-1/state on",
		"Not authorized",
		"Connection error: Not authorized",
		"ForbiddenException",                          // HTTPS publish before its policy
		"Missing Authentication Token",                // HTTPS publish without credentials
		`"thingGroupName": "hot-lamps"`,               // the dynamic group
		"decision: IMPLICIT_DENY",                     // moat policy explain
		"InvalidRequestException",                     // iot-data publish to a wildcard topic
		`"state":{"power":"on","brightness":80}`,      // the lamp's delta
		`"reported":{"power":"on","brightness":80}},`, // the shadow after the lamp's report
		"An error occurred (ConflictException) when calling the UpdateThingShadow operation: Version conflict", // a stale version
		`"schedule"`,                                 // the named shadow listed
		`{"temp":75,"lamp":"lamp-1"}`,                // the republish rule
		`/ingest/lamp-1 {"temp":71,"fw":"1.2","at":`, // the http rule
		"An error occurred (SqlParseException) when calling the CreateTopicRule operation: line 1:",
		"the s3 action is not supported by moat",
		"ACTIVE\tENABLE",                                    // the registered CA
		"PENDING_ACTIVATION\t",                              // the device certificate after its first connect (JITR)
		"sensor-9 published",                                // and after activation
		"arn:aws:iam::000000000000:user/backend\npublished", // a user with AWSIoTDataAccess
		"An error occurred (AccessDeniedException) when calling the CreateThing operation: User: arn:aws:iam::000000000000:user/backend is not authorized to perform: iot:CreateThing",
		"with an explicit deny in an identity-based policy",                                      // the inline Deny
		"arn:aws:sts::000000000000:assumed-role/lamp-app-guest/CognitoIdentityCredentials\nsent", // the guest app
		"is not authorized to perform: iot:Publish on resource: arn:aws:iot:us-east-1:000000000000:topic/lamp-2/cmd",
		"True\tkiosk", // test-invoke-authorizer
		"kiosk sent",  // MQTT by ALPN mqtt, through the function
		"Connection error: Bad User Name or Password", // the wrong password
		"function answered isAuthenticated false",     // HTTPS publish with a wrong token
		"watching\nlamp-1/state off",                  // the JavaScript device SDK over WebSocket
	} {
		if !strings.Contains(text, want) {
			t.Errorf("quickstart output lacks %q:\n%s", want, text)
		}
	}
	for _, f := range []string{"lamp-1.cert.pem", "lamp-1.private.key", "moat-data/root-ca.pem", "moat-data/admin.credentials"} {
		if _, err := os.Stat(filepath.Join(work, f)); err != nil {
			t.Errorf("quickstart left no %s: %v", f, err)
		}
	}
}

// cleanEnv is the environment without AWS_* and MOAT_* variables, so that
// the README's own exports are what the CLI and moat see.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "AWS_") || strings.HasPrefix(kv, "MOAT_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}
