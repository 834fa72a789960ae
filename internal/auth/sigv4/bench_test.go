package sigv4

import (
	"context"
	"testing"
)

// BenchmarkVerify measures verifying an SDK-signed publish with a small body.
func BenchmarkVerify(b *testing.B) {
	body := []byte(`{"state":{"reported":{"temperature":21.5,"on":true}}}`)
	r, body := sdkSign(b, "POST", "https://localhost:8443/topics/%24aws%2Fthings%2Ft1%2Fshadow%2Fupdate?qos=1", body, nil, longTerm(), "iotdata")
	v := testVerifier()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, r, body); err != nil {
			b.Fatal(err)
		}
	}
}
