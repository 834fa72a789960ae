package control_test

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"

	"github.com/moat-iot/moat/internal/moattest"
)

// TestDynamicThingGroups checks a dynamic group's life: membership built on
// create, kept current as things are created, updated and change static
// groups, rebuilt when the query changes; manual changes and policies are
// refused; and the operation errors.
func TestDynamicThingGroups(t *testing.T) {
	srv := moattest.Start(t)
	c := srv.IoT()
	ctx := context.Background()
	mkThing(t, c, "lamp-1", map[string]string{"temp": "70"})
	mkThing(t, c, "lamp-2", map[string]string{"temp": "50"})
	mkThing(t, c, "fan-1", map[string]string{"temp": "90"})
	members := func(g string) []string {
		t.Helper()
		out, err := c.ListThingsInThingGroup(ctx, &iot.ListThingsInThingGroupInput{ThingGroupName: aws.String(g)})
		if err != nil {
			t.Fatal(err)
		}
		return out.Things
	}

	cr, err := c.CreateDynamicThingGroup(ctx, &iot.CreateDynamicThingGroupInput{ThingGroupName: aws.String("hot-lamps"),
		QueryString: aws.String("thingName:lamp* AND attributes.temp>60")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(cr.IndexName) != "AWS_Things" || aws.ToString(cr.QueryVersion) != "2017-09-30" || aws.ToString(cr.ThingGroupArn) != groupARN+"hot-lamps" {
		t.Fatalf("CreateDynamicThingGroup = %+v", cr)
	}
	d, err := c.DescribeThingGroup(ctx, &iot.DescribeThingGroupInput{ThingGroupName: aws.String("hot-lamps")})
	if err != nil || d.Status != types.DynamicGroupStatusActive || aws.ToString(d.QueryString) != "thingName:lamp* AND attributes.temp>60" {
		t.Fatalf("DescribeThingGroup = %+v, %v", d, err)
	}
	if got := members("hot-lamps"); !slices.Equal(got, []string{"lamp-1"}) {
		t.Fatalf("built membership = %v", got)
	}
	// a new thing that matches joins
	mkThing(t, c, "lamp-3", map[string]string{"temp": "61"})
	// an updated thing that now matches joins, one that no longer does leaves
	if _, err := c.UpdateThing(ctx, &iot.UpdateThingInput{ThingName: aws.String("lamp-2"),
		AttributePayload: &types.AttributePayload{Attributes: map[string]string{"temp": "65"}, Merge: true}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateThing(ctx, &iot.UpdateThingInput{ThingName: aws.String("lamp-1"),
		AttributePayload: &types.AttributePayload{Attributes: map[string]string{"temp": "20"}, Merge: true}}); err != nil {
		t.Fatal(err)
	}
	if got := members("hot-lamps"); !slices.Equal(got, []string{"lamp-2", "lamp-3"}) {
		t.Fatalf("membership after thing changes = %v", got)
	}
	fg, _ := c.ListThingGroupsForThing(ctx, &iot.ListThingGroupsForThingInput{ThingName: aws.String("lamp-3")})
	if !slices.Equal(groupNamesOf(fg.ThingGroups), []string{"hot-lamps"}) {
		t.Fatalf("ListThingGroupsForThing = %v", groupNamesOf(fg.ThingGroups))
	}

	// a query over static membership follows AddThingToThingGroup
	mkGroup(t, c, "kitchen", "")
	if _, err := c.CreateDynamicThingGroup(ctx, &iot.CreateDynamicThingGroupInput{ThingGroupName: aws.String("kitchen-fans"),
		QueryString: aws.String("thingGroupNames:kitchen AND NOT thingName:lamp*")}); err != nil {
		t.Fatal(err)
	}
	if got := members("kitchen-fans"); len(got) != 0 {
		t.Fatalf("kitchen-fans = %v", got)
	}
	if _, err := c.AddThingToThingGroup(ctx, &iot.AddThingToThingGroupInput{ThingGroupName: aws.String("kitchen"), ThingName: aws.String("fan-1")}); err != nil {
		t.Fatal(err)
	}
	if got := members("kitchen-fans"); !slices.Equal(got, []string{"fan-1"}) {
		t.Fatalf("kitchen-fans after add = %v", got)
	}

	// a new query rebuilds; expectedVersion is checked
	up, err := c.UpdateDynamicThingGroup(ctx, &iot.UpdateDynamicThingGroupInput{ThingGroupName: aws.String("hot-lamps"), ExpectedVersion: aws.Int64(1),
		QueryString: aws.String("attributes.temp:[60 TO 100]"), ThingGroupProperties: &types.ThingGroupProperties{ThingGroupDescription: aws.String("warm")}})
	if err != nil || up.Version != 2 {
		t.Fatalf("UpdateDynamicThingGroup = %+v, %v", up, err)
	}
	if got := members("hot-lamps"); !slices.Equal(got, []string{"fan-1", "lamp-2", "lamp-3"}) {
		t.Fatalf("rebuilt membership = %v", got)
	}
	_, err = c.UpdateDynamicThingGroup(ctx, &iot.UpdateDynamicThingGroupInput{ThingGroupName: aws.String("hot-lamps"), ExpectedVersion: aws.Int64(1),
		ThingGroupProperties: &types.ThingGroupProperties{}})
	apiErr(t, err, "VersionConflictException", 409)
	_, err = c.UpdateDynamicThingGroup(ctx, &iot.UpdateDynamicThingGroupInput{ThingGroupName: aws.String("hot-lamps"),
		QueryString: aws.String("attributes.temp>"), ThingGroupProperties: &types.ThingGroupProperties{}})
	apiErr(t, err, "InvalidQueryException", 400)
	_, err = c.UpdateDynamicThingGroup(ctx, &iot.UpdateDynamicThingGroupInput{ThingGroupName: aws.String("kitchen"),
		QueryString: aws.String("thingName:x"), ThingGroupProperties: &types.ThingGroupProperties{}})
	apiErr(t, err, "InvalidRequestException", 400)
	_, err = c.UpdateDynamicThingGroup(ctx, &iot.UpdateDynamicThingGroupInput{ThingGroupName: aws.String("nope"), ThingGroupProperties: &types.ThingGroupProperties{}})
	apiErr(t, err, "ResourceNotFoundException", 404)

	// manual membership changes, children and policies are refused
	_, err = c.AddThingToThingGroup(ctx, &iot.AddThingToThingGroupInput{ThingGroupName: aws.String("hot-lamps"), ThingName: aws.String("lamp-1")})
	apiErr(t, err, "InvalidRequestException", 400)
	_, err = c.RemoveThingFromThingGroup(ctx, &iot.RemoveThingFromThingGroupInput{ThingGroupName: aws.String("hot-lamps"), ThingName: aws.String("lamp-2")})
	apiErr(t, err, "InvalidRequestException", 400)
	_, err = c.CreateThingGroup(ctx, &iot.CreateThingGroupInput{ThingGroupName: aws.String("sub"), ParentGroupName: aws.String("hot-lamps")})
	apiErr(t, err, "InvalidRequestException", 400)
	if _, err := c.CreatePolicy(ctx, &iot.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(seedPolicy)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.AttachPolicy(ctx, &iot.AttachPolicyInput{PolicyName: aws.String("p"), Target: aws.String(groupARN + "hot-lamps")})
	apiErr(t, err, "InvalidRequestException", 400)

	// create errors
	_, err = c.CreateDynamicThingGroup(ctx, &iot.CreateDynamicThingGroupInput{ThingGroupName: aws.String("bad"), QueryString: aws.String("thingName:a thingName:b")})
	apiErr(t, err, "InvalidQueryException", 400)
	_, err = c.CreateDynamicThingGroup(ctx, &iot.CreateDynamicThingGroupInput{ThingGroupName: aws.String("bad"), QueryString: aws.String("shadow.reported.x:1")})
	apiErr(t, err, "InvalidQueryException", 400)
	_, err = c.CreateDynamicThingGroup(ctx, &iot.CreateDynamicThingGroupInput{ThingGroupName: aws.String("bad"), QueryString: aws.String("thingName:a"), IndexName: aws.String("AWS_Other")})
	apiErr(t, err, "ResourceNotFoundException", 404)
	_, err = c.CreateDynamicThingGroup(ctx, &iot.CreateDynamicThingGroupInput{ThingGroupName: aws.String("bad"), QueryString: aws.String("thingName:a"), QueryVersion: aws.String("2099-01-01")})
	apiErr(t, err, "InvalidRequestException", 400)
	_, err = c.CreateDynamicThingGroup(ctx, &iot.CreateDynamicThingGroupInput{ThingGroupName: aws.String("kitchen"), QueryString: aws.String("thingName:a")})
	apiErr(t, err, "ResourceAlreadyExistsException", 409)

	// delete: only with the dynamic operation; memberships go with it
	_, err = c.DeleteThingGroup(ctx, &iot.DeleteThingGroupInput{ThingGroupName: aws.String("hot-lamps")})
	apiErr(t, err, "InvalidRequestException", 400)
	_, err = c.DeleteDynamicThingGroup(ctx, &iot.DeleteDynamicThingGroupInput{ThingGroupName: aws.String("kitchen")})
	apiErr(t, err, "InvalidRequestException", 400)
	_, err = c.DeleteDynamicThingGroup(ctx, &iot.DeleteDynamicThingGroupInput{ThingGroupName: aws.String("hot-lamps"), ExpectedVersion: aws.Int64(1)})
	apiErr(t, err, "VersionConflictException", 409)
	if _, err := c.DeleteDynamicThingGroup(ctx, &iot.DeleteDynamicThingGroupInput{ThingGroupName: aws.String("hot-lamps")}); err != nil {
		t.Fatal(err)
	}
	fg, _ = c.ListThingGroupsForThing(ctx, &iot.ListThingGroupsForThingInput{ThingName: aws.String("lamp-3")})
	if len(fg.ThingGroups) != 0 {
		t.Fatalf("groups of lamp-3 after delete = %v", groupNamesOf(fg.ThingGroups))
	}
	// a thing changed after the delete joins nothing
	if _, err := c.UpdateThing(ctx, &iot.UpdateThingInput{ThingName: aws.String("lamp-3"),
		AttributePayload: &types.AttributePayload{Attributes: map[string]string{"temp": "62"}, Merge: true}}); err != nil {
		t.Fatal(err)
	}
	fg, _ = c.ListThingGroupsForThing(ctx, &iot.ListThingGroupsForThingInput{ThingName: aws.String("lamp-3")})
	if len(fg.ThingGroups) != 0 {
		t.Fatalf("groups of lamp-3 after an update = %v", groupNamesOf(fg.ThingGroups))
	}
	if _, err := c.DeleteDynamicThingGroup(ctx, &iot.DeleteDynamicThingGroupInput{ThingGroupName: aws.String("never-existed")}); err != nil {
		t.Fatal(err)
	}
}

// TestDynamicThingGroups_Override checks overrideDynamicGroups: a thing in
// the maximum of 10 groups, one of them dynamic, leaves the dynamic one to
// join a static group.
func TestDynamicThingGroups_Override(t *testing.T) {
	srv := moattest.Start(t)
	c := srv.IoT()
	ctx := context.Background()
	mkThing(t, c, "t", map[string]string{"k": "v"})
	if _, err := c.CreateDynamicThingGroup(ctx, &iot.CreateDynamicThingGroupInput{ThingGroupName: aws.String("dyn"), QueryString: aws.String("attributes.k:v")}); err != nil {
		t.Fatal(err)
	}
	for i := range 9 {
		g := "s" + string(rune('a'+i))
		mkGroup(t, c, g, "")
		if _, err := c.AddThingToThingGroup(ctx, &iot.AddThingToThingGroupInput{ThingGroupName: aws.String(g), ThingName: aws.String("t")}); err != nil {
			t.Fatal(err)
		}
	}
	mkGroup(t, c, "tenth", "")
	_, err := c.AddThingToThingGroup(ctx, &iot.AddThingToThingGroupInput{ThingGroupName: aws.String("tenth"), ThingName: aws.String("t")})
	apiErr(t, err, "InvalidRequestException", 400)
	if _, err := c.AddThingToThingGroup(ctx, &iot.AddThingToThingGroupInput{ThingGroupName: aws.String("tenth"), ThingName: aws.String("t"), OverrideDynamicGroups: true}); err != nil {
		t.Fatal(err)
	}
	fg, _ := c.ListThingGroupsForThing(ctx, &iot.ListThingGroupsForThingInput{ThingName: aws.String("t"), MaxResults: aws.Int32(100)})
	got := groupNamesOf(fg.ThingGroups)
	if len(got) != 10 || slices.Contains(got, "dyn") || !slices.Contains(got, "tenth") {
		t.Fatalf("groups = %v", got)
	}
}
