package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"
	"github.com/aws/smithy-go"

	"github.com/moat-iot/moat/internal/api/control"
	"github.com/moat-iot/moat/internal/arn"
	"github.com/moat-iot/moat/internal/pki"
)

// exitDenied is `moat policy explain`'s status when the request is denied.
const exitDenied = 3

const policyUsage = `Usage: moat policy explain (--cert CERT | --thing NAME) --action ACTION --resource RESOURCE [flags]

Asks a running moat whether a device may do ACTION on RESOURCE, as its MQTT
connection would be authorized, and prints the decision and why: the policy,
version and statement that decided (or that none matched), and the policy
variables as they were resolved. It calls the TestAuthorization API with the
administrator's credentials and reads moat's explanation from the response.

  --cert CERT        the device certificate: its id or ARN
  --thing NAME       or the thing: the certificate attached to it
  --action ACTION    iot:Connect, iot:Publish, iot:Subscribe, iot:Receive or
                     iot:RetainPublish ("publish" works too)
  --resource RES     a resource ARN, or short: topic/a/b, topicfilter/a/#,
                     client/ID; with no type, the action's (a/b for publish)
  --client-id ID     the MQTT client id (default: the thing's name)
  --data-dir DIR     where admin.credentials and root-ca.pem are
                     (default ./moat-data)
  --endpoint-url URL the HTTPS API (default https://localhost:8443)
  --credentials FILE AWS shared-credentials file (default DIR/admin.credentials)
  --ca-bundle FILE   CA to trust (default DIR/root-ca.pem)
  --region REGION    signing region (default $AWS_REGION, else us-east-1)

Exit status: 0 allowed, 3 denied, 1 on an error, 2 on a usage error.

Example:
  moat policy explain --thing lamp-1 --action iot:Publish --resource topic/lamp-2/state
`

// runPolicy is `moat policy SUBCOMMAND`.
func runPolicy(ctx context.Context, c *cli, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" || args[0] == "help" {
		w := c.stderr
		if len(args) > 0 {
			w = c.stdout
		}
		io.WriteString(w, policyUsage)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	if args[0] != "explain" {
		fmt.Fprintf(c.stderr, "moat policy: unknown subcommand %q\nRun 'moat policy --help' for usage.\n", args[0])
		return exitUsage
	}
	return runExplain(ctx, c, args[1:])
}

type explainFlags struct {
	cert, thing, action, resource, clientID string
	dataDir, endpoint, creds, caBundle      string
	region                                  string
	clientIDSet                             bool
}

func parseExplain(c *cli, args []string) (*explainFlags, int) {
	f := &explainFlags{}
	fs := flag.NewFlagSet("moat policy explain", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&f.cert, "cert", "", "")
	fs.StringVar(&f.thing, "thing", "", "")
	fs.StringVar(&f.action, "action", "", "")
	fs.StringVar(&f.resource, "resource", "", "")
	fs.StringVar(&f.clientID, "client-id", "", "")
	fs.StringVar(&f.dataDir, "data-dir", "./moat-data", "")
	fs.StringVar(&f.endpoint, "endpoint-url", "https://localhost:8443", "")
	fs.StringVar(&f.creds, "credentials", "", "")
	fs.StringVar(&f.caBundle, "ca-bundle", "", "")
	fs.StringVar(&f.region, "region", "", "")
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		io.WriteString(c.stdout, policyUsage)
		return nil, exitOK
	}
	fail := func(msg string) (*explainFlags, int) {
		fmt.Fprintf(c.stderr, "moat policy explain: %s\nRun 'moat policy --help' for usage.\n", msg)
		return nil, exitUsage
	}
	switch {
	case err != nil:
		return fail(strings.ReplaceAll(err.Error(), "provided but not defined: -", "provided but not defined: --"))
	case fs.NArg() > 0:
		return fail(fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	case (f.cert == "") == (f.thing == ""):
		return fail("give exactly one of --cert and --thing")
	case f.action == "":
		return fail("--action is required")
	case f.resource == "":
		return fail("--resource is required")
	}
	fs.Visit(func(fl *flag.Flag) { f.clientIDSet = f.clientIDSet || fl.Name == "client-id" })
	if actionType(f.action) == "" {
		return fail(fmt.Sprintf("--action %q: want iot:Connect, iot:Publish, iot:Subscribe, iot:Receive or iot:RetainPublish", f.action))
	}
	if f.creds == "" {
		f.creds = filepath.Join(f.dataDir, "admin.credentials")
	}
	if f.caBundle == "" {
		f.caBundle = filepath.Join(f.dataDir, "root-ca.pem")
	}
	if f.region == "" {
		if r, ok := c.lookupEnv("AWS_REGION"); ok && r != "" {
			f.region = r
		} else {
			f.region = "us-east-1"
		}
	}
	return f, exitOK
}

