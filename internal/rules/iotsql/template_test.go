package iotsql

import (
	"bufio"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// templateCase is one line of testdata/templates.jsonl.
type templateCase struct {
	goldenCase
	Template    string `json:"template"`
	WantString  string `json:"want"`
	Constant    *bool  `json:"constant"`
	RenderError string `json:"render_error"`
}

// TestTemplate runs the cases of testdata/templates.jsonl through
// ParseTemplate and Render.
func TestTemplate(t *testing.T) {
	f, err := os.Open("testdata/templates.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		var tc templateCase
		if err := json.Unmarshal([]byte(text), &tc); err != nil {
			t.Fatalf("line %d: %v", line, err)
		}
		n++
		t.Run(tc.Name, func(t *testing.T) {
			tmpl, err := ParseTemplate(tc.Template, tc.Version)
			if tc.Error != "" {
				if err == nil || !strings.Contains(err.Error(), tc.Error) {
					t.Fatalf("line %d: ParseTemplate(%q) error = %v, want %q", line, tc.Template, err, tc.Error)
				}
				return
			}
			if err != nil {
				t.Fatalf("line %d: ParseTemplate(%q): %v", line, tc.Template, err)
			}
			if tmpl.String() != tc.Template {
				t.Errorf("String() = %q", tmpl.String())
			}
			if tc.Constant != nil && tmpl.IsConstant() != *tc.Constant {
				t.Errorf("line %d: IsConstant() = %v, want %v", line, tmpl.IsConstant(), *tc.Constant)
			}
			got, err := tmpl.Render(tc.input())
			if tc.RenderError != "" {
				if err == nil || !strings.Contains(err.Error(), tc.RenderError) {
					t.Fatalf("line %d: Render error = %v, want %q", line, err, tc.RenderError)
				}
				return
			}
			if err != nil {
				t.Fatalf("line %d: Render: %v", line, err)
			}
			if got != tc.WantString {
				t.Fatalf("line %d: Render = %q, want %q", line, got, tc.WantString)
			}
		})
	}
	if n == 0 {
		t.Fatal("no template cases")
	}
}

// TestTemplate_Concurrent renders one template from many goroutines (run
// with -race): pooled evaluation state must not be shared.
func TestTemplate_Concurrent(t *testing.T) {
	tmpl, err := ParseTemplate("${topic(2)}-${upper(s)}-${concat(a, 'x')}", "")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan string, 8)
	for g := 0; g < 8; g++ {
		go func() {
			in := &Input{Topic: "a/" + string(rune('a'+g)), Payload: []byte(`{"s":"q","a":` + itoa(g) + `}`)}
			want := string(rune('a'+g)) + "-Q-" + itoa(g) + "x"
			for i := 0; i < 200; i++ {
				if got, err := tmpl.Render(in); err != nil || got != want {
					done <- "got " + got + ", want " + want
					return
				}
			}
			done <- ""
		}()
	}
	for g := 0; g < 8; g++ {
		if msg := <-done; msg != "" {
			t.Fatal(msg)
		}
	}
}
