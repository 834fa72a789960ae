package paging

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestPage checks pages of a small listing in both orders: their items,
// order and next marker.
func TestPage(t *testing.T) {
	names := []string{"a", "b", "c", "d", "e"}
	tests := map[string]struct {
		after     string
		ascending bool
		size      int
		want      string // the page's names, joined by ","
		next      string // the name the next marker holds; "" for none
	}{
		"first ascending":         {ascending: true, size: 2, want: "a,b", next: "b"},
		"middle ascending":        {after: "b", ascending: true, size: 2, want: "c,d", next: "d"},
		"last ascending, full":    {after: "c", ascending: true, size: 2, want: "d,e"},
		"last ascending, short":   {after: "d", ascending: true, size: 2, want: "e"},
		"past the end ascending":  {after: "e", ascending: true, size: 2, want: ""},
		"all in one page":         {ascending: true, size: 5, want: "a,b,c,d,e"},
		"page larger than all":    {ascending: true, size: 250, want: "a,b,c,d,e"},
		"first descending":        {size: 2, want: "e,d", next: "d"},
		"middle descending":       {after: "d", size: 2, want: "c,b", next: "b"},
		"last descending, full":   {after: "c", size: 2, want: "b,a"},
		"last descending, short":  {after: "b", size: 2, want: "a"},
		"past the end descending": {after: "a", size: 2, want: ""},
		"all descending":          {size: 9, want: "e,d,c,b,a"},
		// A marker name that was deleted (or never listed) still places
		// the page: the names after it in the order asked.
		"deleted name ascending":   {after: "bb", ascending: true, size: 2, want: "c,d", next: "d"},
		"deleted name descending":  {after: "bb", size: 2, want: "b,a"},
		"before all ascending":     {after: "0", ascending: true, size: 1, want: "a", next: "a"},
		"after all descending":     {after: "z", size: 1, want: "e", next: "e"},
		"beyond all ascending":     {after: "z", ascending: true, size: 3, want: ""},
		"one per page, descending": {after: "e", size: 1, want: "d", next: "d"},
		"one per page, ascending":  {after: "a", ascending: true, size: 1, want: "b", next: "b"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			in := slices.Clone(names)
			page, next := Names(in, tc.after, tc.ascending, tc.size)
			if got := strings.Join(page, ","); got != tc.want {
				t.Errorf("page = %q, want %q", got, tc.want)
			}
			want := ""
			if tc.next != "" {
				want = Marker(tc.next)
			}
			if next != want {
				t.Errorf("next marker = %q, want %q (of %q)", next, want, tc.next)
			}
			if !slices.Equal(in, names) {
				t.Errorf("Page changed its input to %v", in)
			}
		})
	}
}

// TestPage_empty checks that an empty listing is one empty page, in
// either order, with no next marker.
func TestPage_empty(t *testing.T) {
	for _, asc := range []bool{true, false} {
		page, next := Names(nil, "", asc, 3)
		if len(page) != 0 || next != "" {
			t.Errorf("ascending=%v: %v %q", asc, page, next)
		}
	}
}

// TestPage_items checks paging of items that are not names, by the
// name function.
func TestPage_items(t *testing.T) {
	type item struct {
		name string
		n    int
	}
	items := []item{{"x", 1}, {"y", 2}, {"z", 3}}
	page, next := Page(items, func(i item) string { return i.name }, "x", true, 1)
	if len(page) != 1 || page[0] != (item{"y", 2}) || next != Marker("y") {
		t.Fatalf("page %v, next %q", page, next)
	}
}

// TestPage_walk checks against a plain reference that following the
// markers from the first page visits every name once, in order, for
// random listings, page sizes and orders.
func TestPage_walk(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 300 {
		set := map[string]bool{}
		for range r.IntN(30) {
			set[fmt.Sprintf("n%d", r.IntN(60))] = true
		}
		names := make([]string, 0, len(set))
		for n := range set {
			names = append(names, n)
		}
		slices.Sort(names)
		asc := r.IntN(2) == 0
		size := 1 + r.IntN(8)
		want := slices.Clone(names)
		if !asc {
			slices.Reverse(want)
		}
		var got []string
		after := ""
		for pages := 0; ; pages++ {
			if pages > len(names)+1 {
				t.Fatalf("%v asc=%v size=%d: the markers do not end", names, asc, size)
			}
			page, next := Names(names, after, asc, size)
			if len(page) > size || next != "" && len(page) != size {
				t.Fatalf("%v asc=%v size=%d after %q: page %v, next %q", names, asc, size, after, page, next)
			}
			got = append(got, page...)
			if next == "" {
				break
			}
			var ok bool
			if after, ok = After(next); !ok {
				t.Fatalf("marker %q does not decode", next)
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("asc=%v size=%d: walked %v, want %v", asc, size, got, want)
		}
	}
}

// TestAfter checks marker decoding: a marker of a name decodes to it;
// what is not padded standard base64 of a name does not.
func TestAfter(t *testing.T) {
	for _, name := range []string{"a", "my-authorizer", "名前", "x=y,z@1"} {
		if got, ok := After(Marker(name)); !ok || got != name {
			t.Errorf("After(Marker(%q)) = %q, %v", name, got, ok)
		}
	}
	for _, bad := range []string{"", "!!!!", "YQ", "YQ==="} {
		if got, ok := After(bad); ok {
			t.Errorf("After(%q) = %q, true; want false", bad, got)
		}
	}
}

// FuzzAfter checks that what After accepts is a name that Marker
// encodes back into a marker After decodes to the same name. (After is
// not strict: like every base64.StdEncoding decoder it ignores newlines
// and the unused low bits of the last character, so the marker itself
// may differ, as it did before this package.)
func FuzzAfter(f *testing.F) {
	f.Add(Marker("role-alias_1"))
	f.Add("")
	f.Add("YQ")
	f.Fuzz(func(t *testing.T, marker string) {
		name, ok := After(marker)
		if !ok {
			return
		}
		if name == "" {
			t.Fatalf("After(%q) accepted an empty name", marker)
		}
		if again, ok := After(Marker(name)); !ok || again != name {
			t.Fatalf("After(%q) = %q, but After(Marker(%q)) = %q, %v", marker, name, name, again, ok)
		}
	})
}
