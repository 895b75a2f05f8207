package httpapi

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/domain/money"
)

// writeJSON answers v with encoding/json, which renders json.Number amounts exactly whatever
// JSON library gin was built with.
func (s *Server) writeJSON(c *gin.Context, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Data(status, "application/json; charset=utf-8", data)
}

// amount renders money in major units as an exact JSON number: 45998 USD is 459.98.
func amount(m money.Money) json.Number { return json.Number(m.Decimal()) }

// nullable renders "" as JSON null.
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// deref reads an optional JSON string; null and absent are "".
func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// timestamp renders times in UTC, RFC 3339 with the precision that is there.
func timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// page is a list answer with the cursor of the next page (null on the last page).
type page[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"nextCursor"`
}

func newPage[E, T any](entries []E, view func(E) T, next string) page[T] {
	items := make([]T, 0, len(entries))
	for _, e := range entries {
		items = append(items, view(e))
	}
	return page[T]{Items: items, NextCursor: nullable(next)}
}

// pageParams reads ?cursor= and ?limit=; a missing limit is the app's default.
func pageParams(c *gin.Context) (cursor string, limit int, err error) {
	raw := c.Query("limit")
	if raw == "" {
		return c.Query("cursor"), 0, nil
	}
	limit, err = strconv.Atoi(raw)
	if err != nil || limit == 0 {
		return "", 0, app.ErrPageSize
	}
	return c.Query("cursor"), limit, nil
}