// actionType maps "iot:Publish", "publish" or "PUBLISH" to TestAuthorization's
// ActionType ("RETAIN_PUBLISH" is moat's extension), or "".
func actionType(a string) types.ActionType {
	s := strings.ToLower(strings.TrimPrefix(strings.ToLower(a), "iot:"))
	switch strings.ReplaceAll(s, "_", "") {
	case "connect":
		return types.ActionTypeConnect
	case "publish":
		return types.ActionTypePublish
	case "subscribe":
		return types.ActionTypeSubscribe
	case "receive":
		return types.ActionTypeReceive
	case "retainpublish":
		return "RETAIN_PUBLISH"
	}
	return ""
}

// resourceARN expands a short resource with the server's region and
// account (taken from the certificate's ARN).
func resourceARN(res string, at types.ActionType, certARN string) (string, error) {
	if strings.HasPrefix(res, "arn:") {
		return res, nil
	}
	ca, err := arn.Parse(certARN)
	if err != nil {
		return "", fmt.Errorf("certificate ARN %q: %w", certARN, err)
	}
	b := arn.Builder{Region: ca.Region, Account: ca.Account}
	for _, typ := range []string{"topic/", "topicfilter/", "client/"} {
		if strings.HasPrefix(res, typ) {
			return b.IoT(strings.TrimSuffix(typ, "/"), strings.TrimPrefix(res, typ)), nil
		}
	}
	switch at {
	case types.ActionTypeConnect:
		return b.Client(res), nil
	case types.ActionTypeSubscribe:
		return b.TopicFilter(res), nil
	}
	return b.Topic(res), nil
}

// explainClient is the iot client with the TestAuthorization response body
// kept: moat's explanation members are not in the SDK's model, which
// skips them, so the command reads them from the raw body.
type explainClient struct {
	http *http.Client
	raw  []byte
}

func (e *explainClient) Do(r *http.Request) (*http.Response, error) {
	resp, err := e.http.Do(r)
	if err != nil || !strings.HasSuffix(r.URL.Path, "/test-authorization") {
		return resp, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, err
	}
	e.raw = b
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp, nil
}

func newExplainClient(f *explainFlags) (*iot.Client, *explainClient, error) {
	id, secret, err := pki.ReadSharedCredentials(f.creds)
	if err != nil {
		return nil, nil, fmt.Errorf("credentials %s: %w (is --data-dir or --credentials right?)", f.creds, err)
	}
	pemData, err := os.ReadFile(f.caBundle)
	if err != nil {
		return nil, nil, fmt.Errorf("CA bundle: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pemData) {
		return nil, nil, fmt.Errorf("CA bundle %s holds no certificate", f.caBundle)
	}
	ec := &explainClient{http: &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}}}}
	cfg := aws.Config{Region: f.region, Credentials: credentials.NewStaticCredentialsProvider(id, secret, ""), HTTPClient: ec}
	client := iot.NewFromConfig(cfg, func(o *iot.Options) {
		o.BaseEndpoint = aws.String(f.endpoint)
		o.RetryMaxAttempts = 1
	})
	return client, ec, nil
}

// runExplain is `moat policy explain`.
func runExplain(ctx context.Context, c *cli, args []string) int {
	f, code := parseExplain(c, args)
	if f == nil {
		return code
	}
	client, ec, err := newExplainClient(f)
	if err != nil {
		fmt.Fprintf(c.stderr, "moat policy explain: %v\n", err)
		return exitError
	}
	code, err = explain(ctx, c.stdout, client, ec, f)
	if err != nil {
		fmt.Fprintf(c.stderr, "moat policy explain: %s\n", apiMessage(err))
		return exitError
	}
	return code
}

func apiMessage(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode() + ": " + ae.ErrorMessage()
	}
	return err.Error()
}

