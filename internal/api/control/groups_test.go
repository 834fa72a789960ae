package control_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"

	"github.com/moat-iot/moat/internal/moattest"
)

const groupARN = "arn:aws:iot:us-east-1:000000000000:thinggroup/"

func mkGroup(t *testing.T, c *iot.Client, name, parent string) *iot.CreateThingGroupOutput {
	t.Helper()
	in := &iot.CreateThingGroupInput{ThingGroupName: aws.String(name)}
	if parent != "" {
		in.ParentGroupName = aws.String(parent)
	}
	out, err := c.CreateThingGroup(context.Background(), in)
	if err != nil {
		t.Fatalf("CreateThingGroup %s: %v", name, err)
	}
	return out
}

func mkThing(t *testing.T, c *iot.Client, name string, attrs map[string]string) {
	t.Helper()
	in := &iot.CreateThingInput{ThingName: aws.String(name)}
	if attrs != nil {
		in.AttributePayload = &types.AttributePayload{Attributes: attrs}
	}
	if _, err := c.CreateThing(context.Background(), in); err != nil {
		t.Fatalf("CreateThing %s: %v", name, err)
	}
}

func groupNamesOf(gs []types.GroupNameAndArn) []string {
	var out []string
	for _, g := range gs {
		out = append(out, aws.ToString(g.GroupName))
	}
	return out
}

// TestThingGroups_CreateDescribe checks create (idempotent, with a parent,
// properties and tags) and Describe's metadata.
func TestThingGroups_CreateDescribe(t *testing.T) {
	srv := moattest.Start(t)
	c := srv.IoT()
	ctx := context.Background()

	root := mkGroup(t, c, "site", "")
	if aws.ToString(root.ThingGroupArn) != groupARN+"site" || aws.ToString(root.ThingGroupId) == "" {
		t.Fatalf("CreateThingGroup = %+v", root)
	}
	mkGroup(t, c, "building", "site")
	props := &types.ThingGroupProperties{ThingGroupDescription: aws.String("floor one"),
		AttributePayload: &types.AttributePayload{Attributes: map[string]string{"level": "1"}}}
	in := &iot.CreateThingGroupInput{ThingGroupName: aws.String("floor-1"), ParentGroupName: aws.String("building"),
		ThingGroupProperties: props, Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("ops")}}}
	first, err := c.CreateThingGroup(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	// identical input: the same group
	again, err := c.CreateThingGroup(ctx, in)
	if err != nil || aws.ToString(again.ThingGroupId) != aws.ToString(first.ThingGroupId) {
		t.Fatalf("idempotent create: %v %v", again, err)
	}
	// another configuration: ResourceAlreadyExistsException
	_, err = c.CreateThingGroup(ctx, &iot.CreateThingGroupInput{ThingGroupName: aws.String("floor-1")})
	apiErr(t, err, "ResourceAlreadyExistsException", 409)

	d, err := c.DescribeThingGroup(ctx, &iot.DescribeThingGroupInput{ThingGroupName: aws.String("floor-1")})
	if err != nil {
		t.Fatal(err)
	}
	if d.Version != 1 || aws.ToString(d.ThingGroupProperties.ThingGroupDescription) != "floor one" ||
		d.ThingGroupProperties.AttributePayload.Attributes["level"] != "1" ||
		aws.ToString(d.ThingGroupMetadata.ParentGroupName) != "building" || d.ThingGroupMetadata.CreationDate == nil {
		t.Fatalf("DescribeThingGroup = %+v", d)
	}
	var chain []string
	for _, g := range d.ThingGroupMetadata.RootToParentThingGroups {
		chain = append(chain, aws.ToString(g.GroupName)+"="+aws.ToString(g.GroupArn))
	}
	if want := []string{"site=" + groupARN + "site", "building=" + groupARN + "building"}; !slices.Equal(chain, want) {
		t.Fatalf("rootToParentThingGroups = %v, want %v", chain, want)
	}
	if d.Status != "" || d.QueryString != nil {
		t.Fatalf("a static group has dynamic fields: %+v", d)
	}
	tags, err := c.ListTagsForResource(ctx, &iot.ListTagsForResourceInput{ResourceArn: first.ThingGroupArn})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Value) != "ops" {
		t.Fatalf("tags = %+v, %v", tags, err)
	}

	// errors
	_, err = c.DescribeThingGroup(ctx, &iot.DescribeThingGroupInput{ThingGroupName: aws.String("nope")})
	apiErr(t, err, "ResourceNotFoundException", 404)
	_, err = c.CreateThingGroup(ctx, &iot.CreateThingGroupInput{ThingGroupName: aws.String("orphan"), ParentGroupName: aws.String("nope")})
	apiErr(t, err, "InvalidRequestException", 400)
	_, err = c.CreateThingGroup(ctx, &iot.CreateThingGroupInput{ThingGroupName: aws.String("bad name")})
	apiErr(t, err, "InvalidRequestException", 400)
	many := map[string]string{}
	for i := range 51 {
		many["a"+strings.Repeat("x", i)] = "v"
	}
	_, err = c.CreateThingGroup(ctx, &iot.CreateThingGroupInput{ThingGroupName: aws.String("fat"),
		ThingGroupProperties: &types.ThingGroupProperties{AttributePayload: &types.AttributePayload{Attributes: many}}})
	apiErr(t, err, "InvalidRequestException", 400)
}

