package app

import (
	"fmt"
	"slices"
	"strings"

	"github.com/wolfix/orders/internal/domain/payment"
)

// PaymentProvider is one payment provider as the use cases drive it: the gateway that opens and
// settles its intents and the verifier of its webhooks. Its name is Gateway.Provider(), the name
// every payment it opened records.
type PaymentProvider struct {
	Gateway  PaymentGateway
	Verifier WebhookVerifier
	// StandsInFor names a provider this one plays (the sandbox plays Stripe): while that provider
	// is not enabled, its webhook route reaches this one.
	StandsInFor string
}

// Name is the provider's name.
func (p PaymentProvider) Name() string { return p.Gateway.Provider() }

// WebhookHeaders are the headers of a webhook delivery (http.Header is one).
type WebhookHeaders interface {
	Get(name string) string
}

// WebhookVerifier checks a provider's signed webhook delivery and decodes it. It fails with
// ErrWebhookSignature for unsigned, forged or stale deliveries.
type WebhookVerifier interface {
	// VerifyDelivery checks the signature the headers carry on the raw payload and returns the
	// events the delivery holds: one, or several for a provider that batches.
	VerifyDelivery(payload []byte, headers WebhookHeaders) ([]payment.Event, error)
	// Decode reads one event's payload that was verified when it was received (the inbox keeps
	// it), for processing and replays; it checks no signature.
	Decode(payload []byte) (payment.Event, error)
}

// Providers are the enabled payment providers by name. New orders go to the default; every other
// step of a payment (finalize, refund, cancel, reconcile, webhooks) goes to the provider that
// opened it, so an order finishes where it started after the default changes.
type Providers struct {
	byName   map[string]PaymentProvider
	fallback string
}

// NewProviders enables ps; the first is the default. Each needs a gateway and a verifier, and
// names must differ.
func NewProviders(ps ...PaymentProvider) (*Providers, error) {
	if len(ps) == 0 {
		return nil, fmt.Errorf("payment providers: none enabled")
	}
	set := &Providers{byName: map[string]PaymentProvider{}}
	for _, p := range ps {
		if p.Gateway == nil || p.Verifier == nil {
			return nil, fmt.Errorf("payment providers: a provider needs a gateway and a webhook verifier")
		}
		if _, dup := set.byName[p.Name()]; dup || p.Name() == "" {
			return nil, fmt.Errorf("payment providers: name %q is empty or enabled twice", p.Name())
		}
		set.byName[p.Name()] = p
	}
	set.fallback = ps[0].Name()
	return set, nil
}

// Default is the provider new orders go to.
func (s *Providers) Default() PaymentProvider { return s.byName[s.fallback] }

// Get returns the provider named name; ErrProviderNotEnabled when it is not enabled.
func (s *Providers) Get(name string) (PaymentProvider, error) {
	p, ok := s.byName[name]
	if !ok {
		return PaymentProvider{}, ErrProviderNotEnabled.WithMessage("payment provider %q is not enabled (enabled: %s)",
			name, strings.Join(s.Names(), ", "))
	}
	return p, nil
}

// ForWebhook returns the provider whose webhooks POST /webhooks/{route} takes: the provider
// named route, else the one standing in for it; ErrProviderNotEnabled when there is none.
func (s *Providers) ForWebhook(route string) (PaymentProvider, error) {
	if p, ok := s.byName[route]; ok {
		return p, nil
	}
	for _, p := range s.byName {
		if p.StandsInFor == route {
			return p, nil
		}
	}
	return s.Get(route)
}

// Gateway returns the gateway of the provider named name, the one that opened a payment; a
// provider no longer enabled is ErrProviderUnavailable (the payment waits until it is again).
func (s *Providers) Gateway(name string) (PaymentGateway, error) {
	p, ok := s.byName[name]
	if !ok {
		return nil, ErrProviderUnavailable.WithMessage("payment provider %q is not enabled", name)
	}
	return p.Gateway, nil
}

// Names are the enabled providers' names, sorted.
func (s *Providers) Names() []string {
	names := make([]string, 0, len(s.byName))
	for name := range s.byName {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}
