package query

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"strconv"
	"time"

	"github.com/moat-iot/moat/internal/awsapi"
)

// XML namespaces of the awsQuery services moat serves (botocore
// metadata.xmlNamespace).
const (
	IAMNamespace = "https://iam.amazonaws.com/doc/2010-05-08/"
	STSNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"
)

// TimeLayout is how answers write timestamps: ISO 8601 in UTC to the
// second, as IAM and STS do ("2026-05-01T12:00:00Z").
const TimeLayout = "2006-01-02T15:04:05Z"

// Time is a timestamp in an answer. Use *Time with `xml:",omitempty"` for
// optional ones.
type Time time.Time

// MarshalText writes t in TimeLayout.
func (t Time) MarshalText() ([]byte, error) {
	return []byte(time.Time(t).UTC().Format(TimeLayout)), nil
}

// NewTime returns a pointer to t as a Time, or nil for the zero time.
func NewTime(t time.Time) *Time {
	if t.IsZero() {
		return nil
	}
	q := Time(t)
	return &q
}

type responseMetadata struct {
	RequestID string `xml:"RequestId"`
}

// Write answers an operation with 200 and
//
//	<{Action}Response xmlns="{ns}">
//	  <{Action}Result>{result}</{Action}Result>
//	  <ResponseMetadata><RequestId>{requestID}</RequestId></ResponseMetadata>
//	</{Action}Response>
//
// result is marshalled with encoding/xml (tag lists as
// `xml:"Users>member"`); nil leaves the Result element out, as AWS does
// for operations without output. action must be an operation name.
func Write(w http.ResponseWriter, ns, action, requestID string, result any) {
	var buf bytes.Buffer
	enc := xml.NewEncoder(&buf)
	start := xml.StartElement{Name: xml.Name{Local: action + "Response"},
		Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: ns}}}
	err := enc.EncodeToken(start)
	if err == nil && result != nil {
		err = enc.EncodeElement(result, xml.StartElement{Name: xml.Name{Local: action + "Result"}})
	}
	if err == nil {
		err = enc.EncodeElement(responseMetadata{RequestID: requestID}, xml.StartElement{Name: xml.Name{Local: "ResponseMetadata"}})
	}
	if err == nil {
		err = enc.EncodeToken(start.End())
	}
	if err == nil {
		err = enc.Flush()
	}
	if err != nil {
		WriteError(w, ns, requestID, awsapi.Internal(err))
		return
	}
	send(w, http.StatusOK, requestID, buf.Bytes())
}

type errorResponse struct {
	XMLName   xml.Name    `xml:"ErrorResponse"`
	Xmlns     string      `xml:"xmlns,attr"`
	Error     errorDetail `xml:"Error"`
	RequestID string      `xml:"RequestId"`
}

type errorDetail struct {
	Type    string `xml:"Type"`
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

// WriteError answers with err, translated (see Translate), as
//
//	<ErrorResponse xmlns="{ns}">
//	  <Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>...</Message></Error>
//	  <RequestId>{requestID}</RequestId>
//	</ErrorResponse>
//
// with the error's HTTP status. Type is Receiver for 5xx statuses. Only
// the safe message is written; the cause stays in the logs.
func WriteError(w http.ResponseWriter, ns, requestID string, err error) {
	e := Translate(err)
	typ := "Sender"
	if e.HTTPStatus() >= 500 {
		typ = "Receiver"
	}
	body, mErr := xml.Marshal(errorResponse{Xmlns: ns, RequestID: requestID,
		Error: errorDetail{Type: typ, Code: string(e.Code), Message: e.Message}})
	if mErr != nil { // only strings: cannot happen
		body = []byte("<ErrorResponse><Error><Type>Receiver</Type><Code>InternalFailure</Code></Error></ErrorResponse>")
	}
	send(w, e.HTTPStatus(), requestID, body)
}

func send(w http.ResponseWriter, status int, requestID string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/xml")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set(awsapi.RequestIDHeader, requestID)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
