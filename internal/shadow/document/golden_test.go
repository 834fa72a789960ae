package document

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the expected sections of testdata/apply/*.txtar")

// A golden case is a txtar file: a comment, then sections "-- name --".
//
// Inputs:
//
//	prior          stored shadow (Unmarshal); absent: a new shadow
//	prior-deleted  the version of a deleted shadow (instead of prior)
//	request        the update payload, byte for byte
//	request.hex    the update payload in hex (instead of request)
//	now            epoch seconds (default 1700000000)
//	limits         Limits as JSON (default: zero, that is AWS's)
//
// Expected outputs, one line each (empty section: nil):
//
//	accepted, delta, documents   the documents of Result
//	shadow                       Result.Shadow.Marshal()
//	get                          Result.Shadow.Get(now+1, clientToken)
//	error                        "code message" when the update fails
//	error-document               ErrorDocument(err, now, ClientToken(request))

// outputs lists the expected sections in the order they are written.
var outputs = []string{"accepted", "delta", "documents", "shadow", "get", "error", "error-document"}

type section struct {
	name string
	data []byte
}

type archive struct {
	comment  []byte
	sections []section
}

func (a *archive) get(name string) ([]byte, bool) {
	for _, s := range a.sections {
		if s.name == name {
			return s.data, true
		}
	}
	return nil, false
}

// parseArchive reads the txtar format: lines "-- name --" start sections.
func parseArchive(data []byte) *archive {
	a := &archive{}
	var cur *section
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i+1], data[i+1:]
		} else {
			data = nil
		}
		t := bytes.TrimRight(line, "\r\n")
		if bytes.HasPrefix(t, []byte("-- ")) && bytes.HasSuffix(t, []byte(" --")) && len(t) > 6 {
			a.sections = append(a.sections, section{name: string(t[3 : len(t)-3])})
			cur = &a.sections[len(a.sections)-1]
			continue
		}
		if cur == nil {
			a.comment = append(a.comment, line...)
		} else {
			cur.data = append(cur.data, line...)
		}
	}
	return a
}

func (a *archive) format() []byte {
	var b bytes.Buffer
	b.Write(a.comment)
	for _, s := range a.sections {
		b.WriteString("-- " + s.name + " --\n")
		b.Write(s.data)
	}
	return b.Bytes()
}

// line is the one-line content of an expected section.
func line(b []byte) string { return strings.TrimSuffix(string(b), "\n") }

// run executes a case and returns its outputs.
func (a *archive) run(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	now := int64(1700000000)
	if b, ok := a.get("now"); ok {
		var err error
		if now, err = strconv.ParseInt(line(b), 10, 64); err != nil {
			t.Fatalf("now: %v", err)
		}
	}
	var lim Limits
	if b, ok := a.get("limits"); ok {
		if err := json.Unmarshal(b, &lim); err != nil {
			t.Fatalf("limits: %v", err)
		}
	}
	s := &Shadow{}
	if b, ok := a.get("prior"); ok {
		var err error
		if s, err = Unmarshal(bytes.TrimSpace(b)); err != nil {
			t.Fatalf("prior: %v", err)
		}
	} else if b, ok := a.get("prior-deleted"); ok {
		v, err := strconv.ParseInt(line(b), 10, 64)
		if err != nil {
			t.Fatalf("prior-deleted: %v", err)
		}
		s = &Shadow{Version: v}
	}
	payload, ok := a.get("request")
	if h, isHex := a.get("request.hex"); isHex {
		var err error
		if payload, err = hex.DecodeString(strings.Join(strings.Fields(string(h)), "")); err != nil {
			t.Fatalf("request.hex: %v", err)
		}
	} else if !ok {
		t.Fatal("no request section")
	}
	before := string(s.Marshal())
	fail := func(err error) map[string]string {
		e, ok := err.(*Error)
		if !ok {
			t.Fatalf("error %v is not an *Error", err)
		}
		tok, _ := ClientToken(payload, lim)
		out["error"] = strconv.Itoa(e.Code) + " " + e.Message
		out["error-document"] = string(ErrorDocument(e, now, tok))
		return out
	}
	u, err := ParseUpdate(payload, lim)
	if err != nil {
		return fail(err)
	}
	res, err := s.Apply(u, now, lim)
	if after := string(s.Marshal()); after != before {
		t.Errorf("Apply modified its shadow:\n%s\nbecame\n%s", before, after)
	}
	if err != nil {
		return fail(err)
	}
	out["accepted"] = string(res.Accepted)
	out["delta"] = string(res.Delta)
	out["documents"] = string(res.Documents)
	out["shadow"] = string(res.Shadow.Marshal())
	out["get"] = string(res.Shadow.Get(now+1, u.ClientToken))
	return out
}

// TestShadow_Apply runs the cases of testdata/apply: each is an update of a
// shadow with every document it produces, or the error it gets. With
// -update, the expected sections are rewritten from what the code does
// (review the diff!).
func TestShadow_Apply(t *testing.T) {
	files, err := filepath.Glob("testdata/apply/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			a := parseArchive(data)
			got := a.run(t)
			if *update {
				kept := a.sections[:0]
				for _, s := range a.sections {
					if !isOutput(s.name) {
						kept = append(kept, s)
					}
				}
				a.sections = kept
				for _, name := range outputs {
					if v, ok := got[name]; ok {
						a.sections = append(a.sections, section{name, []byte(v + "\n")})
					}
				}
				if err := os.WriteFile(file, a.format(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			var names []string
			for name := range got {
				names = append(names, name)
			}
			sort.Strings(names)
			for _, name := range names {
				want, ok := a.get(name)
				if !ok {
					t.Errorf("%s: no expected section; got\n%s", name, got[name])
					continue
				}
				if w := line(want); w != got[name] {
					t.Errorf("%s:\n got %s\nwant %s", name, got[name], w)
				}
			}
			for _, s := range a.sections {
				if _, ok := got[s.name]; isOutput(s.name) && !ok {
					t.Errorf("%s: expected, not produced", s.name)
				}
			}
			// Every document is valid JSON.
			for _, name := range names {
				if got[name] != "" && name != "error" && !json.Valid([]byte(got[name])) {
					t.Errorf("%s is not valid JSON: %s", name, got[name])
				}
			}
		})
	}
}

func isOutput(name string) bool {
	for _, o := range outputs {
		if o == name {
			return true
		}
	}
	return false
}
