package control_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"

	"github.com/moat-iot/moat/internal/moattest"
)

const policyARN = "arn:aws:iot:us-east-1:000000000000:policy/p"

func tag(k, v string) types.Tag { return types.Tag{Key: aws.String(k), Value: aws.String(v)} }

func tagsOf(t *testing.T, c *iot.Client, arn string) string {
	t.Helper()
	out, err := c.ListTagsForResource(context.Background(), &iot.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
	if err != nil {
		t.Fatalf("ListTagsForResource %s: %v", arn, err)
	}
	if out.NextToken != nil {
		t.Fatalf("unexpected nextToken %q", aws.ToString(out.NextToken))
	}
	var b strings.Builder
	for _, tg := range out.Tags {
		fmt.Fprintf(&b, "%s=%s;", aws.ToString(tg.Key), aws.ToString(tg.Value))
	}
	return b.String()
}

// TestTags_Policy checks tags given to CreatePolicy, TagResource adding and
// replacing, UntagResource, the key order of ListTagsForResource, and that
// deleting the policy deletes its tags.
func TestTags_Policy(t *testing.T) {
	srv := moattest.Start(t)
	c := srv.IoT()
	ctx := context.Background()
	if _, err := c.CreatePolicy(ctx, &iot.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(seedPolicy),
		Tags: []types.Tag{tag("team", "a"), tag("env", "dev")}}); err != nil {
		t.Fatalf("CreatePolicy with tags: %v", err)
	}
	if got := tagsOf(t, c, policyARN); got != "env=dev;team=a;" {
		t.Fatalf("tags = %s", got)
	}
	if _, err := c.TagResource(ctx, &iot.TagResourceInput{ResourceArn: aws.String(policyARN),
		Tags: []types.Tag{tag("env", "prod"), tag("cost center", "42"), {Key: aws.String("empty")}}}); err != nil {
		t.Fatalf("TagResource: %v", err)
	}
	if got := tagsOf(t, c, policyARN); got != "cost center=42;empty=;env=prod;team=a;" {
		t.Fatalf("tags = %s", got)
	}
	if _, err := c.UntagResource(ctx, &iot.UntagResourceInput{ResourceArn: aws.String(policyARN), TagKeys: []string{"team", "not-there"}}); err != nil {
		t.Fatalf("UntagResource: %v", err)
	}
	if got := tagsOf(t, c, policyARN); got != "cost center=42;empty=;env=prod;" {
		t.Fatalf("tags = %s", got)
	}
	if _, err := c.DeletePolicy(ctx, &iot.DeletePolicyInput{PolicyName: aws.String("p")}); err != nil {
		t.Fatal(err)
	}
	_, err := c.ListTagsForResource(ctx, &iot.ListTagsForResourceInput{ResourceArn: aws.String(policyARN)})
	apiErr(t, err, "ResourceNotFoundException", 404)
	if _, err := c.CreatePolicy(ctx, &iot.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(seedPolicy)}); err != nil {
		t.Fatal(err)
	}
	if got := tagsOf(t, c, policyARN); got != "" {
		t.Fatalf("a new policy of the same name has tags %s", got)
	}
}

