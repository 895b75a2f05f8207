package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/wolfix/orders/internal/adapters/inputcheck"
)

// decodeJSON reads the request body into dst: it must be declared application/json and hold
// exactly one JSON value whose fields all exist in dst.
func decodeJSON(c *gin.Context, dst any) error {
	if err := requireJSON(c); err != nil {
		return err
	}
	return decodeStrict(body(c), dst)
}

// requireJSON refuses a body that is not declared application/json.
func requireJSON(c *gin.Context) error {
	if mt, _, err := mime.ParseMediaType(c.GetHeader("Content-Type")); err != nil || mt != "application/json" {
		return errMediaType
	}
	return nil
}

// decodeStrict decodes exactly one JSON value into dst, refusing unknown fields. Numbers that
// must stay exact are json.Number fields in dst, never float64. Every string of the body must
// first pass inputcheck.JSONStrings: no NUL, valid UTF-8, at most maxJSONStringBytes.
func decodeStrict(data []byte, dst any) error {
	if err := inputcheck.JSONStrings(data, maxJSONStringBytes); err != nil {
		return errJSONText.Wrap(err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeFault(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errMalformedJSON.WithMessage("the request body holds more than one JSON value")
	}
	return nil
}

// decodeFault explains a decoding error to the client in terms of the request, not of Go.
func decodeFault(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return errMalformedJSON.WithMessage("the request body is empty")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errMalformedJSON.WithMessage("the request body ends in the middle of a JSON value")
	case errors.As(err, &syntax):
		return errMalformedJSON.WithMessage("the request body is not valid JSON (at byte %d)", syntax.Offset)
	case errors.As(err, &typ):
		if typ.Field == "" {
			return errFieldType.WithMessage("the request body must be a JSON object")
		}
		return errFieldType.WithMessage("field %q has the wrong JSON type", typ.Field)
	}
	// encoding/json reports these two only as text.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return errUnknownField.WithMessage("unknown field %s", name)
	}
	if strings.HasPrefix(err.Error(), "json: invalid number literal") {
		return errFieldType.WithMessage("a numeric field holds a string that is not a number")
	}
	return errMalformedJSON.WithMessage("the request body is not valid JSON")
}
