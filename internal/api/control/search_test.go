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

// TestSearchIndex checks SearchIndex over both indexes: the query subset,
// the documents returned, paging, and the errors.
func TestSearchIndex(t *testing.T) {
	srv := moattest.Start(t)
	c := srv.IoT()
	ctx := context.Background()
	mkThing(t, c, "lamp-1", map[string]string{"color": "red", "temp": "70"})
	mkThing(t, c, "lamp-2", map[string]string{"color": "blue", "temp": "50"})
	mkThing(t, c, "lamp-3", map[string]string{"color": "red", "temp": "40"})
	mkThing(t, c, "fan-1", map[string]string{"color": "red"})
	_, err := c.CreateThingGroup(ctx, &iot.CreateThingGroupInput{ThingGroupName: aws.String("site"),
		ThingGroupProperties: &types.ThingGroupProperties{ThingGroupDescription: aws.String("main site"),
			AttributePayload: &types.AttributePayload{Attributes: map[string]string{"city": "Oslo"}}}})
	if err != nil {
		t.Fatal(err)
	}
	mkGroup(t, c, "kitchen", "site")
	if _, err := c.AddThingToThingGroup(ctx, &iot.AddThingToThingGroupInput{ThingGroupName: aws.String("kitchen"), ThingName: aws.String("lamp-3")}); err != nil {
		t.Fatal(err)
	}

	search := func(index, q string) []string {
		t.Helper()
		var names []string
		in := &iot.SearchIndexInput{QueryString: aws.String(q), MaxResults: aws.Int32(1)}
		if index != "" {
			in.IndexName = aws.String(index)
		}
		for {
			out, err := c.SearchIndex(ctx, in)
			if err != nil {
				t.Fatalf("SearchIndex %q: %v", q, err)
			}
			for _, d := range out.Things {
				names = append(names, aws.ToString(d.ThingName))
			}
			for _, g := range out.ThingGroups {
				names = append(names, aws.ToString(g.ThingGroupName))
			}
			if out.NextToken == nil {
				return names
			}
			in.NextToken = out.NextToken
		}
	}
	cases := []struct {
		index, q string
		want     []string
	}{
		{"", "thingName:lamp*", []string{"lamp-1", "lamp-2", "lamp-3"}},
		{"AWS_Things", "attributes.color:red AND attributes.temp>45", []string{"lamp-1"}},
		{"AWS_Things", "attributes.temp:[40 TO 50]", []string{"lamp-2", "lamp-3"}},
		{"AWS_Things", "thingGroupNames:kitchen OR thingName:fan*", []string{"fan-1", "lamp-3"}},
		{"AWS_Things", "NOT attributes.temp:*", []string{"fan-1"}},
		{"AWS_Things", "thingName:nothing*", nil},
		{"AWS_ThingGroups", "parentGroupNames:site", []string{"kitchen"}},
		{"AWS_ThingGroups", `attributes.city:Oslo AND thingGroupDescription:"main site"`, []string{"site"}},
	}
	for _, tc := range cases {
		if got := search(tc.index, tc.q); !slices.Equal(got, tc.want) {
			t.Errorf("%s %q = %v, want %v", tc.index, tc.q, got, tc.want)
		}
	}

	// the documents
	out, err := c.SearchIndex(ctx, &iot.SearchIndexInput{QueryString: aws.String("thingName:lamp-3")})
	if err != nil || len(out.Things) != 1 {
		t.Fatalf("SearchIndex = %+v, %v", out, err)
	}
	doc := out.Things[0]
	if aws.ToString(doc.ThingId) == "" || doc.Attributes["color"] != "red" || !slices.Equal(doc.ThingGroupNames, []string{"kitchen"}) {
		t.Fatalf("thing document = %+v", doc)
	}
	gout, err := c.SearchIndex(ctx, &iot.SearchIndexInput{IndexName: aws.String("AWS_ThingGroups"), QueryString: aws.String("thingGroupName:kitchen")})
	if err != nil || len(gout.ThingGroups) != 1 || !slices.Equal(gout.ThingGroups[0].ParentGroupNames, []string{"site"}) || aws.ToString(gout.ThingGroups[0].ThingGroupId) == "" {
		t.Fatalf("group document = %+v, %v", gout, err)
	}

	// errors
	_, err = c.SearchIndex(ctx, &iot.SearchIndexInput{QueryString: aws.String("thingName:(")})
	apiErr(t, err, "InvalidQueryException", 400)
	_, err = c.SearchIndex(ctx, &iot.SearchIndexInput{QueryString: aws.String("thingGroupName:x")})
	apiErr(t, err, "InvalidQueryException", 400)
	_, err = c.SearchIndex(ctx, &iot.SearchIndexInput{QueryString: aws.String("thingName:x"), IndexName: aws.String("nope")})
	apiErr(t, err, "ResourceNotFoundException", 404)
	_, err = c.SearchIndex(ctx, &iot.SearchIndexInput{QueryString: aws.String("")})
	apiErr(t, err, "InvalidRequestException", 400)
	_, err = c.SearchIndex(ctx, &iot.SearchIndexInput{QueryString: aws.String("thingName:x"), MaxResults: aws.Int32(501)})
	apiErr(t, err, "InvalidRequestException", 400)
	_, err = c.SearchIndex(ctx, &iot.SearchIndexInput{QueryString: aws.String("thingName:x"), NextToken: aws.String("garbage")})
	apiErr(t, err, "InvalidRequestException", 400)
}
