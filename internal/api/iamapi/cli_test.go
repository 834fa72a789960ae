package iamapi_test

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	iamsdk "github.com/aws/aws-sdk-go-v2/service/iam"
)

// awsCLI returns a function that runs the AWS CLI against the test
// server as the admin and decodes its JSON output, and one that runs a
// command that must fail and returns its error output. Without the CLI
// the test is skipped, unless CI is "true".
func awsCLI(t *testing.T, e *env) (run func(args ...string) map[string]any, fail func(args ...string) string) {
	t.Helper()
	bin, err := exec.LookPath("aws")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("the AWS CLI is not installed and CI is set")
		}
		t.Skip("the AWS CLI is not installed")
	}
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: e.srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"AWS_ACCESS_KEY_ID="+e.adminKey, "AWS_SECRET_ACCESS_KEY="+e.adminSecret,
		"AWS_DEFAULT_REGION="+region, "AWS_CA_BUNDLE="+ca,
		"AWS_CONFIG_FILE="+filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "credentials"),
		"AWS_MAX_ATTEMPTS=1")
	command := func(args []string) *exec.Cmd {
		cmd := exec.Command(bin, append(args, "--endpoint-url", e.srv.URL, "--output", "json")...)
		cmd.Env = env
		return cmd
	}
	fail = func(args ...string) string {
		t.Helper()
		out, err := command(args).CombinedOutput()
		if err == nil {
			t.Fatalf("aws %v succeeded: %s", args, out)
		}
		return string(out)
	}
	run = func(args ...string) map[string]any {
		t.Helper()
		out, err := command(args).Output()
		if err != nil {
			var stderr []byte
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = ee.Stderr
			}
			t.Fatalf("aws %v: %v\n%s", args, err, stderr)
		}
		var v map[string]any
		if len(out) > 0 {
			if err := json.Unmarshal(out, &v); err != nil {
				t.Fatalf("aws %v printed %q: %v", args, out, err)
			}
		}
		return v
	}
	return run, fail
}

// TestAPI_AWSCLI runs `aws iam` and `aws sts` commands as a user would.
func TestAPI_AWSCLI(t *testing.T) {
	e := newEnv(t)
	run, fail := awsCLI(t, e)
	out := run("iam", "create-user", "--user-name", "cli-user", "--tags", "Key=team,Value=lamps")
	user, _ := out["User"].(map[string]any)
	if user["Arn"] != "arn:aws:iam::000000000000:user/cli-user" || user["Path"] != "/" {
		t.Fatalf("create-user printed %v", out)
	}
	if _, err := e.admin().GetUser(context.Background(), &iamsdk.GetUserInput{UserName: aws.String("cli-user")}); err != nil {
		t.Fatalf("the CLI's user is not there: %v", err)
	}
	out = run("sts", "get-caller-identity")
	if out["Arn"] != "arn:aws:iam::000000000000:user/admin" || out["Account"] != account {
		t.Fatalf("get-caller-identity printed %v", out)
	}
	run("iam", "put-user-policy", "--user-name", "cli-user", "--policy-name", "p", "--policy-document", allowIoT)
	out = run("iam", "get-user-policy", "--user-name", "cli-user", "--policy-name", "p")
	doc, _ := out["PolicyDocument"].(map[string]any) // the CLI decodes the URL-encoded document
	if doc["Version"] != "2012-10-17" {
		t.Fatalf("get-user-policy printed %v", out)
	}
	out = run("iam", "list-users")
	if users, _ := out["Users"].([]any); len(users) != 2 {
		t.Fatalf("list-users printed %v", out)
	}
	if msg := fail("iam", "get-user", "--user-name", "nobody"); !strings.Contains(msg, "(NoSuchEntity)") || !strings.Contains(msg, "nobody") {
		t.Fatalf("get-user of nobody printed %q", msg)
	}
	if msg := fail("iam", "delete-user", "--user-name", "cli-user"); !strings.Contains(msg, "(DeleteConflict)") {
		t.Fatalf("delete-user with a policy printed %q", msg)
	}
}
