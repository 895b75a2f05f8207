package skeleton

import (
	"context"

	"github.com/wolfix/orders/internal/adapters/paymentprovider"
	"github.com/wolfix/orders/internal/app"
)

// TokenSetting is the key of the setting that holds the webhook token (required).
const TokenSetting = "WOLFIX_SKELETON_WEBHOOK_TOKEN"

// Registration registers the skeleton: WOLFIX_PAYMENT_PROVIDER=auto never picks it.
func Registration() paymentprovider.Registration {
	return paymentprovider.Registration{Name: ProviderName, Requires: []string{TokenSetting},
		Open: func(_ context.Context, env paymentprovider.Env) (paymentprovider.Provider, error) {
			v, err := NewVerifier(env.Settings.Setting(TokenSetting))
			if err != nil {
				return paymentprovider.Provider{}, err
			}
			return paymentprovider.Provider{PaymentProvider: app.PaymentProvider{Gateway: New(), Verifier: v}}, nil
		}}
}