// TestThingGroups_Depth checks the 7-level hierarchy limit.
func TestThingGroups_Depth(t *testing.T) {
	srv := moattest.Start(t)
	c := srv.IoT()
	parent := ""
	for i := 1; i <= 7; i++ {
		name := "level-" + string(rune('0'+i))
		mkGroup(t, c, name, parent)
		parent = name
	}
	_, err := c.CreateThingGroup(context.Background(), &iot.CreateThingGroupInput{ThingGroupName: aws.String("level-8"), ParentGroupName: aws.String(parent)})
	apiErr(t, err, "InvalidRequestException", 400)
}

// TestThingGroups_UpdateDelete checks attribute merge and replace, version
// conflicts, and that a group with children cannot be deleted.
func TestThingGroups_UpdateDelete(t *testing.T) {
	srv := moattest.Start(t)
	c := srv.IoT()
	ctx := context.Background()
	_, err := c.CreateThingGroup(ctx, &iot.CreateThingGroupInput{ThingGroupName: aws.String("g"),
		ThingGroupProperties: &types.ThingGroupProperties{AttributePayload: &types.AttributePayload{Attributes: map[string]string{"a": "1", "b": "2"}}}})
	if err != nil {
		t.Fatal(err)
	}
	// merge: c added, a removed, b kept
	up, err := c.UpdateThingGroup(ctx, &iot.UpdateThingGroupInput{ThingGroupName: aws.String("g"), ExpectedVersion: aws.Int64(1),
		ThingGroupProperties: &types.ThingGroupProperties{ThingGroupDescription: aws.String("d"),
			AttributePayload: &types.AttributePayload{Attributes: map[string]string{"a": "", "c": "3"}, Merge: true}}})
	if err != nil || up.Version != 2 {
		t.Fatalf("UpdateThingGroup = %+v, %v", up, err)
	}
	d, _ := c.DescribeThingGroup(ctx, &iot.DescribeThingGroupInput{ThingGroupName: aws.String("g")})
	if attrs := d.ThingGroupProperties.AttributePayload.Attributes; len(attrs) != 2 || attrs["b"] != "2" || attrs["c"] != "3" {
		t.Fatalf("merged attributes = %v", attrs)
	}
	// replace
	if _, err := c.UpdateThingGroup(ctx, &iot.UpdateThingGroupInput{ThingGroupName: aws.String("g"),
		ThingGroupProperties: &types.ThingGroupProperties{AttributePayload: &types.AttributePayload{Attributes: map[string]string{"z": "9"}}}}); err != nil {
		t.Fatal(err)
	}
	d, _ = c.DescribeThingGroup(ctx, &iot.DescribeThingGroupInput{ThingGroupName: aws.String("g")})
	if attrs := d.ThingGroupProperties.AttributePayload.Attributes; len(attrs) != 1 || attrs["z"] != "9" || d.Version != 3 ||
		aws.ToString(d.ThingGroupProperties.ThingGroupDescription) != "d" {
		t.Fatalf("after replace: %+v", d)
	}
	_, err = c.UpdateThingGroup(ctx, &iot.UpdateThingGroupInput{ThingGroupName: aws.String("g"), ExpectedVersion: aws.Int64(1), ThingGroupProperties: &types.ThingGroupProperties{}})
	apiErr(t, err, "VersionConflictException", 409)
	_, err = c.UpdateThingGroup(ctx, &iot.UpdateThingGroupInput{ThingGroupName: aws.String("nope"), ThingGroupProperties: &types.ThingGroupProperties{}})
	apiErr(t, err, "ResourceNotFoundException", 404)

	mkGroup(t, c, "child", "g")
	_, err = c.DeleteThingGroup(ctx, &iot.DeleteThingGroupInput{ThingGroupName: aws.String("g")})
	apiErr(t, err, "InvalidRequestException", 400)
	_, err = c.DeleteThingGroup(ctx, &iot.DeleteThingGroupInput{ThingGroupName: aws.String("child"), ExpectedVersion: aws.Int64(7)})
	apiErr(t, err, "VersionConflictException", 409)
	for _, g := range []string{"child", "g", "never-existed"} {
		if _, err := c.DeleteThingGroup(ctx, &iot.DeleteThingGroupInput{ThingGroupName: aws.String(g)}); err != nil {
			t.Fatalf("DeleteThingGroup %s: %v", g, err)
		}
	}
	_, err = c.DescribeThingGroup(ctx, &iot.DescribeThingGroupInput{ThingGroupName: aws.String("g")})
	apiErr(t, err, "ResourceNotFoundException", 404)
}