// explain resolves the certificate, asks TestAuthorization and prints the
// answer.
func explain(ctx context.Context, w io.Writer, client *iot.Client, ec *explainClient, f *explainFlags) (int, error) {
	certARN, clientID, err := resolvePrincipal(ctx, client, f)
	if err != nil {
		return 0, err
	}
	at := actionType(f.action)
	res, err := resourceARN(f.resource, at, certARN)
	if err != nil {
		return 0, err
	}
	out, err := client.TestAuthorization(ctx, &iot.TestAuthorizationInput{
		Principal: aws.String(certARN), ClientId: aws.String(clientID),
		AuthInfos: []types.AuthInfo{{ActionType: at, Resources: []string{res}}},
	})
	if err != nil {
		return 0, err
	}
	var raw explainResponse
	if err := json.Unmarshal(ec.raw, &raw); err != nil || len(raw.AuthResults) != 1 || len(raw.AuthResults[0].MoatExplanations) != 1 || raw.MoatContext == nil {
		return 0, errors.New("the server's answer has no explanation (is the endpoint a moat server?)")
	}
	if len(out.AuthResults) != 1 {
		return 0, errors.New("the server returned no result")
	}
	docs := func(name, version string) string {
		v, err := client.GetPolicyVersion(ctx, &iot.GetPolicyVersionInput{PolicyName: aws.String(name), PolicyVersionId: aws.String(version)})
		if err != nil {
			return ""
		}
		return aws.ToString(v.PolicyDocument)
	}
	printExplanation(w, raw.MoatContext, raw.AuthResults[0].MoatExplanations[0], docs)
	if out.AuthResults[0].AuthDecision != types.AuthDecisionAllowed {
		return exitDenied, nil
	}
	return exitOK, nil
}

// resolvePrincipal finds the certificate ARN and the client id to use.
func resolvePrincipal(ctx context.Context, client *iot.Client, f *explainFlags) (certARN, clientID string, err error) {
	clientID = f.clientID
	if f.thing != "" {
		ps, err := client.ListThingPrincipals(ctx, &iot.ListThingPrincipalsInput{ThingName: aws.String(f.thing)})
		if err != nil {
			return "", "", err
		}
		for _, p := range ps.Principals {
			if strings.Contains(p, ":cert/") {
				if certARN != "" {
					return "", "", fmt.Errorf("thing %s has several certificates; name one with --cert", f.thing)
				}
				certARN = p
			}
		}
		if certARN == "" {
			return "", "", fmt.Errorf("thing %s has no certificate attached", f.thing)
		}
		if !f.clientIDSet {
			clientID = f.thing
		}
		return certARN, clientID, nil
	}
	id := f.cert
	if strings.HasPrefix(id, "arn:") {
		if a, err := arn.Parse(id); err == nil {
			id = a.Name()
		}
	}
	d, err := client.DescribeCertificate(ctx, &iot.DescribeCertificateInput{CertificateId: aws.String(id)})
	if err != nil {
		return "", "", err
	}
	certARN = aws.ToString(d.CertificateDescription.CertificateArn)
	if !f.clientIDSet {
		// As a device usually connects: with its thing's name.
		things, err := client.ListPrincipalThings(ctx, &iot.ListPrincipalThingsInput{Principal: aws.String(certARN)})
		if err == nil && len(things.Things) == 1 {
			clientID = things.Things[0]
		}
	}
	return certARN, clientID, nil
}

// explainResponse is the part of moat's TestAuthorization answer the
// command reads beyond the AWS shape: the server's own wire types.
type explainResponse struct {
	AuthResults []struct {
		MoatExplanations []control.Explanation `json:"moatExplanations"`
	} `json:"authResults"`
	MoatContext *control.SimulationContext `json:"moatContext"`
}

