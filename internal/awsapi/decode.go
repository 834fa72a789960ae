package awsapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// ReadBody reads the whole request body, refusing more than limit bytes
// before reading them (413 RequestEntityTooLargeException for the data
// plane, InvalidRequestException 413 for the control plane).
func ReadBody(r *http.Request, limit int64) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	if r.ContentLength > limit {
		return nil, tooLarge(limit)
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, &Error{Code: InvalidRequest, Message: "Could not read the request body.", Cause: err}
	}
	if int64(len(b)) > limit {
		return nil, tooLarge(limit)
	}
	return b, nil
}

func tooLarge(limit int64) *Error {
	return &Error{Code: InvalidRequest, Status: http.StatusRequestEntityTooLarge,
		Message: fmt.Sprintf("The request body exceeds the maximum size of %d bytes.", limit)}
}

// DecodeJSON decodes a JSON request body into v. An empty body leaves v at
// its zero value (members are then checked by the caller). Unknown members
// are ignored, as AWS ignores them; a body that is not one JSON object, has
// trailing data, or has a member of the wrong type is an
// InvalidRequestException that names the member.
func DecodeJSON(r *http.Request, body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if err := checkContentType(r); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Errorf(InvalidRequest, "The request body has data after the JSON object.")
	}
	return nil
}

func checkContentType(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return Errorf(InvalidRequest, "Content-Type %q is not valid.", ct)
	}
	switch {
	case mt == "application/json", strings.HasPrefix(mt, "application/x-amz-json"),
		mt == "binary/octet-stream", mt == "application/octet-stream":
		// The CLI and SDKs send application/json; some older tools send the
		// body as octet-stream.
		return nil
	}
	return &Error{Code: InvalidRequest, Status: http.StatusUnsupportedMediaType,
		Message: fmt.Sprintf("Content-Type %q is not supported; send application/json.", mt)}
}

func jsonError(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return &Error{Code: InvalidRequest, Message: fmt.Sprintf("The request body is not valid JSON (at byte %d).", se.Offset), Cause: err}
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			return &Error{Code: InvalidRequest, Message: "The request body must be a JSON object.", Cause: err}
		}
		return &Error{Code: InvalidRequest, Message: fmt.Sprintf("The member %s must be of type %s.", field, jsonKind(te.Type.Kind().String())), Cause: err}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &Error{Code: InvalidRequest, Message: "The request body is truncated JSON.", Cause: err}
	}
	return &Error{Code: InvalidRequest, Message: "The request body is not valid JSON.", Cause: err}
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "map", "struct":
		return "object"
	case "slice", "array":
		return "list"
	}
	return "number"
}