// TestTags_Limits checks AWS's limits: 50 tags per resource
// (LimitExceededException, counting the tags already there), the key and
// value rules (InvalidRequestException); a refused call changes nothing.
func TestTags_Limits(t *testing.T) {
	srv := moattest.Start(t)
	c := srv.IoT()
	ctx := context.Background()
	if _, err := c.CreatePolicy(ctx, &iot.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(seedPolicy)}); err != nil {
		t.Fatal(err)
	}
	many := func(n int, prefix string) []types.Tag {
		var ts []types.Tag
		for i := range n {
			ts = append(ts, tag(fmt.Sprintf("%s%02d", prefix, i), "v"))
		}
		return ts
	}
	tagRes := func(ts []types.Tag) error {
		_, err := c.TagResource(ctx, &iot.TagResourceInput{ResourceArn: aws.String(policyARN), Tags: ts})
		return err
	}
	apiErr(t, tagRes(many(51, "k")), "LimitExceededException", 410)
	if err := tagRes(many(49, "k")); err != nil {
		t.Fatalf("49 tags: %v", err)
	}
	// 49 + 2 new keys = 51: refused as a whole.
	apiErr(t, tagRes(many(2, "new")), "LimitExceededException", 410)
	// Replacing existing keys does not count.
	if err := tagRes(append(many(2, "k"), tag("new", "v"))); err != nil {
		t.Fatalf("to exactly 50: %v", err)
	}

	bad := map[string][]types.Tag{
		"reserved prefix":  {tag("aws:owner", "x")},
		"reserved upper":   {tag("AWS:owner", "x")},
		"empty key":        {tag("", "x")},
		"long key":         {tag(strings.Repeat("k", 129), "x")},
		"long value":       {tag("k", strings.Repeat("v", 257))},
		"bad key char":     {tag("a*b", "x")},
		"key given twice":  {tag("k00", "x"), tag("k00", "y")},
		"valid then wrong": {tag("k01", "changed"), tag("aws:x", "y")},
	}
	for name, ts := range bad {
		t.Run(name, func(t *testing.T) {
			apiErr(t, tagRes(ts), "InvalidRequestException", 400)
		})
	}
	if got := tagsOf(t, c, policyARN); !strings.Contains(got, "k01=v;") || strings.Count(got, ";") != 50 {
		t.Fatalf("refused calls changed the tags: %s", got)
	}
	// The longest key and value are fine (replacing k00 keeps 50).
	if _, err := c.UntagResource(ctx, &iot.UntagResourceInput{ResourceArn: aws.String(policyARN), TagKeys: []string{"k00"}}); err != nil {
		t.Fatal(err)
	}
	if err := tagRes([]types.Tag{tag("ü"+strings.Repeat("k", 127), strings.Repeat("v", 256))}); err != nil {
		t.Fatalf("longest key and value: %v", err)
	}
	// UntagResource checks its keys too.
	_, err := c.UntagResource(ctx, &iot.UntagResourceInput{ResourceArn: aws.String(policyARN), TagKeys: []string{"aws:x"}})
	apiErr(t, err, "InvalidRequestException", 400)

	// CreatePolicy with bad tags creates no policy.
	_, err = c.CreatePolicy(ctx, &iot.CreatePolicyInput{PolicyName: aws.String("q"), PolicyDocument: aws.String(seedPolicy), Tags: []types.Tag{tag("aws:x", "y")}})
	apiErr(t, err, "InvalidRequestException", 400)
	_, err = c.GetPolicy(ctx, &iot.GetPolicyInput{PolicyName: aws.String("q")})
	apiErr(t, err, "ResourceNotFoundException", 404)
	_, err = c.CreatePolicy(ctx, &iot.CreatePolicyInput{PolicyName: aws.String("q"), PolicyDocument: aws.String(seedPolicy), Tags: many(51, "k")})
	apiErr(t, err, "InvalidRequestException", 400)
}

