package query

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/moat-iot/moat/internal/awsapi"
)

type user struct {
	UserName   string `xml:"UserName"`
	CreateDate Time   `xml:"CreateDate"`
	PasswordAt *Time  `xml:"PasswordLastUsed,omitempty"`
}

type listResult struct {
	Users       []user `xml:"Users>member"`
	IsTruncated bool   `xml:"IsTruncated"`
}

// TestWrite checks the answer envelope, list members and timestamps.
func TestWrite(t *testing.T) {
	w := httptest.NewRecorder()
	at := time.Date(2026, 5, 1, 12, 30, 45, 999, time.FixedZone("x", 3600))
	Write(w, IAMNamespace, "ListUsers", "req-1", listResult{Users: []user{{UserName: "a<b", CreateDate: Time(at)}, {UserName: "c", CreateDate: Time(at), PasswordAt: NewTime(at)}}})
	want := `<ListUsersResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ListUsersResult><Users>` +
		`<member><UserName>a&lt;b</UserName><CreateDate>2026-05-01T11:30:45Z</CreateDate></member>` +
		`<member><UserName>c</UserName><CreateDate>2026-05-01T11:30:45Z</CreateDate><PasswordLastUsed>2026-05-01T11:30:45Z</PasswordLastUsed></member>` +
		`</Users><IsTruncated>false</IsTruncated></ListUsersResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></ListUsersResponse>`
	if w.Code != http.StatusOK || w.Body.String() != want {
		t.Fatalf("got %d\n%s\nwant\n%s", w.Code, w.Body, want)
	}
	if w.Header().Get("Content-Type") != "text/xml" || w.Header().Get(awsapi.RequestIDHeader) != "req-1" {
		t.Fatalf("headers = %v", w.Header())
	}
	if NewTime(time.Time{}) != nil {
		t.Fatal("NewTime of the zero time is not nil")
	}
}

// TestWrite_NoResult leaves the Result element out for operations
// without output.
func TestWrite_NoResult(t *testing.T) {
	w := httptest.NewRecorder()
	Write(w, STSNamespace, "DeleteUser", "r", nil)
	want := `<DeleteUserResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DeleteUserResponse>`
	if w.Body.String() != want {
		t.Fatalf("got %s", w.Body)
	}
}

// TestWriteError checks the ErrorResponse shape, the Sender/Receiver
// type and that causes stay out of the body.
func TestWriteError(t *testing.T) {
	w := httptest.NewRecorder()
	WriteError(w, IAMNamespace, "r2", &awsapi.Error{Code: "NoSuchEntity", Status: 404, Message: "The user with name x cannot be found.", Cause: errors.New("secret detail")})
	want := `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>NoSuchEntity</Code>` +
		`<Message>The user with name x cannot be found.</Message></Error><RequestId>r2</RequestId></ErrorResponse>`
	if w.Code != 404 || w.Body.String() != want {
		t.Fatalf("got %d %s", w.Code, w.Body)
	}
	w = httptest.NewRecorder()
	WriteError(w, IAMNamespace, "r3", errors.New("disk on fire"))
	want = `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Receiver</Type><Code>InternalFailure</Code>` +
		`<Message>An internal failure occurred.</Message></Error><RequestId>r3</RequestId></ErrorResponse>`
	if w.Code != 500 || w.Body.String() != want {
		t.Fatalf("got %d %s", w.Code, w.Body)
	}
}

// TestTranslate renames the shared layers' REST-JSON codes.
func TestTranslate(t *testing.T) {
	tests := []struct {
		in     *awsapi.Error
		code   Code
		status int
	}{
		{&awsapi.Error{Code: awsapi.InvalidSignature, Message: "m"}, SignatureDoesNotMatch, 403},
		{&awsapi.Error{Code: awsapi.UnrecognizedClient, Message: "m"}, InvalidClientTokenID, 403},
		{&awsapi.Error{Code: awsapi.MissingAuthenticationToken, Message: "m"}, MissingAuthenticationToken, 403},
		{&awsapi.Error{Code: awsapi.IncompleteSignature, Message: "m", Status: 400}, IncompleteSignature, 400},
		{&awsapi.Error{Code: "ExpiredTokenException", Message: "m", Status: 403}, ExpiredToken, 403},
		{&awsapi.Error{Code: awsapi.AccessDenied, Message: "m"}, AccessDenied, 403},
		{&awsapi.Error{Code: awsapi.InvalidRequest, Message: "m", Status: 413}, RequestTooLarge, 413},
		{&awsapi.Error{Code: awsapi.InternalFailure, Message: "m"}, InternalFailure, 500},
		{&awsapi.Error{Code: "NoSuchEntity", Message: "m", Status: 404}, "NoSuchEntity", 404},
	}
	for _, tc := range tests {
		got := Translate(tc.in)
		if got.Code != awsapi.Code(tc.code) || got.HTTPStatus() != tc.status || got.Message != "m" {
			t.Errorf("%s: got %s %d %q, want %s %d", tc.in.Code, got.Code, got.HTTPStatus(), got.Message, tc.code, tc.status)
		}
	}
	if Translate(nil) != nil {
		t.Error("Translate(nil) is not nil")
	}
}
