package dbfault

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wolfix/orders/internal/domain/fault"
)

func TestClassifyTellsConnectionFailuresOnly(t *testing.T) {
	aFault := fault.NotFound("thing_not_found", "no such thing")
	tests := []struct {
		name string
		err  error
		down bool
	}{
		{"a bad connection", fmt.Errorf("get product: %w", driver.ErrBadConn), true},
		{"a closed connection", sql.ErrConnDone, true},
		{"a refused dial", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, true},
		{"a failed connect", &pgconn.ConnectError{}, true},
		{"a connection cut mid-reply", fmt.Errorf("begin: %w", io.ErrUnexpectedEOF), true},
		{"pgx's closed connection", errors.New("commit: conn closed"), true},
		{"a statement past its deadline", fmt.Errorf("list: %w", context.DeadlineExceeded), true},
		{"the server shutting down", &pgconn.PgError{Code: "57P01"}, true},
		{"a connection exception", &pgconn.PgError{Code: "08006"}, true},
		{"too many connections", &pgconn.PgError{Code: "53300"}, true},
		{"a unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"invalid text", &pgconn.PgError{Code: "22021"}, false},
		{"no rows", fmt.Errorf("get: %w", sql.ErrNoRows), false},
		{"a fault", aFault, false},
		{"nil", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Classify(tc.err)
			if down := errors.Is(got, ErrUnavailable); down != tc.down {
				t.Fatalf("Classify(%v) = %v; database_unavailable = %v, want %v", tc.err, got, down, tc.down)
			}
			if tc.err != nil && !errors.Is(got, tc.err) {
				t.Errorf("the original error %v is lost in %v", tc.err, got)
			}
		})
	}
}
