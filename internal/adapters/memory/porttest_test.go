package memory_test

import (
	"fmt"
	"testing"

	"github.com/wolfix/orders/internal/adapters/memory"
	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/app/porttest"
	"github.com/wolfix/orders/internal/domain/payment"
)

func TestStoreConformance(t *testing.T) {
	porttest.RunStore(t, func(*testing.T) (app.Store, porttest.Committed) {
		store := memory.NewStore()
		return store, func(*testing.T) []app.Event { return store.Published() }
	}, porttest.StoreFeatures{BadCursor: memory.ErrBadCursor})
}

func TestGatewayConformance(t *testing.T) {
	var gw *memory.Gateway
	porttest.RunGateway(t, func(*testing.T) app.PaymentGateway {
		gw = memory.NewGateway("memory")
		return gw
	}, porttest.GatewayFeatures{StripeShapedIDs: true, Pay: func(_ *testing.T, in payment.Intent) {
		gw.Set(in.ID, func(in *payment.Intent) { in.Status = payment.IntentSucceeded })
	}})
}

func TestNotifierConformance(t *testing.T) {
	porttest.RunNotifier(t, func(*testing.T, porttest.OrderReader) (app.Notifier, porttest.Delivered) {
		n := &memory.Notifier{}
		return n, func(*testing.T) []string {
			var out []string
			for _, sent := range n.Sent() {
				out = append(out, fmt.Sprintf("%+v", sent))
			}
			return out
		}
	}, porttest.NotifierFeatures{})
}