// TestTags_Resources checks which ARNs can be tagged: thing types and
// policies (thing groups too, see the groups tests); things and device
// certificates are not taggable in AWS IoT (InvalidRequestException);
// missing resources and AWS-taggable types moat does not have are
// ResourceNotFoundException.
func TestTags_Resources(t *testing.T) {
	srv := moattest.Start(t)
	c := srv.IoT()
	ctx := context.Background()
	if _, err := c.CreateThing(ctx, &iot.CreateThingInput{ThingName: aws.String("t")}); err != nil {
		t.Fatal(err)
	}
	kc, err := c.CreateKeysAndCertificate(ctx, &iot.CreateKeysAndCertificateInput{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateThingType(ctx, &iot.CreateThingTypeInput{ThingTypeName: aws.String("tt")}); err != nil {
		t.Fatal(err)
	}
	const base = "arn:aws:iot:us-east-1:000000000000:"
	if _, err := c.TagResource(ctx, &iot.TagResourceInput{ResourceArn: aws.String(base + "thingtype/tt"), Tags: []types.Tag{tag("k", "v")}}); err != nil {
		t.Fatalf("tag a thing type: %v", err)
	}
	if got := tagsOf(t, c, base+"thingtype/tt"); got != "k=v;" {
		t.Fatalf("tags = %s", got)
	}
	tests := []struct {
		arn  string
		code string
		st   int
	}{
		{base + "thing/t", "InvalidRequestException", 400},
		{aws.ToString(kc.CertificateArn), "InvalidRequestException", 400},
		{"not-an-arn", "InvalidRequestException", 400},
		{"arn:aws:s3:::bucket", "InvalidRequestException", 400},
		{"arn:aws:iot:eu-west-1:000000000000:policy/p", "InvalidRequestException", 400},
		{"arn:aws:iot:us-east-1:111111111111:policy/p", "InvalidRequestException", 400},
		{base + "policy/missing", "ResourceNotFoundException", 404},
		{base + "thingtype/missing", "ResourceNotFoundException", 404},
		{base + "thinggroup/missing", "ResourceNotFoundException", 404},
		{base + "rule/r", "ResourceNotFoundException", 404},
		{base + "cacert/" + strings.Repeat("a", 64), "ResourceNotFoundException", 404},
	}
	for _, tt := range tests {
		t.Run(tt.arn, func(t *testing.T) {
			_, err := c.TagResource(ctx, &iot.TagResourceInput{ResourceArn: aws.String(tt.arn), Tags: []types.Tag{tag("k", "v")}})
			apiErr(t, err, tt.code, tt.st)
			_, err = c.UntagResource(ctx, &iot.UntagResourceInput{ResourceArn: aws.String(tt.arn), TagKeys: []string{"k"}})
			apiErr(t, err, tt.code, tt.st)
			_, err = c.ListTagsForResource(ctx, &iot.ListTagsForResourceInput{ResourceArn: aws.String(tt.arn)})
			apiErr(t, err, tt.code, tt.st)
		})
	}
	// Missing members (the SDK would refuse to send these), a tag without
	// a key, and a nextToken moat never gave.
	raw := []struct{ method, path, body string }{
		{http.MethodPost, "/tags", `{"resourceArn":"` + base + `thingtype/tt"}`},
		{http.MethodPost, "/tags", `{"resourceArn":"` + base + `thingtype/tt","tags":[{"Value":"v"}]}`},
		{http.MethodPost, "/tags", `{"tags":[{"Key":"k","Value":"v"}]}`},
		{http.MethodPost, "/untag", `{"resourceArn":"` + base + `thingtype/tt"}`},
		{http.MethodGet, "/tags?resourceArn=" + url.QueryEscape(base+"thingtype/tt") + "&nextToken=abc", ""},
		{http.MethodGet, "/tags", ""},
	}
	for _, r := range raw {
		var body []byte
		if r.body != "" {
			body = []byte(r.body)
		}
		resp, out := srv.Do(t, r.method, r.path, body, "iot", nil)
		if resp.StatusCode != 400 || resp.Header.Get("X-Amzn-Errortype") != "InvalidRequestException" {
			t.Fatalf("%s %s %s: %d %s", r.method, r.path, r.body, resp.StatusCode, out)
		}
	}
	if got := tagsOf(t, c, base+"thingtype/tt"); got != "k=v;" {
		t.Fatalf("refused calls changed the tags: %s", got)
	}
}

// TestTags_ThingGroup checks tags given to CreateThingGroup, TagResource on
// a group, and that deleting the group deletes its tags.
func TestTags_ThingGroup(t *testing.T) {
	srv := moattest.Start(t)
	c := srv.IoT()
	ctx := context.Background()
	const groupARN = "arn:aws:iot:us-east-1:000000000000:thinggroup/g"
	if _, err := c.CreateThingGroup(ctx, &iot.CreateThingGroupInput{ThingGroupName: aws.String("g"), Tags: []types.Tag{tag("env", "dev")}}); err != nil {
		t.Fatalf("CreateThingGroup: %v", err)
	}
	if _, err := c.TagResource(ctx, &iot.TagResourceInput{ResourceArn: aws.String(groupARN), Tags: []types.Tag{tag("team", "a")}}); err != nil {
		t.Fatalf("TagResource: %v", err)
	}
	if got := tagsOf(t, c, groupARN); got != "env=dev;team=a;" {
		t.Fatalf("tags = %s", got)
	}
	if _, err := c.DeleteThingGroup(ctx, &iot.DeleteThingGroupInput{ThingGroupName: aws.String("g")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateThingGroup(ctx, &iot.CreateThingGroupInput{ThingGroupName: aws.String("g")}); err != nil {
		t.Fatal(err)
	}
	if got := tagsOf(t, c, groupARN); got != "" {
		t.Fatalf("a new group of the same name has tags %s", got)
	}
}
