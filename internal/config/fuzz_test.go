package config

import "testing"

// FuzzDecodeFile checks that decoding any config file never panics, and that
// a file that decodes yields a Config that Validate can judge without
// panicking. Seeds: testdata/fuzz/FuzzDecodeFile and the cases below.
func FuzzDecodeFile(f *testing.F) {
	for _, seed := range []string{
		"",
		"region: eu-west-1\nhostname: [a.example.com, 10.0.0.1]\n",
		"limits:\n  max-request-body: 1MiB\n  shutdown-timeout: 30s\n",
		"mqtt:\n  limits: aws-strict\n  max-packet-size: 64KiB\n  max-qos:\n  parent-match: true\n",
		"a: &x [*x]\n",
		"---\n---\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c := Default()
		if err := decodeFile(data, &c); err != nil {
			return
		}
		c.Normalize()
		_ = c.Validate()
	})
}
