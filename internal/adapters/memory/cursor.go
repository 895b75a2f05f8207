package memory

import (
	"encoding/base64"
	"errors"
	"strings"
	"time"
)

// ErrBadCursor is returned by List for a cursor the store did not make.
var ErrBadCursor = errors.New("memory: bad cursor")

// position is where a listed item stands: its time (zero for products, listed by id) and id.
type position struct {
	at time.Time
	id string
}

// before reports whether p comes before q in ascending order.
func (p position) before(q position) bool {
	return p.at.Before(q.at) || (p.at.Equal(q.at) && p.id < q.id)
}

func (p position) cursor() string {
	return base64.RawURLEncoding.EncodeToString([]byte(p.at.Format(time.RFC3339Nano) + " " + p.id))
}

func parseCursor(c string) (position, error) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return position{}, ErrBadCursor
	}
	at, id, ok := strings.Cut(string(raw), " ")
	t, err := time.Parse(time.RFC3339Nano, at)
	if !ok || err != nil {
		return position{}, ErrBadCursor
	}
	return position{at: t, id: id}, nil
}

// page returns up to limit of sorted (ordered by their positions, ascending or, newestFirst,
// descending) that follow the cursor after, and the cursor of the next page ("" at the end).
func page[T any](sorted []T, at func(T) position, newestFirst bool, after string, limit int) ([]T, string, error) {
	rest := sorted
	if after != "" {
		c, err := parseCursor(after)
		if err != nil {
			return nil, "", err
		}
		follows := func(p position) bool { return (newestFirst && p.before(c)) || (!newestFirst && c.before(p)) }
		for len(rest) > 0 && !follows(at(rest[0])) {
			rest = rest[1:]
		}
	}
	if len(rest) <= limit {
		return rest, "", nil
	}
	return rest[:limit], at(rest[limit-1]).cursor(), nil
}