// printExplanation writes the human-readable explanation. doc fetches a
// policy version's document ("" if unavailable) to quote the statement.
func printExplanation(w io.Writer, sc *control.SimulationContext, e control.Explanation, doc func(name, version string) string) {
	fmt.Fprintf(w, "%s on %s\n", e.Action, e.Resource)
	thing := sc.ThingName
	if thing == "" {
		thing = "(none)"
	}
	fmt.Fprintf(w, "  certificate %s (%s), thing %s, client id %q\n", sc.CertificateID, sc.CertificateStatus, thing, sc.ClientID)
	var pols []string
	for _, p := range sc.Policies {
		pols = append(pols, p.PolicyName+" v"+p.PolicyVersionID)
	}
	if len(pols) == 0 {
		pols = []string{"(none attached)"}
	}
	fmt.Fprintf(w, "  policies: %s\n\n", strings.Join(pols, ", "))

	fmt.Fprintf(w, "decision: %s\n", e.AuthDecision)
	switch {
	case e.AuthDecision == "IMPLICIT_DENY":
		fmt.Fprintln(w, "  implicit deny: no statement matched, and nothing is allowed by default")
		var near []string
		for _, p := range sc.Policies {
			for i, st := range statementsFor(doc(p.PolicyName, p.PolicyVersionID), e.Action) {
				if st != "" {
					near = append(near, fmt.Sprintf("    %s v%s statement %d: %s", p.PolicyName, p.PolicyVersionID, i, st))
				}
			}
		}
		if len(near) > 0 {
			fmt.Fprintf(w, "  statements for %s, none of whose resources matched:\n%s\n", e.Action, strings.Join(near, "\n"))
		}
	case e.Statement != nil:
		effect := "Allow"
		if e.AuthDecision == "EXPLICIT_DENY" {
			effect = "Deny (an explicit Deny wins over every Allow)"
		}
		sid := ""
		if e.Sid != "" {
			sid = fmt.Sprintf(" (Sid %q)", e.Sid)
		}
		fmt.Fprintf(w, "  decided by: policy %s version %s, statement %d%s: %s\n", e.PolicyName, e.PolicyVersionID, *e.Statement, sid, effect)
		if st := statementText(doc(e.PolicyName, e.PolicyVersionID), *e.Statement); st != "" {
			fmt.Fprintf(w, "  statement:  %s\n", st)
		}
		for _, v := range e.Variables {
			fmt.Fprintf(w, "  with ${%s} = %q\n", v.Name, v.Value)
		}
	}
	if sc.CertificateStatus != "ACTIVE" {
		fmt.Fprintf(w, "  note: the certificate is %s, so the device cannot connect at all\n", sc.CertificateStatus)
	}
	if len(e.Unresolved) > 0 {
		fmt.Fprintln(w, "\nskipped (a variable had no value, so the statement did not apply):")
		for _, u := range e.Unresolved {
			fmt.Fprintf(w, "  policy %s version %s, statement %d: ${%s}\n", u.PolicyName, u.PolicyVersionID, u.Statement, u.Variable)
		}
	}
	fmt.Fprintln(w, "\nvariables as resolved for this connection:")
	width := 0
	for _, v := range sc.Variables {
		width = max(width, len(v.Name))
	}
	for _, v := range sc.Variables {
		val := fmt.Sprintf("%q", v.Value)
		if v.Value == "" {
			val = "(no value: statements using it do not apply)"
		}
		fmt.Fprintf(w, "  %-*s  %s\n", width, v.Name, val)
	}
}

// statementsFor returns, by index, the statements of a policy document
// whose Action names action (wildcards and case as policies match them),
// as compact JSON; "" for the others.
func statementsFor(doc, action string) []string {
	list := statementList(doc)
	out := make([]string, len(list))
	for i, raw := range list {
		var st struct{ Action json.RawMessage }
		if json.Unmarshal(raw, &st) != nil {
			continue
		}
		var actions []string
		if json.Unmarshal(st.Action, &actions) != nil {
			var one string
			if json.Unmarshal(st.Action, &one) != nil {
				continue
			}
			actions = []string{one}
		}
		for _, a := range actions {
			if ok, _ := path.Match(strings.ToLower(a), strings.ToLower(action)); ok {
				var b bytes.Buffer
				if json.Compact(&b, raw) == nil {
					out[i] = b.String()
				}
				break
			}
		}
	}
	return out
}

func statementList(doc string) []json.RawMessage {
	var d struct {
		Statement json.RawMessage
	}
	if doc == "" || json.Unmarshal([]byte(doc), &d) != nil {
		return nil
	}
	var list []json.RawMessage
	if json.Unmarshal(d.Statement, &list) != nil {
		list = []json.RawMessage{d.Statement}
	}
	return list
}

// statementText returns statement i of a policy document as compact JSON,
// or "".
func statementText(doc string, i int) string {
	list := statementList(doc)
	if i < 0 || i >= len(list) {
		return ""
	}
	var b bytes.Buffer
	if json.Compact(&b, list[i]) != nil {
		return ""
	}
	return b.String()
}