// TestThingGroups_List checks ListThingGroups' parent, prefix, recursive
// and paging.
func TestThingGroups_List(t *testing.T) {
	srv := moattest.Start(t)
	c := srv.IoT()
	ctx := context.Background()
	mkGroup(t, c, "a", "")
	mkGroup(t, c, "a1", "a")
	mkGroup(t, c, "a2", "a")
	mkGroup(t, c, "a1x", "a1")
	mkGroup(t, c, "b", "")
	list := func(in *iot.ListThingGroupsInput) []string {
		t.Helper()
		var all []string
		p := iot.NewListThingGroupsPaginator(c, in)
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, groupNamesOf(out.ThingGroups)...)
		}
		return all
	}
	cases := []struct {
		name string
		in   iot.ListThingGroupsInput
		want []string
	}{
		{"all", iot.ListThingGroupsInput{}, []string{"a", "a1", "a1x", "a2", "b"}},
		{"roots", iot.ListThingGroupsInput{Recursive: aws.Bool(false)}, []string{"a", "b"}},
		{"children", iot.ListThingGroupsInput{ParentGroup: aws.String("a"), Recursive: aws.Bool(false)}, []string{"a1", "a2"}},
		{"descendants", iot.ListThingGroupsInput{ParentGroup: aws.String("a"), Recursive: aws.Bool(true), MaxResults: aws.Int32(1)}, []string{"a1", "a1x", "a2"}},
		{"prefix", iot.ListThingGroupsInput{NamePrefixFilter: aws.String("a1"), MaxResults: aws.Int32(1)}, []string{"a1", "a1x"}},
	}
	for _, tc := range cases {
		if got := list(&tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	_, err := c.ListThingGroups(ctx, &iot.ListThingGroupsInput{ParentGroup: aws.String("nope")})
	apiErr(t, err, "ResourceNotFoundException", 404)
}

// TestThingGroups_Membership checks adding and removing things by name
// and ARN, the recursive listings, UpdateThingGroupsForThing, and the
// 10-group limit.
func TestThingGroups_Membership(t *testing.T) {
	srv := moattest.Start(t)
	c := srv.IoT()
	ctx := context.Background()
	mkGroup(t, c, "p", "")
	mkGroup(t, c, "q", "p")
	mkThing(t, c, "t1", nil)
	mkThing(t, c, "t2", nil)
	if _, err := c.AddThingToThingGroup(ctx, &iot.AddThingToThingGroupInput{ThingGroupName: aws.String("p"), ThingName: aws.String("t1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddThingToThingGroup(ctx, &iot.AddThingToThingGroupInput{ThingGroupArn: aws.String(groupARN + "q"),
		ThingArn: aws.String("arn:aws:iot:us-east-1:000000000000:thing/t2")}); err != nil {
		t.Fatal(err)
	}
	// twice: fine
	if _, err := c.AddThingToThingGroup(ctx, &iot.AddThingToThingGroupInput{ThingGroupName: aws.String("q"), ThingName: aws.String("t2")}); err != nil {
		t.Fatal(err)
	}
	things := func(g string, rec bool) []string {
		out, err := c.ListThingsInThingGroup(ctx, &iot.ListThingsInThingGroupInput{ThingGroupName: aws.String(g), Recursive: rec})
		if err != nil {
			t.Fatal(err)
		}
		return out.Things
	}
	if got := things("p", false); !slices.Equal(got, []string{"t1"}) {
		t.Fatalf("things in p = %v", got)
	}
	if got := things("p", true); !slices.Equal(got, []string{"t1", "t2"}) {
		t.Fatalf("things in p, recursive = %v", got)
	}
	fg, err := c.ListThingGroupsForThing(ctx, &iot.ListThingGroupsForThingInput{ThingName: aws.String("t2")})
	if err != nil || !slices.Equal(groupNamesOf(fg.ThingGroups), []string{"q"}) || aws.ToString(fg.ThingGroups[0].GroupArn) != groupARN+"q" {
		t.Fatalf("ListThingGroupsForThing = %+v, %v", fg, err)
	}
	// move t2 from q to p in one call
	if _, err := c.UpdateThingGroupsForThing(ctx, &iot.UpdateThingGroupsForThingInput{ThingName: aws.String("t2"),
		ThingGroupsToAdd: []string{"p"}, ThingGroupsToRemove: []string{"q"}}); err != nil {
		t.Fatal(err)
	}
	if got := things("p", false); !slices.Equal(got, []string{"t1", "t2"}) {
		t.Fatalf("after UpdateThingGroupsForThing: %v", got)
	}
	if _, err := c.RemoveThingFromThingGroup(ctx, &iot.RemoveThingFromThingGroupInput{ThingGroupName: aws.String("p"), ThingName: aws.String("t1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RemoveThingFromThingGroup(ctx, &iot.RemoveThingFromThingGroupInput{ThingGroupName: aws.String("p"), ThingName: aws.String("t1")}); err != nil {
		t.Fatalf("removing a non-member: %v", err)
	}
	if got := things("p", false); !slices.Equal(got, []string{"t2"}) {
		t.Fatalf("after remove: %v", got)
	}

	// errors
	_, err = c.AddThingToThingGroup(ctx, &iot.AddThingToThingGroupInput{ThingGroupName: aws.String("nope"), ThingName: aws.String("t1")})
	apiErr(t, err, "ResourceNotFoundException", 404)
	_, err = c.AddThingToThingGroup(ctx, &iot.AddThingToThingGroupInput{ThingGroupName: aws.String("p"), ThingName: aws.String("nope")})
	apiErr(t, err, "ResourceNotFoundException", 404)
	_, err = c.AddThingToThingGroup(ctx, &iot.AddThingToThingGroupInput{ThingName: aws.String("t1")})
	apiErr(t, err, "InvalidRequestException", 400)
	_, err = c.AddThingToThingGroup(ctx, &iot.AddThingToThingGroupInput{ThingGroupArn: aws.String("arn:aws:iot:eu-west-1:1:thinggroup/p"), ThingName: aws.String("t1")})
	apiErr(t, err, "InvalidRequestException", 400)
	_, err = c.ListThingsInThingGroup(ctx, &iot.ListThingsInThingGroupInput{ThingGroupName: aws.String("nope")})
	apiErr(t, err, "ResourceNotFoundException", 404)
	_, err = c.ListThingGroupsForThing(ctx, &iot.ListThingGroupsForThingInput{ThingName: aws.String("nope")})
	apiErr(t, err, "ResourceNotFoundException", 404)
	_, err = c.UpdateThingGroupsForThing(ctx, &iot.UpdateThingGroupsForThingInput{ThingName: aws.String("t1"), ThingGroupsToAdd: []string{"p", "nope"}})
	apiErr(t, err, "ResourceNotFoundException", 404)
	if got := things("p", false); !slices.Equal(got, []string{"t2"}) {
		t.Fatalf("a failed UpdateThingGroupsForThing changed memberships: %v", got)
	}

	// at most 10 groups per thing
	for i := range 10 {
		g := "many-" + string(rune('a'+i))
		mkGroup(t, c, g, "")
		if _, err := c.AddThingToThingGroup(ctx, &iot.AddThingToThingGroupInput{ThingGroupName: aws.String(g), ThingName: aws.String("t1")}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = c.AddThingToThingGroup(ctx, &iot.AddThingToThingGroupInput{ThingGroupName: aws.String("p"), ThingName: aws.String("t1")})
	apiErr(t, err, "InvalidRequestException", 400)

	// deleting a group removes its memberships
	if _, err := c.DeleteThingGroup(ctx, &iot.DeleteThingGroupInput{ThingGroupName: aws.String("many-a")}); err != nil {
		t.Fatal(err)
	}
	fg, _ = c.ListThingGroupsForThing(ctx, &iot.ListThingGroupsForThingInput{ThingName: aws.String("t1")})
	if slices.Contains(groupNamesOf(fg.ThingGroups), "many-a") || len(fg.ThingGroups) != 9 {
		t.Fatalf("after delete: %v", groupNamesOf(fg.ThingGroups))
	}
}

// TestThingGroups_Policies checks policies attached to groups: targets,
// recursive ListAttachedPolicies, ListTargetsForPolicy, and the errors.
func TestThingGroups_Policies(t *testing.T) {
	srv := moattest.Start(t)
	c := srv.IoT()
	ctx := context.Background()
	mkGroup(t, c, "top", "")
	mkGroup(t, c, "mid", "top")
	for _, p := range []string{"top-pol", "mid-pol"} {
		if _, err := c.CreatePolicy(ctx, &iot.CreatePolicyInput{PolicyName: aws.String(p), PolicyDocument: aws.String(seedPolicy)}); err != nil {
			t.Fatal(err)
		}
	}
	attach := func(p, g string) error {
		_, err := c.AttachPolicy(ctx, &iot.AttachPolicyInput{PolicyName: aws.String(p), Target: aws.String(groupARN + g)})
		return err
	}
	if err := attach("top-pol", "top"); err != nil {
		t.Fatal(err)
	}
	if err := attach("mid-pol", "mid"); err != nil {
		t.Fatal(err)
	}
	attached := func(g string, rec bool) []string {
		out, err := c.ListAttachedPolicies(ctx, &iot.ListAttachedPoliciesInput{Target: aws.String(groupARN + g), Recursive: rec})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, p := range out.Policies {
			names = append(names, aws.ToString(p.PolicyName))
		}
		return names
	}
	if got := attached("mid", false); !slices.Equal(got, []string{"mid-pol"}) {
		t.Fatalf("attached to mid = %v", got)
	}
	if got := attached("mid", true); !slices.Equal(got, []string{"mid-pol", "top-pol"}) {
		t.Fatalf("attached to mid, recursive = %v", got)
	}
	tg, err := c.ListTargetsForPolicy(ctx, &iot.ListTargetsForPolicyInput{PolicyName: aws.String("top-pol")})
	if err != nil || !slices.Equal(tg.Targets, []string{groupARN + "top"}) {
		t.Fatalf("ListTargetsForPolicy = %+v, %v", tg, err)
	}
	apiErr(t, attach("top-pol", "nope"), "ResourceNotFoundException", 404)
	// a policy attached to a group cannot be deleted
	_, err = c.DeletePolicy(ctx, &iot.DeletePolicyInput{PolicyName: aws.String("top-pol")})
	apiErr(t, err, "DeleteConflictException", 409)
	// detach, then the listing is empty
	if _, err := c.DetachPolicy(ctx, &iot.DetachPolicyInput{PolicyName: aws.String("mid-pol"), Target: aws.String(groupARN + "mid")}); err != nil {
		t.Fatal(err)
	}
	if got := attached("mid", false); len(got) != 0 {
		t.Fatalf("after detach: %v", got)
	}
	// deleting a group drops its attachments, so the policy can go
	if _, err := c.DeleteThingGroup(ctx, &iot.DeleteThingGroupInput{ThingGroupName: aws.String("mid")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteThingGroup(ctx, &iot.DeleteThingGroupInput{ThingGroupName: aws.String("top")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeletePolicy(ctx, &iot.DeletePolicyInput{PolicyName: aws.String("top-pol")}); err != nil {
		t.Fatalf("DeletePolicy after its group was deleted: %v", err)
	}
}
