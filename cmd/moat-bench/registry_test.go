package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"

	"github.com/moat-iot/moat/internal/moattest"
	"github.com/moat-iot/moat/internal/store"
	"github.com/moat-iot/moat/internal/store/sqlite"
)

func TestParseRegConfigErrors(t *testing.T) {
	ok := []string{"-endpoint", "https://127.0.0.1:8443", "-data-dir", "d", "-create", "10"}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"-endpoint", "https://192.0.2.1:8443"}, "not a loopback address"},
		{[]string{"-endpoint", "https://example.com"}, "not a loopback address"},
		{[]string{"-endpoint", "http://127.0.0.1:8443"}, "want https://HOST:PORT"},
		{[]string{"-endpoint", "https://127.0.0.1:8443/x"}, "want https://HOST:PORT"},
		{[]string{"-endpoint", ""}, "-endpoint: required"},
		{[]string{"-create", "0"}, "nothing to do"},
		{[]string{"-c", "0"}, "-c: 0"},
		{[]string{"-read-seconds", "1", "-create", "0"}, "-things"},
		{[]string{"-page", "251"}, "-page: 251"},
		{[]string{"-rate", "-1"}, "-rate: -1"},
		{[]string{"-describe-pct", "101"}, "-describe-pct"},
		{[]string{"extra"}, "unexpected argument"},
	}
	for _, c := range cases {
		_, err := parseRegConfig(append(append([]string{}, ok...), c.args...), &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err = %v, want it to contain %q", c.args, err, c.want)
		}
	}
	c, err := parseRegConfig(append(ok, "-endpoint", "https://192.0.2.1:8443", "-allow-remote"), &bytes.Buffer{})
	if err != nil {
		t.Fatalf("-allow-remote: %v", err)
	}
	if c.caBundle != filepath.Join("d", "root-ca.pem") || c.credentials != filepath.Join("d", "admin.credentials") || c.things != 10 {
		t.Errorf("defaults from -data-dir and -create: %+v", c)
	}
	for _, args := range [][]string{
		{"-seed-store", "x.db", "-seed", "0"},
		{"-seed-store", "x.db", "-seed", "10", "-seed-start", "10"},
		{"-seed-store", "x.db", "-seed", "10", "-create", "5"},
	} {
		if _, err := parseRegConfig(args, &bytes.Buffer{}); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}

// TestRegistryMode runs the mode against a real moat: creates through the
// API, then reads; and seeds a store directly.
func TestRegistryMode(t *testing.T) {
	s := moattest.Start(t)
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"registry", "-endpoint", s.URL, "-data-dir", s.Dir,
		"-create", "40", "-c", "4", "-read-seconds", "0.5", "-page", "5", "-json"}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut.String())
	}
	var r regResult
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("JSON line: %v\n%s", err, out.String())
	}
	if r.Create == nil || r.Create.Count != 40 || r.Create.Errors != 0 || r.Create.PerSec <= 0 {
		t.Errorf("create: %+v", r.Create)
	}
	if r.Describe == nil || r.Describe.Count == 0 || r.Describe.Errors != 0 || r.List == nil || r.List.Count == 0 || r.List.Errors != 0 {
		t.Errorf("reads: describe %+v, list %+v", r.Describe, r.List)
	}
	if r.ListEmpty != 0 {
		t.Errorf("%d empty ListThings pages", r.ListEmpty)
	}
	if !strings.Contains(errOut.String(), "DescribeThing") {
		t.Errorf("summary missing:\n%s", errOut.String())
	}
	// The things have the three attributes.
	th, err := s.IoT().DescribeThing(context.Background(), &iot.DescribeThingInput{ThingName: aws.String("bench-thing-0000007")})
	if err != nil {
		t.Fatal(err)
	}
	if th.Attributes["room"] != "r7" || th.Attributes["floor"] != "f7" || th.Attributes["serial"] != "s7" {
		t.Errorf("attributes %v", th.Attributes)
	}

	// Seed: straight into a store file.
	path := filepath.Join(t.TempDir(), "moat.db")
	out.Reset()
	errOut.Reset()
	if code := run(context.Background(), []string{"registry", "-seed-store", path, "-seed", "250", "-seed-start", "50", "-seed-batch", "64", "-json"}, &out, &errOut); code != 0 {
		t.Fatalf("seed: exit %d\n%s", code, errOut.String())
	}
	var sr regResult
	if err := json.Unmarshal(out.Bytes(), &sr); err != nil || sr.Seeded != 200 || sr.DBBytes <= 0 {
		t.Fatalf("seed result %+v, %v", sr, err)
	}
	st, err := sqlite.Open(path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	err = st.View(context.Background(), func(tx store.Tx) error {
		got, _, err := tx.ListThings(store.ThingFilter{AttributeName: "room", AttributeValue: "r42"}, store.Page{Limit: 10})
		if err != nil {
			return err
		}
		if len(got) != 2 || got[0].Name != "bench-thing-0000142" || got[1].Name != "bench-thing-0000242" {
			t.Errorf("room r42: %v", got)
		}
		_, err = tx.Thing("bench-thing-0000049")
		if err == nil {
			t.Error("thing 49 exists: -seed-start 50 was not honoured")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
