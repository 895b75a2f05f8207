package smtpnotify_test

import (
	"strings"
	"testing"

	"github.com/wolfix/orders/internal/adapters/smtpnotify"
	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/app/porttest"
	"github.com/wolfix/orders/internal/testenv"
)

// TestNotifierConformance runs the notifier port's suite against a real SMTP server; each message
// the server prints is one delivery.
func TestNotifierConformance(t *testing.T) {
	porttest.RunNotifier(t, func(t *testing.T, orders porttest.OrderReader) (app.Notifier, porttest.Delivered) {
		server := testenv.StartSMTP(t)
		n, err := smtpnotify.New(server.URL, orders)
		if err != nil {
			t.Fatal(err)
		}
		return n, func(*testing.T) []string {
			messages := strings.Split(server.Received(), "END MESSAGE")
			return messages[:len(messages)-1] // what follows the last end is no whole message
		}
	}, porttest.NotifierFeatures{ReadsTheOrder: true})
}
