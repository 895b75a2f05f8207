package telemetry

import (
	"context"
	"log/slog"

	"github.com/ThreeDotsLabs/watermill"
)

// WatermillLogger is watermill's slog adapter over logger that drops a Debug or Trace line before
// converting its fields. Watermill logs every message it moves at those levels, and its adapter
// builds the line's attributes before slog checks whether the level is enabled.
func WatermillLogger(logger *slog.Logger) watermill.LoggerAdapter {
	if logger == nil {
		logger = slog.Default()
	}
	return leveledWatermillLogger{LoggerAdapter: watermill.NewSlogLogger(logger), logger: logger}
}

// leveledWatermillLogger checks logger's level before its adapter does any work.
type leveledWatermillLogger struct {
	watermill.LoggerAdapter
	logger *slog.Logger // what the adapter writes to, fields aside
}

func (l leveledWatermillLogger) Debug(msg string, fields watermill.LogFields) {
	if l.logger.Enabled(context.Background(), slog.LevelDebug) {
		l.LoggerAdapter.Debug(msg, fields)
	}
}

func (l leveledWatermillLogger) Trace(msg string, fields watermill.LogFields) {
	if l.logger.Enabled(context.Background(), watermill.LevelTrace) {
		l.LoggerAdapter.Trace(msg, fields)
	}
}

func (l leveledWatermillLogger) With(fields watermill.LogFields) watermill.LoggerAdapter {
	return leveledWatermillLogger{LoggerAdapter: l.LoggerAdapter.With(fields), logger: l.logger}
}
