package sqlstore

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/wolfix/orders/internal/adapters/inputcheck"
	"github.com/wolfix/orders/internal/domain/fault"
)

// ErrBadCursor reports a page cursor this service did not hand out.
var ErrBadCursor = fault.Invalid("cursor_invalid", "the page cursor is not valid")

// Page sizes used when a query asks for none or for too many.
const (
	defaultPageSize = 20
	maxPageSize     = 100
)

// pageSize clamps a requested limit to 1…maxPageSize, 0 meaning the default.
func pageSize(limit int) int {
	switch {
	case limit <= 0:
		return defaultPageSize
	case limit > maxPageSize:
		return maxPageSize
	}
	return limit
}

// Cursors are opaque to clients: base64url of the last row's sort key. A cursor whose key holds a
// NUL byte or invalid UTF-8 was never handed out (and PostgreSQL would refuse to compare it).

// orderCursor keys a page of orders, newest first, by creation time (microseconds, as stored) and id.
func orderCursor(createdAt time.Time, id string) string {
	return encodeCursor(strconv.FormatInt(createdAt.UnixMicro(), 10) + " " + id)
}

func parseOrderCursor(c string) (time.Time, string, error) {
	raw, err := decodeCursor(c)
	if err != nil {
		return time.Time{}, "", err
	}
	micros, id, ok := strings.Cut(raw, " ")
	us, err := strconv.ParseInt(micros, 10, 64)
	if !ok || err != nil || id == "" {
		return time.Time{}, "", ErrBadCursor
	}
	return time.UnixMicro(us).UTC(), id, nil
}

func encodeCursor(key string) string { return base64.RawURLEncoding.EncodeToString([]byte(key)) }

func decodeCursor(c string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) == 0 || !inputcheck.Text(string(b), len(b)) {
		return "", ErrBadCursor
	}
	return string(b), nil
}
