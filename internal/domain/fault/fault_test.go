package fault_test

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/wolfix/orders/internal/domain/fault"
)

func TestBuilders(t *testing.T) {
	tests := []struct {
		name string
		err  *fault.Error
		kind fault.Kind
	}{
		{"Invalid", fault.Invalid("c", "m %d", 1), fault.KindInvalid},
		{"NotFound", fault.NotFound("c", "m %d", 1), fault.KindNotFound},
		{"Conflict", fault.Conflict("c", "m %d", 1), fault.KindConflict},
		{"Forbidden", fault.Forbidden("c", "m %d", 1), fault.KindForbidden},
		{"Unauthenticated", fault.Unauthenticated("c", "m %d", 1), fault.KindUnauthenticated},
		{"Unavailable", fault.Unavailable("c", "m %d", 1), fault.KindUnavailable},
		{"Upstream", fault.Upstream("c", "m %d", 1), fault.KindUpstream},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.err.Kind != tt.kind || tt.err.Code != "c" || tt.err.Message != "m 1" {
				t.Errorf("got %+v; want kind %d, code c, message \"m 1\"", *tt.err, tt.kind)
			}
			if got, want := tt.err.Error(), "c: m 1"; got != want {
				t.Errorf("Error() = %q; want %q", got, want)
			}
		})
	}
}

func TestIsMatchesCodeAndKind(t *testing.T) {
	base := fault.Conflict("out_of_stock", "none left")
	tests := []struct {
		name   string
		err    error
		target error
		want   bool
	}{
		{"same", base, base, true},
		{"other message", base.WithMessage("only %d left", 2), base, true},
		{"wrapped with %w", fmt.Errorf("reserve: %w", base.WithMessage("x")), base, true},
		{"with cause", base.Wrap(io.EOF), base, true},
		{"cause reachable", base.Wrap(io.EOF), io.EOF, true},
		{"other code", fault.Conflict("other", "none left"), base, false},
		{"other kind", fault.Invalid("out_of_stock", "none left"), base, false},
		{"plain error", errors.New("out_of_stock: none left"), base, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errors.Is(tt.err, tt.target); got != tt.want {
				t.Errorf("errors.Is(%v, %v) = %v; want %v", tt.err, tt.target, got, tt.want)
			}
		})
	}
}

func TestCopiesLeaveTheSentinelAlone(t *testing.T) {
	base := fault.NotFound("order_not_found", "order not found")
	_ = base.WithMessage("order %q not found", "o1")
	_ = base.Wrap(io.EOF)
	if base.Message != "order not found" || base.Unwrap() != nil {
		t.Errorf("sentinel = %+v; want it unchanged", *base)
	}
	w := base.Wrap(io.EOF)
	if got, want := w.Error(), "order_not_found: order not found: EOF"; got != want {
		t.Errorf("Error() = %q; want %q", got, want)
	}
	if w.Unwrap() != io.EOF {
		t.Errorf("Unwrap() = %v; want EOF", w.Unwrap())
	}
}

func TestAs(t *testing.T) {
	base := fault.Forbidden("not_owner", "no")
	if f, ok := fault.As(fmt.Errorf("ctx: %w", base)); !ok || f.Code != "not_owner" {
		t.Errorf("As(wrapped) = %v, %v; want the fault, true", f, ok)
	}
	if f, ok := fault.As(io.EOF); ok || f != nil {
		t.Errorf("As(EOF) = %v, %v; want nil, false", f, ok)
	}
	if f, ok := fault.As(nil); ok || f != nil {
		t.Errorf("As(nil) = %v, %v; want nil, false", f, ok)
	}
}
