package control_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"

	"github.com/moat-iot/moat/internal/config"
	"github.com/moat-iot/moat/internal/moattest"
)

// noTypeDelay starts a server whose thing types can be deleted as soon as
// they are deprecated.
func noTypeDelay(t *testing.T) *moattest.Server {
	return moattest.Start(t, func(c *config.Config) { c.ThingTypeDeleteDelay = 0 })
}

func attrs(n int) map[string]string {
	m := map[string]string{}
	for i := range n {
		m[fmt.Sprintf("a%d", i)] = "v"
	}
	return m
}

func describeThing(t *testing.T, c *iot.Client, name string) *iot.DescribeThingOutput {
	t.Helper()
	out, err := c.DescribeThing(context.Background(), &iot.DescribeThingInput{ThingName: aws.String(name)})
	if err != nil {
		t.Fatalf("DescribeThing %s: %v", name, err)
	}
	return out
}

// TestThingType_Lifecycle walks a thing type from creation to deletion:
// idempotent create, describe, list, update, deprecation and its undo, and
// delete with each refusal on the way.
func TestThingType_Lifecycle(t *testing.T) {
	srv := noTypeDelay(t)
	c := srv.IoT()
	ctx := context.Background()
	const typeARN = "arn:aws:iot:us-east-1:000000000000:thingtype/sensor"
	in := &iot.CreateThingTypeInput{
		ThingTypeName: aws.String("sensor"),
		ThingTypeProperties: &types.ThingTypeProperties{
			ThingTypeDescription: aws.String("A temperature sensor"),
			SearchableAttributes: []string{"room", "floor"},
		},
		Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}},
	}
	created, err := c.CreateThingType(ctx, in)
	if err != nil {
		t.Fatalf("CreateThingType: %v", err)
	}
	if aws.ToString(created.ThingTypeArn) != typeARN || aws.ToString(created.ThingTypeName) != "sensor" || aws.ToString(created.ThingTypeId) == "" {
		t.Fatalf("CreateThingType = %+v", created)
	}

	// Identical input: the same type back (searchable attributes in any order).
	in.ThingTypeProperties.SearchableAttributes = []string{"floor", "room"}
	again, err := c.CreateThingType(ctx, in)
	if err != nil || aws.ToString(again.ThingTypeId) != aws.ToString(created.ThingTypeId) {
		t.Fatalf("idempotent CreateThingType = %+v, %v; want id %s", again, err, aws.ToString(created.ThingTypeId))
	}
	// Another configuration: ResourceAlreadyExists with the ARN.
	_, err = c.CreateThingType(ctx, &iot.CreateThingTypeInput{ThingTypeName: aws.String("sensor")})
	apiErr(t, err, "ResourceAlreadyExistsException", 409)
	if !strings.Contains(fmt.Sprint(err), "already exists") {
		t.Fatalf("err = %v", err)
	}

	d, err := c.DescribeThingType(ctx, &iot.DescribeThingTypeInput{ThingTypeName: aws.String("sensor")})
	if err != nil {
		t.Fatalf("DescribeThingType: %v", err)
	}
	if aws.ToString(d.ThingTypeArn) != typeARN || aws.ToString(d.ThingTypeId) != aws.ToString(created.ThingTypeId) ||
		aws.ToString(d.ThingTypeProperties.ThingTypeDescription) != "A temperature sensor" ||
		!slices.Equal(d.ThingTypeProperties.SearchableAttributes, []string{"room", "floor"}) ||
		d.ThingTypeMetadata.Deprecated || d.ThingTypeMetadata.DeprecationDate != nil || d.ThingTypeMetadata.CreationDate == nil {
		t.Fatalf("DescribeThingType = %+v %+v %+v", d, d.ThingTypeProperties, d.ThingTypeMetadata)
	}
	tags, err := c.ListTagsForResource(ctx, &iot.ListTagsForResourceInput{ResourceArn: aws.String(typeARN)})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "env" || aws.ToString(tags.Tags[0].Value) != "prod" {
		t.Fatalf("ListTagsForResource = %+v, %v", tags, err)
	}

	// UpdateThingType: the description changes, the attributes stay.
	if _, err := c.UpdateThingType(ctx, &iot.UpdateThingTypeInput{ThingTypeName: aws.String("sensor"),
		ThingTypeProperties: &types.ThingTypeProperties{ThingTypeDescription: aws.String("Sensor v2")}}); err != nil {
		t.Fatalf("UpdateThingType: %v", err)
	}
	d, _ = c.DescribeThingType(ctx, &iot.DescribeThingTypeInput{ThingTypeName: aws.String("sensor")})
	if aws.ToString(d.ThingTypeProperties.ThingTypeDescription) != "Sensor v2" || len(d.ThingTypeProperties.SearchableAttributes) != 2 {
		t.Fatalf("after UpdateThingType: %+v", d.ThingTypeProperties)
	}

	// A thing of the type may have more than 3 attributes.
	if _, err := c.CreateThing(ctx, &iot.CreateThingInput{ThingName: aws.String("t1"), ThingTypeName: aws.String("sensor"),
		AttributePayload: &types.AttributePayload{Attributes: attrs(4)}}); err != nil {
		t.Fatalf("CreateThing with a type: %v", err)
	}
	if got := describeThing(t, c, "t1"); aws.ToString(got.ThingTypeName) != "sensor" || len(got.Attributes) != 4 {
		t.Fatalf("DescribeThing = %+v", got)
	}

	// Delete refuses a type that is not deprecated.
	_, err = c.DeleteThingType(ctx, &iot.DeleteThingTypeInput{ThingTypeName: aws.String("sensor")})
	apiErr(t, err, "InvalidRequestException", 400)

	// Deprecation: the date is set; no new thing may take the type.
	if _, err := c.DeprecateThingType(ctx, &iot.DeprecateThingTypeInput{ThingTypeName: aws.String("sensor")}); err != nil {
		t.Fatalf("DeprecateThingType: %v", err)
	}
	d, _ = c.DescribeThingType(ctx, &iot.DescribeThingTypeInput{ThingTypeName: aws.String("sensor")})
	if !d.ThingTypeMetadata.Deprecated || d.ThingTypeMetadata.DeprecationDate == nil {
		t.Fatalf("after deprecation: %+v", d.ThingTypeMetadata)
	}
	_, err = c.CreateThing(ctx, &iot.CreateThingInput{ThingName: aws.String("t2"), ThingTypeName: aws.String("sensor")})
	apiErr(t, err, "InvalidRequestException", 400)
	if _, err := c.CreateThing(ctx, &iot.CreateThingInput{ThingName: aws.String("t2")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.UpdateThing(ctx, &iot.UpdateThingInput{ThingName: aws.String("t2"), ThingTypeName: aws.String("sensor")})
	apiErr(t, err, "InvalidRequestException", 400)
	if got := describeThing(t, c, "t2"); got.ThingTypeName != nil || got.Version != 1 {
		t.Fatalf("refused UpdateThing changed t2: %+v", got)
	}

	// Undo, then deprecate again.
	if _, err := c.DeprecateThingType(ctx, &iot.DeprecateThingTypeInput{ThingTypeName: aws.String("sensor"), UndoDeprecate: true}); err != nil {
		t.Fatalf("undo: %v", err)
	}
	d, _ = c.DescribeThingType(ctx, &iot.DescribeThingTypeInput{ThingTypeName: aws.String("sensor")})
	if d.ThingTypeMetadata.Deprecated || d.ThingTypeMetadata.DeprecationDate != nil {
		t.Fatalf("after undo: %+v", d.ThingTypeMetadata)
	}
	if _, err := c.DeprecateThingType(ctx, &iot.DeprecateThingTypeInput{ThingTypeName: aws.String("sensor")}); err != nil {
		t.Fatal(err)
	}

	// Delete refuses a type that a thing still has.
	_, err = c.DeleteThingType(ctx, &iot.DeleteThingTypeInput{ThingTypeName: aws.String("sensor")})
	apiErr(t, err, "InvalidRequestException", 400)
	// Removing the type while the thing has 4 attributes breaks the
	// untyped limit: refused, nothing changes.
	_, err = c.UpdateThing(ctx, &iot.UpdateThingInput{ThingName: aws.String("t1"), RemoveThingType: true})
	apiErr(t, err, "InvalidRequestException", 400)
	if got := describeThing(t, c, "t1"); aws.ToString(got.ThingTypeName) != "sensor" || got.Version != 1 {
		t.Fatalf("refused UpdateThing changed t1: %+v", got)
	}
	// Removing the type and replacing the attributes in one call works.
	if _, err := c.UpdateThing(ctx, &iot.UpdateThingInput{ThingName: aws.String("t1"), RemoveThingType: true,
		AttributePayload: &types.AttributePayload{Attributes: map[string]string{"room": "1"}}}); err != nil {
		t.Fatalf("UpdateThing remove type: %v", err)
	}
	if got := describeThing(t, c, "t1"); got.ThingTypeName != nil || !maps.Equal(got.Attributes, map[string]string{"room": "1"}) || got.Version != 2 {
		t.Fatalf("after removing the type: %+v", got)
	}

	if _, err := c.DeleteThingType(ctx, &iot.DeleteThingTypeInput{ThingTypeName: aws.String("sensor")}); err != nil {
		t.Fatalf("DeleteThingType: %v", err)
	}
	_, err = c.DescribeThingType(ctx, &iot.DescribeThingTypeInput{ThingTypeName: aws.String("sensor")})
	apiErr(t, err, "ResourceNotFoundException", 404)
	_, err = c.DeleteThingType(ctx, &iot.DeleteThingTypeInput{ThingTypeName: aws.String("sensor")})
	apiErr(t, err, "ResourceNotFoundException", 404)
	_, err = c.ListTagsForResource(ctx, &iot.ListTagsForResourceInput{ResourceArn: aws.String(typeARN)})
	apiErr(t, err, "ResourceNotFoundException", 404)

	// A type created again under the same name starts without the old tags.
	if _, err := c.CreateThingType(ctx, &iot.CreateThingTypeInput{ThingTypeName: aws.String("sensor")}); err != nil {
		t.Fatal(err)
	}
	tags, err = c.ListTagsForResource(ctx, &iot.ListTagsForResourceInput{ResourceArn: aws.String(typeARN)})
	if err != nil || len(tags.Tags) != 0 {
		t.Fatalf("tags of the new type = %+v, %v", tags, err)
	}
}

// TestThingType_DeleteDelay checks the default delay: a type deprecated
// just now cannot be deleted yet.
func TestThingType_DeleteDelay(t *testing.T) {
	srv := moattest.Start(t)
	c := srv.IoT()
	ctx := context.Background()
	if _, err := c.CreateThingType(ctx, &iot.CreateThingTypeInput{ThingTypeName: aws.String("old")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeprecateThingType(ctx, &iot.DeprecateThingTypeInput{ThingTypeName: aws.String("old")}); err != nil {
		t.Fatal(err)
	}
	_, err := c.DeleteThingType(ctx, &iot.DeleteThingTypeInput{ThingTypeName: aws.String("old")})
	apiErr(t, err, "InvalidRequestException", 400)
	if !strings.Contains(err.Error(), "5m0s") {
		t.Fatalf("message does not state the delay: %v", err)
	}
	if _, err := c.DescribeThingType(ctx, &iot.DescribeThingTypeInput{ThingTypeName: aws.String("old")}); err != nil {
		t.Fatalf("the type is gone after a refused delete: %v", err)
	}
}

// TestListThingTypes checks paging, the name filter and the item shape.
func TestListThingTypes(t *testing.T) {
	srv := noTypeDelay(t)
	c := srv.IoT()
	ctx := context.Background()
	for _, n := range []string{"c", "a", "b"} {
		if _, err := c.CreateThingType(ctx, &iot.CreateThingTypeInput{ThingTypeName: aws.String(n),
			ThingTypeProperties: &types.ThingTypeProperties{ThingTypeDescription: aws.String("type " + n)}}); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	in := &iot.ListThingTypesInput{MaxResults: aws.Int32(2)}
	pages := 0
	for {
		out, err := c.ListThingTypes(ctx, in)
		if err != nil {
			t.Fatalf("ListThingTypes: %v", err)
		}
		pages++
		for _, d := range out.ThingTypes {
			got = append(got, aws.ToString(d.ThingTypeName))
			if aws.ToString(d.ThingTypeArn) != "arn:aws:iot:us-east-1:000000000000:thingtype/"+aws.ToString(d.ThingTypeName) ||
				aws.ToString(d.ThingTypeProperties.ThingTypeDescription) != "type "+aws.ToString(d.ThingTypeName) || d.ThingTypeMetadata.CreationDate == nil {
				t.Fatalf("item = %+v", d)
			}
		}
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	if !slices.Equal(got, []string{"a", "b", "c"}) || pages != 2 {
		t.Fatalf("listed %v in %d pages", got, pages)
	}
	out, err := c.ListThingTypes(ctx, &iot.ListThingTypesInput{ThingTypeName: aws.String("b")})
	if err != nil || len(out.ThingTypes) != 1 || aws.ToString(out.ThingTypes[0].ThingTypeName) != "b" {
		t.Fatalf("filtered = %+v, %v", out, err)
	}
	out, err = c.ListThingTypes(ctx, &iot.ListThingTypesInput{ThingTypeName: aws.String("zz")})
	if err != nil || len(out.ThingTypes) != 0 {
		t.Fatalf("filter on a missing type = %+v, %v", out, err)
	}
	_, err = c.ListThingTypes(ctx, &iot.ListThingTypesInput{MaxResults: aws.Int32(251)})
	apiErr(t, err, "InvalidRequestException", 400)
}

// TestThingType_BadInput checks each malformed request is refused and
// creates nothing.
func TestThingType_BadInput(t *testing.T) {
	srv := noTypeDelay(t)
	c := srv.IoT()
	ctx := context.Background()
	tests := map[string]*iot.CreateThingTypeInput{
		// a name outside [a-zA-Z0-9:_-]+
		"bad name": {ThingTypeName: aws.String("bad name")},
		// more than 3 searchable attributes
		"4 searchable": {ThingTypeName: aws.String("x"), ThingTypeProperties: &types.ThingTypeProperties{SearchableAttributes: []string{"a", "b", "c", "d"}}},
		// the same searchable attribute twice
		"repeated searchable": {ThingTypeName: aws.String("x"), ThingTypeProperties: &types.ThingTypeProperties{SearchableAttributes: []string{"a", "a"}}},
		// a searchable attribute that is no attribute name
		"bad searchable": {ThingTypeName: aws.String("x"), ThingTypeProperties: &types.ThingTypeProperties{SearchableAttributes: []string{"a b"}}},
		// a description with a newline (pattern [\p{Graph}\x20]*)
		"newline": {ThingTypeName: aws.String("x"), ThingTypeProperties: &types.ThingTypeProperties{ThingTypeDescription: aws.String("a\nb")}},
		// a description over 2028 characters
		"long description": {ThingTypeName: aws.String("x"), ThingTypeProperties: &types.ThingTypeProperties{ThingTypeDescription: aws.String(strings.Repeat("d", 2029))}},
		// a reserved tag key
		"aws: tag": {ThingTypeName: aws.String("x"), Tags: []types.Tag{{Key: aws.String("aws:owner"), Value: aws.String("v")}}},
		// propagating attributes, which moat does not support
		"mqtt5": {ThingTypeName: aws.String("x"), ThingTypeProperties: &types.ThingTypeProperties{Mqtt5Configuration: &types.Mqtt5Configuration{
			PropagatingAttributes: []types.PropagatingAttribute{{UserPropertyKey: aws.String("k"), ThingAttribute: aws.String("a")}}}}},
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := c.CreateThingType(ctx, in)
			apiErr(t, err, "InvalidRequestException", 400)
		})
	}
	out, err := c.ListThingTypes(ctx, &iot.ListThingTypesInput{})
	if err != nil || len(out.ThingTypes) != 0 {
		t.Fatalf("refused creates left %+v, %v", out, err)
	}
	// Operations on a type that does not exist.
	_, err = c.UpdateThingType(ctx, &iot.UpdateThingTypeInput{ThingTypeName: aws.String("nope"), ThingTypeProperties: &types.ThingTypeProperties{}})
	apiErr(t, err, "ResourceNotFoundException", 404)
	_, err = c.DeprecateThingType(ctx, &iot.DeprecateThingTypeInput{ThingTypeName: aws.String("nope")})
	apiErr(t, err, "ResourceNotFoundException", 404)
	_, err = c.CreateThing(ctx, &iot.CreateThingInput{ThingName: aws.String("t"), ThingTypeName: aws.String("nope")})
	apiErr(t, err, "ResourceNotFoundException", 404)
	// A bad UpdateThingType changes nothing.
	if _, err := c.CreateThingType(ctx, &iot.CreateThingTypeInput{ThingTypeName: aws.String("ok"),
		ThingTypeProperties: &types.ThingTypeProperties{ThingTypeDescription: aws.String("d")}}); err != nil {
		t.Fatal(err)
	}
	_, err = c.UpdateThingType(ctx, &iot.UpdateThingTypeInput{ThingTypeName: aws.String("ok"),
		ThingTypeProperties: &types.ThingTypeProperties{ThingTypeDescription: aws.String("new"), SearchableAttributes: []string{"a", "b", "c", "d"}}})
	apiErr(t, err, "InvalidRequestException", 400)
	d, err := c.DescribeThingType(ctx, &iot.DescribeThingTypeInput{ThingTypeName: aws.String("ok")})
	if err != nil || aws.ToString(d.ThingTypeProperties.ThingTypeDescription) != "d" {
		t.Fatalf("refused update changed the type: %+v, %v", d, err)
	}
}

// TestUpdateThing checks attribute merge and replace, versions,
// expectedVersion, type changes and each refusal (which changes nothing).
func TestUpdateThing(t *testing.T) {
	srv := noTypeDelay(t)
	c := srv.IoT()
	ctx := context.Background()
	for _, n := range []string{"lamp", "switch"} {
		if _, err := c.CreateThingType(ctx, &iot.CreateThingTypeInput{ThingTypeName: aws.String(n)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.CreateThing(ctx, &iot.CreateThingInput{ThingName: aws.String("t"),
		AttributePayload: &types.AttributePayload{Attributes: map[string]string{"a": "1", "b": "2"}}}); err != nil {
		t.Fatal(err)
	}
	update := func(in *iot.UpdateThingInput) error {
		in.ThingName = aws.String("t")
		_, err := c.UpdateThing(ctx, in)
		return err
	}
	check := func(wantType string, want map[string]string, version int64) {
		t.Helper()
		got := describeThing(t, c, "t")
		if aws.ToString(got.ThingTypeName) != wantType || !maps.Equal(got.Attributes, want) || got.Version != version {
			t.Fatalf("thing = type %q attrs %v version %d; want %q %v %d", aws.ToString(got.ThingTypeName), got.Attributes, got.Version, wantType, want, version)
		}
	}

	// Merge: set c, remove b with an empty value.
	if err := update(&iot.UpdateThingInput{AttributePayload: &types.AttributePayload{Merge: true, Attributes: map[string]string{"b": "", "c": "3"}}}); err != nil {
		t.Fatal(err)
	}
	check("", map[string]string{"a": "1", "c": "3"}, 2)
	// Replace.
	if err := update(&iot.UpdateThingInput{AttributePayload: &types.AttributePayload{Attributes: map[string]string{"x": "9"}}}); err != nil {
		t.Fatal(err)
	}
	check("", map[string]string{"x": "9"}, 3)
	// A stale expectedVersion is a VersionConflict.
	err := update(&iot.UpdateThingInput{ExpectedVersion: aws.Int64(1), ThingTypeName: aws.String("lamp")})
	apiErr(t, err, "VersionConflictException", 409)
	check("", map[string]string{"x": "9"}, 3)
	// The current one works; the type is set.
	if err := update(&iot.UpdateThingInput{ExpectedVersion: aws.Int64(3), ThingTypeName: aws.String("lamp")}); err != nil {
		t.Fatal(err)
	}
	check("lamp", map[string]string{"x": "9"}, 4)
	// Typed: up to 50 attributes.
	if err := update(&iot.UpdateThingInput{AttributePayload: &types.AttributePayload{Attributes: attrs(50)}}); err != nil {
		t.Fatalf("50 attributes on a typed thing: %v", err)
	}
	check("lamp", attrs(50), 5)
	err = update(&iot.UpdateThingInput{AttributePayload: &types.AttributePayload{Merge: true, Attributes: map[string]string{"one-more": "v"}}})
	apiErr(t, err, "InvalidRequestException", 400)
	check("lamp", attrs(50), 5)
	// Another type.
	if err := update(&iot.UpdateThingInput{ThingTypeName: aws.String("switch"), AttributePayload: &types.AttributePayload{Attributes: map[string]string{}}}); err != nil {
		t.Fatal(err)
	}
	check("switch", map[string]string{}, 6)
	// Refusals: both thingTypeName and removeThingType; an unknown type; an
	// unknown thing; 4 attributes once the type is removed; a bad value.
	err = update(&iot.UpdateThingInput{ThingTypeName: aws.String("lamp"), RemoveThingType: true})
	apiErr(t, err, "InvalidRequestException", 400)
	err = update(&iot.UpdateThingInput{ThingTypeName: aws.String("nope")})
	apiErr(t, err, "ResourceNotFoundException", 404)
	err = update(&iot.UpdateThingInput{RemoveThingType: true, AttributePayload: &types.AttributePayload{Attributes: attrs(4)}})
	apiErr(t, err, "InvalidRequestException", 400)
	err = update(&iot.UpdateThingInput{AttributePayload: &types.AttributePayload{Attributes: map[string]string{"k": "no spaces allowed"}}})
	apiErr(t, err, "InvalidRequestException", 400)
	check("switch", map[string]string{}, 6)
	_, err = c.UpdateThing(ctx, &iot.UpdateThingInput{ThingName: aws.String("ghost")})
	apiErr(t, err, "ResourceNotFoundException", 404)
	// No payload at all still counts as an update.
	if err := update(&iot.UpdateThingInput{}); err != nil {
		t.Fatal(err)
	}
	check("switch", map[string]string{}, 7)
	if err := update(&iot.UpdateThingInput{RemoveThingType: true}); err != nil {
		t.Fatal(err)
	}
	check("", map[string]string{}, 8)
}

// TestCreateThing_Typed checks CreateThing with a type: the attribute
// limits and idempotency, which compares type and attributes.
func TestCreateThing_Typed(t *testing.T) {
	srv := noTypeDelay(t)
	c := srv.IoT()
	ctx := context.Background()
	for _, n := range []string{"lamp", "switch"} {
		if _, err := c.CreateThingType(ctx, &iot.CreateThingTypeInput{ThingTypeName: aws.String(n)}); err != nil {
			t.Fatal(err)
		}
	}
	in := &iot.CreateThingInput{ThingName: aws.String("t"), ThingTypeName: aws.String("lamp"), AttributePayload: &types.AttributePayload{Attributes: attrs(50)}}
	first, err := c.CreateThing(ctx, in)
	if err != nil {
		t.Fatalf("CreateThing with 50 attributes: %v", err)
	}
	again, err := c.CreateThing(ctx, in)
	if err != nil || aws.ToString(again.ThingId) != aws.ToString(first.ThingId) {
		t.Fatalf("idempotent CreateThing = %+v, %v", again, err)
	}
	_, err = c.CreateThing(ctx, &iot.CreateThingInput{ThingName: aws.String("t"), ThingTypeName: aws.String("switch"), AttributePayload: &types.AttributePayload{Attributes: attrs(50)}})
	apiErr(t, err, "ResourceAlreadyExistsException", 409)
	_, err = c.CreateThing(ctx, &iot.CreateThingInput{ThingName: aws.String("t"), AttributePayload: &types.AttributePayload{Attributes: attrs(50)}})
	apiErr(t, err, "InvalidRequestException", 400) // 50 without a type
	_, err = c.CreateThing(ctx, &iot.CreateThingInput{ThingName: aws.String("u"), ThingTypeName: aws.String("lamp"), AttributePayload: &types.AttributePayload{Attributes: attrs(51)}})
	apiErr(t, err, "InvalidRequestException", 400)
	_, err = c.CreateThing(ctx, &iot.CreateThingInput{ThingName: aws.String("u"), AttributePayload: &types.AttributePayload{Attributes: attrs(4)}})
	apiErr(t, err, "InvalidRequestException", 400)
	_, err = c.DescribeThing(ctx, &iot.DescribeThingInput{ThingName: aws.String("u")})
	apiErr(t, err, "ResourceNotFoundException", 404)
	// ListThings by type.
	out, err := c.ListThings(ctx, &iot.ListThingsInput{ThingTypeName: aws.String("lamp")})
	if err != nil || len(out.Things) != 1 || aws.ToString(out.Things[0].ThingTypeName) != "lamp" {
		t.Fatalf("ListThings by type = %+v, %v", out, err)
	}
}
