package stripe

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
)

// logger carries stripe-go's log lines to slog. Debug lines are dropped because stripe-go prints
// whole response bodies there, and those hold client secrets; the rest are redacted.
type logger struct{ log *slog.Logger }

func newLogger(l *slog.Logger) *logger {
	return &logger{log: l.With(slog.String("component", "stripe-go"))}
}

// Debugf drops the line: it may contain a response body with a client secret.
func (l *logger) Debugf(string, ...interface{}) {}

// Infof logs at debug level: request lines are noise at info level.
func (l *logger) Infof(format string, v ...interface{}) { l.emit(slog.LevelDebug, format, v) }

// Warnf logs at warn level (retries).
func (l *logger) Warnf(format string, v ...interface{}) { l.emit(slog.LevelWarn, format, v) }

// Errorf logs at warn level: the error also returns to the caller, which decides how bad it is.
func (l *logger) Errorf(format string, v ...interface{}) { l.emit(slog.LevelWarn, format, v) }

func (l *logger) emit(level slog.Level, format string, v []interface{}) {
	ctx := context.Background()
	if l.log.Enabled(ctx, level) {
		l.log.Log(ctx, level, Redact(fmt.Sprintf(format, v...)))
	}
}

// secretPattern matches Stripe client secrets (pi_…_secret_…, seti_…_secret_…), secret and
// restricted API keys, and webhook signing secrets.
var secretPattern = regexp.MustCompile(`\b(?:[a-z]+_[A-Za-z0-9]+_secret_[A-Za-z0-9]+|(?:sk|rk)_(?:test|live)_[A-Za-z0-9]+|whsec_[A-Za-z0-9+/=]+)`)

// Redact replaces every Stripe secret in s by "[REDACTED]".
func Redact(s string) string { return secretPattern.ReplaceAllString(s, "[REDACTED]") }
