// Package paging pages a listing held in memory by name, as AWS IoT's
// older List operations page (ListAuthorizers, ListRoleAliases,
// ListPrincipalPolicies): a listing small enough to be read whole (its
// size bounded by a quota) is ordered by name, ascending or descending,
// and cut into pages of at most a page size.
//
// A page's marker, which the client sends back for the next page, is the
// base64 (standard alphabet, padded) of the last name the page holds; AWS's
// marker pattern [A-Za-z0-9+/]+={0,2} admits it. The next page holds the
// names that come after it in the listing's order, so a name created or
// deleted between two calls neither shifts nor repeats the others. The
// caller decodes the marker with After, checks that the name is one it
// could have listed (its own name rules) and answers a bad one in its
// API's shape.
package paging

import (
	"encoding/base64"
	"sort"
)

// Marker is the marker of a page whose last name is name.
func Marker(name string) string { return base64.StdEncoding.EncodeToString([]byte(name)) }

// After decodes a marker into the last name of the previous page; false
// if the marker is not base64 or holds no name.
func After(marker string) (string, bool) {
	b, err := base64.StdEncoding.DecodeString(marker)
	if err != nil || len(b) == 0 {
		return "", false
	}
	return string(b), true
}

// Page returns the page of items that follows the name after ("" for the
// first page) in ascending or descending order of name, holding at most
// size items, and the marker of the next page ("" when no item follows
// it). items must be sorted by name in ascending byte-wise order (as the
// store lists keys and slices.Sort sorts strings), one item per name; name
// is the name of an item. after need not be the name of an item (it may
// have been deleted since). The page is a new slice in the order asked;
// items is not changed. size must be positive.
func Page[T any](items []T, name func(T) string, after string, ascending bool, size int) ([]T, string) {
	if size < 1 {
		panic("paging: size must be positive")
	}
	n := len(items)
	var page []T
	more := false
	if ascending {
		i := 0 // the first item after after
		if after != "" {
			i = sort.Search(n, func(k int) bool { return name(items[k]) > after })
		}
		end := min(i+size, n)
		page = append(make([]T, 0, end-i), items[i:end]...)
		more = end < n
	} else {
		end := n // items[:end] come before after
		if after != "" {
			end = sort.Search(n, func(k int) bool { return name(items[k]) >= after })
		}
		i := max(end-size, 0)
		page = make([]T, 0, end-i)
		for k := end - 1; k >= i; k-- {
			page = append(page, items[k])
		}
		more = i > 0
	}
	if !more {
		return page, ""
	}
	return page, Marker(name(page[len(page)-1]))
}

// Names is Page for a listing of the names themselves.
func Names(names []string, after string, ascending bool, size int) ([]string, string) {
	return Page(names, func(n string) string { return n }, after, ascending, size)
}
