package awsapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
)

// RequestIDHeader carries the request id on every response, as AWS does.
const RequestIDHeader = "X-Amzn-Requestid"

// errorBody is the JSON error document. The SDKs read the code from the
// X-Amzn-ErrorType header first, then from "code"; "__type" is for the
// awsJson protocols.
type errorBody struct {
	Code        Code   `json:"code"`
	Message     string `json:"message"`
	ResourceID  string `json:"resourceId,omitempty"`
	ResourceARN string `json:"resourceArn,omitempty"`
}

// WriteError writes err in the AWS REST-JSON error shape. Only the safe
// message is written; the cause stays in the logs.
func WriteError(w http.ResponseWriter, err error) {
	e := From(err)
	body, _ := json.Marshal(errorBody{Code: e.Code, Message: e.Message, ResourceID: e.ResourceID, ResourceARN: e.ResourceARN})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Amzn-Errortype", string(e.Code))
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(e.HTTPStatus())
	_, _ = w.Write(body)
}

// Raw is a response body sent as is (the shadow document, a payload).
type Raw struct {
	ContentType string
	Body        []byte
}

// WriteJSON writes v as a 200 JSON response. A nil v writes an empty body;
// a Raw writes its bytes.
func WriteJSON(w http.ResponseWriter, v any) {
	h := w.Header()
	switch v := v.(type) {
	case nil:
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK)
	case Raw:
		ct := v.ContentType
		if ct == "" {
			ct = "application/json"
		}
		h.Set("Content-Type", ct)
		h.Set("Content-Length", strconv.Itoa(len(v.Body)))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(v.Body)
	default:
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			WriteError(w, Internal(err))
			return
		}
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", strconv.Itoa(buf.Len()))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(buf.Bytes())
	}
}
