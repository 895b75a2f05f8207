package httpapi

import (
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/wolfix/orders/internal/adapters/inputcheck"
	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/domain/catalog"
	"github.com/wolfix/orders/internal/domain/fault"
	"github.com/wolfix/orders/internal/domain/order"
)

// Limits of the request's text outside the body.
const (
	maxQueryBytes       = 1024
	maxHeaderValueBytes = 8 << 10
	// maxJSONStringBytes bounds every string of a JSON body; the domain's own limits are shorter.
	maxJSONStringBytes = 4 << 10
)

var (
	errQueryInvalid  = fault.Invalid("query_invalid", "the query string is malformed, too long, or holds a NUL byte or invalid UTF-8")
	errHeaderInvalid = fault.Invalid("header_invalid", "a request header is too long or holds control characters or invalid UTF-8")
	errJSONText      = fault.Invalid("json_text_invalid", "a string of the request body is too long or holds a NUL character or invalid UTF-8")
)

// screenInputs refuses what no handler should ever see: a path id that cannot exist (404 with
// the resource's not-found code), and a malformed query string or header (400). Bodies are
// screened by decodeStrict, webhook payloads by the verifier.
func (s *Server) screenInputs(c *gin.Context) {
	for _, p := range c.Params {
		if !inputcheck.ID(p.Value) {
			s.fail(c, notFoundFor(c.FullPath()))
			return
		}
	}
	if !saneQuery(c.Request.URL.RawQuery) {
		s.fail(c, errQueryInvalid)
		return
	}
	for _, values := range c.Request.Header {
		for _, v := range values {
			if !saneHeaderValue(v) {
				s.fail(c, errHeaderInvalid)
				return
			}
		}
	}
	c.Next()
}

// notFoundFor is the not-found fault of the resource a route template names by id.
func notFoundFor(route string) *fault.Error {
	switch {
	case strings.HasPrefix(route, "/api/products/"):
		return catalog.ErrNotFound
	case strings.HasPrefix(route, "/api/orders/"):
		return order.ErrNotFound
	case strings.HasPrefix(route, "/api/admin/webhook-events/"):
		return app.ErrInboxEventNotFound
	case strings.HasPrefix(route, "/sandbox/payment-intents/"):
		return app.ErrIntentNotFound
	}
	return errRouteNotFound
}

func saneQuery(raw string) bool {
	if raw == "" {
		return true
	}
	if len(raw) > maxQueryBytes {
		return false
	}
	values, err := url.ParseQuery(raw)
	if err != nil {
		return false
	}
	for k, vs := range values {
		if !inputcheck.Text(k, maxQueryBytes) {
			return false
		}
		for _, v := range vs {
			if !inputcheck.Text(v, maxQueryBytes) {
				return false
			}
		}
	}
	return true
}

// saneHeaderValue accepts valid UTF-8 without control characters other than tab.
func saneHeaderValue(v string) bool {
	if len(v) > maxHeaderValueBytes || !utf8.ValidString(v) {
		return false
	}
	for i := 0; i < len(v); i++ {
		if b := v[i]; b < 0x20 && b != '\t' || b == 0x7f {
			return false
		}
	}
	return true
}
