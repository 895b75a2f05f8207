// Package fault owns the service's error vocabulary: every rule a command can break is reported as
// an *Error carrying a Kind (what sort of failure, which the HTTP adapter turns into a status) and a
// stable machine-readable Code that clients may switch on. Codes never change once published.
package fault

import (
	"errors"
	"fmt"
)

// Kind classifies a failure by who must act on it.
type Kind int

const (
	// KindInvalid: the request itself is wrong (bad field, impossible value).
	KindInvalid Kind = iota + 1
	// KindNotFound: the thing does not exist, or the caller may not know it exists.
	KindNotFound
	// KindConflict: the request is valid but the current state forbids it.
	KindConflict
	// KindForbidden: the caller is known but lacks the right.
	KindForbidden
	// KindUnauthenticated: the caller could not be identified.
	KindUnauthenticated
	// KindUnavailable: a dependency (payment provider, broker) failed; retrying later may work.
	KindUnavailable
	// KindUpstream: a dependency answered with an error that retrying will not fix.
	KindUpstream
)

// Error is a rule violation with a stable code. Construct it with the helpers below.
type Error struct {
	Kind    Kind
	Code    string
	Message string
	cause   error
}

func (e *Error) Error() string {
	if e.cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.cause)
	}
	return e.Code + ": " + e.Message
}

// Unwrap exposes the underlying cause, if any.
func (e *Error) Unwrap() error { return e.cause }

// Is makes errors.Is match two faults with the same code, so sentinels can be compared.
func (e *Error) Is(target error) bool {
	var t *Error
	return errors.As(target, &t) && t.Code == e.Code && t.Kind == e.Kind
}

// Wrap returns a copy of e that carries cause.
func (e *Error) Wrap(cause error) *Error {
	c := *e
	c.cause = cause
	return &c
}

// WithMessage returns a copy of e with a more specific message.
func (e *Error) WithMessage(format string, args ...any) *Error {
	c := *e
	c.Message = fmt.Sprintf(format, args...)
	return &c
}

// Invalid builds a KindInvalid fault.
func Invalid(code, format string, args ...any) *Error { return build(KindInvalid, code, format, args) }

// NotFound builds a KindNotFound fault.
func NotFound(code, format string, args ...any) *Error {
	return build(KindNotFound, code, format, args)
}

// Conflict builds a KindConflict fault.
func Conflict(code, format string, args ...any) *Error {
	return build(KindConflict, code, format, args)
}

// Forbidden builds a KindForbidden fault.
func Forbidden(code, format string, args ...any) *Error {
	return build(KindForbidden, code, format, args)
}

// Unauthenticated builds a KindUnauthenticated fault.
func Unauthenticated(code, format string, args ...any) *Error {
	return build(KindUnauthenticated, code, format, args)
}

// Unavailable builds a KindUnavailable fault.
func Unavailable(code, format string, args ...any) *Error {
	return build(KindUnavailable, code, format, args)
}

// Upstream builds a KindUpstream fault.
func Upstream(code, format string, args ...any) *Error {
	return build(KindUpstream, code, format, args)
}

func build(k Kind, code, format string, args []any) *Error {
	return &Error{Kind: k, Code: code, Message: fmt.Sprintf(format, args...)}
}

// As returns the fault inside err, if there is one.
func As(err error) (*Error, bool) {
	var f *Error
	ok := errors.As(err, &f)
	return f, ok
}
