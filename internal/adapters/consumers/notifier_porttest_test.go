package consumers_test

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/wolfix/orders/internal/adapters/consumers"
	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/app/porttest"
	"github.com/wolfix/orders/internal/testenv"
)

// TestLogNotifierConformance runs the notifier port's suite on LogNotifier; each log line is one
// delivery.
func TestLogNotifierConformance(t *testing.T) {
	porttest.RunNotifier(t, func(*testing.T, porttest.OrderReader) (app.Notifier, porttest.Delivered) {
		log := &testenv.Buffer{}
		return consumers.LogNotifier{Logger: slog.New(slog.NewTextHandler(log, nil))}, func(*testing.T) []string {
			return strings.FieldsFunc(log.String(), func(r rune) bool { return r == '\n' })
		}
	}, porttest.NotifierFeatures{})
}
