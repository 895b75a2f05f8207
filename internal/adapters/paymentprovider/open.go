package paymentprovider

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/wolfix/orders/internal/app"
)

// Enabled are the enabled providers, opened: app.Providers for the use cases, and each provider
// as it was opened, for what only the wiring uses (the sandbox's confirm page and delivery).
type Enabled struct {
	*app.Providers
	Opened []Provider
}

// Open opens every provider env.Enabled names, among those registered, the first as the default.
// Each provider's gateway must report the name it is registered under. On failure nothing stays open.
// A nil env.Logger is slog.Default().
func Open(ctx context.Context, env Env) (*Enabled, error) {
	if env.Logger == nil {
		env.Logger = slog.Default()
	}
	enabled := &Enabled{}
	for _, name := range env.Enabled {
		p, err := open(ctx, name, env)
		if err != nil {
			_ = enabled.Close()
			return nil, err
		}
		enabled.Opened = append(enabled.Opened, p)
	}
	providers := make([]app.PaymentProvider, 0, len(enabled.Opened))
	for _, p := range enabled.Opened {
		providers = append(providers, p.PaymentProvider)
	}
	var err error
	if enabled.Providers, err = app.NewProviders(providers...); err != nil {
		_ = enabled.Close()
		return nil, err
	}
	return enabled, nil
}

func open(ctx context.Context, name string, env Env) (Provider, error) {
	r, ok := Lookup(name)
	if !ok {
		return Provider{}, fmt.Errorf("payment provider %q is not registered (registered: %s)", name, strings.Join(Names(), ", "))
	}
	if missing := r.Missing(env.Settings); len(missing) > 0 {
		return Provider{}, fmt.Errorf("payment provider %s: %s required", name, strings.Join(missing, ", "))
	}
	p, err := r.Open(ctx, env)
	if err != nil {
		return Provider{}, fmt.Errorf("payment provider %s: %w", name, err)
	}
	if p.Gateway == nil || p.Name() != name {
		if p.Closer != nil {
			_ = p.Closer.Close()
		}
		return Provider{}, fmt.Errorf("payment provider %s: opened a gateway that does not report that name", name)
	}
	return p, nil
}

// Close releases what every opened provider holds.
func (e *Enabled) Close() error {
	var errs []error
	for _, p := range e.Opened {
		if p.Closer != nil {
			errs = append(errs, p.Closer.Close())
		}
	}
	return errors.Join(errs...)
}
