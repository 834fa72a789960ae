package e2e

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"

	"github.com/moat-iot/moat/internal/moattest"
)

// BenchmarkUsers_DescribeThing measures what authorizing a caller by its
// IAM policies costs on a whole API call: DescribeThing through the SDK
// over HTTPS, by the administrator (allowed without policies) and by an
// IAM user whose managed policy allows it (identity policies cached,
// evaluated per call).
func BenchmarkUsers_DescribeThing(b *testing.B) {
	s := moattest.Start(b)
	ctx := context.Background()
	if _, err := s.IoT().CreateThing(ctx, &iot.CreateThingInput{ThingName: aws.String("lamp-1")}); err != nil {
		b.Fatal(err)
	}
	reader := s.NewUser(b, "reader", "arn:aws:iam::aws:policy/AWSIoTConfigReadOnlyAccess")
	for _, c := range []struct {
		name   string
		client *iot.Client
	}{{"admin", s.IoT()}, {"iam-user", s.IoTAs(reader.Provider())}} {
		b.Run(c.name, func(b *testing.B) {
			in := &iot.DescribeThingInput{ThingName: aws.String("lamp-1")}
			if _, err := c.client.DescribeThing(ctx, in); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for range b.N {
				if _, err := c.client.DescribeThing(ctx, in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
