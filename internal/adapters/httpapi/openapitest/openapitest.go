// Package openapitest checks HTTP responses against the service's OpenAPI document
// (httpapi.OpenAPI, served at /openapi.yaml) with libopenapi-validator, for the tests: a status
// the operation does not document, a content type it does not declare, or a body that breaks
// its schema (a missing required field, a wrong type, a field the schema does not allow) is an
// error. The validator is built once per test binary; it is safe for concurrent use.
package openapitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	validationerrors "github.com/pb33f/libopenapi-validator/errors"
	"github.com/pb33f/libopenapi-validator/helpers"

	"github.com/wolfix/orders/internal/adapters/httpapi"
)

var contract = sync.OnceValues(func() (validator.Validator, error) {
	doc, err := libopenapi.NewDocument(httpapi.OpenAPI())
	if err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		return nil, fmt.Errorf("openapi.yaml: %v", errs)
	}
	if ok, problems := v.ValidateDocument(); !ok {
		return nil, fmt.Errorf("openapi.yaml is not a valid OpenAPI document: %v", problems)
	}
	return v, nil
})

// Check returns an error describing every way the response (status, header, body) to req
// departs from the document, or nil when it conforms. req's body is not read.
func Check(req *http.Request, status int, header http.Header, body []byte) error {
	v, err := contract()
	if err != nil {
		return err
	}
	resp := &http.Response{StatusCode: status, Header: header, Body: io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)), Request: req}
	if routerAnswer(status, body) {
		return nil
	}
	ok, problems := v.ValidateHttpResponse(req, resp)
	if ok || undescribed(problems) {
		return nil
	}
	msgs := make([]string, len(problems))
	for i, p := range problems {
		msgs[i] = p.Error()
	}
	return fmt.Errorf("%s %s → %d does not conform to openapi.yaml:\n  %s\n  body: %.500s",
		req.Method, req.URL.RequestURI(), status, strings.Join(msgs, "\n  "), body)
}

// undescribed reports that the document has no operation for the request (a path or a method no
// route serves, answered by the router or refused by the edge before routing): there is no
// schema to hold the answer to, and TestOpenAPIMatchesRoutes keeps every route documented.
func undescribed(problems []*validationerrors.ValidationError) bool {
	for _, p := range problems {
		if p.ValidationType != helpers.PathValidation && p.ValidationSubType != helpers.ValidationMissingOperation {
			return false
		}
	}
	return len(problems) > 0
}

// routerAnswer reports the router's own 404 route_not_found or 405 method_not_allowed, also
// where the validator's path matching is more lenient than the router's (a trailing slash).
func routerAnswer(status int, body []byte) bool {
	var p struct{ Code string }
	if json.Unmarshal(body, &p) != nil {
		return false
	}
	return status == http.StatusNotFound && p.Code == "route_not_found" ||
		status == http.StatusMethodNotAllowed && p.Code == "method_not_allowed"
}
