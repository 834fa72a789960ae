package control

import (
	"github.com/moat-iot/moat/internal/api"
	"github.com/moat-iot/moat/internal/store"
)

// Paging of the older List operations, which take marker, pageSize (1 to
// 250; absent is 0, the service's default) and isAscendingOrder. The
// newer ones take nextToken and maxResults (see page).

// markerPage reads marker, pageSize and isAscendingOrder (absent is
// false, as for the listings by creation date: ListCertificates and the
// CA listings are newest first unless asked otherwise).
func markerPage(r *api.Request) (store.Page, bool, error) {
	p, err := page(r, "marker", "pageSize")
	if err != nil {
		return store.Page{}, false, err
	}
	asc, err := queryBool(r, "isAscendingOrder")
	return p, asc, err
}

// ascendingPage is markerPage for the listings that are ascending unless
// isAscendingOrder is false (the SDKs send it only when true).
func ascendingPage(r *api.Request) (store.Page, bool, error) {
	p, asc, err := markerPage(r)
	if r.URL.Query().Get("isAscendingOrder") == "" {
		asc = true
	}
	return p, asc, err
}
