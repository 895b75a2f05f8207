// Package paymentprovider owns the registry of payment providers by name. Each provider's package
// offers a Registration: its name, the settings it cannot open without, the checks of its other
// settings, whether WOLFIX_PAYMENT_PROVIDER=auto picks it, and how it opens into an
// app.PaymentProvider. The wiring registers every provider once, before the configuration is
// validated; the configuration asks the registry which names WOLFIX_PAYMENT_PROVIDER and
// WOLFIX_PAYMENT_PROVIDERS may take and what each needs, and the wiring opens the enabled ones
// with Open. Nothing else names the providers.
package paymentprovider

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"sync"

	"github.com/wolfix/orders/internal/adapters/settings"
	"github.com/wolfix/orders/internal/app"
)

// Settings is the service's configuration as a provider reads it (settings.Settings).
type Settings = settings.Settings

// SettingsMap is Settings held in a map.
type SettingsMap = settings.Map

// Problem is a bad setting: its key and what is wrong with it. It never repeats a secret's value.
type Problem struct {
	Key, Reason string
}

// Env is what the service gives a provider it opens.
type Env struct {
	Settings Settings
	Logger   *slog.Logger
	// Enabled names every enabled provider, the default first.
	Enabled []string
	// Stores are the stores in the service's database that providers may keep their state in
	// (the sandbox's intents); a provider finds its own with StoreOf.
	Stores []any
}

// Enables reports whether the provider named name is enabled.
func (e Env) Enables(name string) bool { return slices.Contains(e.Enabled, name) }

// StoreOf returns the first of env's stores that is a T.
func StoreOf[T any](env Env) (T, bool) {
	for _, s := range env.Stores {
		if store, ok := s.(T); ok {
			return store, true
		}
	}
	var none T
	return none, false
}

// Provider is one opened provider: what the use cases drive, and what must be released on shutdown.
type Provider struct {
	app.PaymentProvider
	// Closer releases what the provider holds once the service stops (the sandbox's webhook
	// delivery); nil when it holds nothing.
	Closer io.Closer
}

// Registration is a payment provider as the wiring registers it.
type Registration struct {
	// Name is the provider's name: its gateway's Provider(), the value of WOLFIX_PAYMENT_PROVIDER,
	// the webhook route /webhooks/{name}, and what every payment it opens records.
	Name string
	// Requires are the keys of the settings it cannot open without; they are required only
	// while it is enabled.
	Requires []string
	// Validate checks its settings whenever they are set, enabled or not (nil: nothing to check).
	Validate func(s Settings) []Problem
	// LiveKey returns the key of the setting that holds live credentials (real money), "" while
	// they are test credentials (nil: never live). A live key needs TLS, and no TestOnly provider
	// runs beside one.
	LiveKey func(s Settings) string
	// TestOnly providers (the sandbox) never run while any provider's settings hold a live key.
	TestOnly bool
	// Auto reports whether WOLFIX_PAYMENT_PROVIDER=auto may pick it with these settings (nil:
	// never); auto picks the first provider, in the order of registration, that says yes.
	Auto func(s Settings) bool
	// Open opens it.
	Open func(ctx context.Context, env Env) (Provider, error)
}

// Missing returns the keys the provider requires that s leaves empty.
func (r Registration) Missing(s Settings) []string { return settings.Missing(s, r.Requires) }

// Live returns the key of the setting that holds live credentials, "" when none does.
func (r Registration) Live(settings Settings) string {
	if r.LiveKey == nil {
		return ""
	}
	return r.LiveKey(settings)
}

var registry = struct {
	sync.RWMutex
	ordered []Registration
}{}

// Register makes a provider available to the configuration and to Open; the wiring registers
// every provider once, before the configuration is validated, in the order auto prefers them.
// Registering a name twice, or a provider without a name or an Open, panics: it is a mistake in
// the wiring.
func Register(r Registration) {
	if r.Name == "" || r.Open == nil {
		panic("paymentprovider: Register needs a name and an Open")
	}
	registry.Lock()
	defer registry.Unlock()
	if slices.ContainsFunc(registry.ordered, func(known Registration) bool { return known.Name == r.Name }) {
		panic("paymentprovider: " + r.Name + " registered twice")
	}
	registry.ordered = append(registry.ordered, r)
}

// Registrations are the registered providers, in the order of registration.
func Registrations() []Registration {
	registry.RLock()
	defer registry.RUnlock()
	return slices.Clone(registry.ordered)
}

// Names are the registered providers' names, sorted.
func Names() []string {
	var names []string
	for _, r := range Registrations() {
		names = append(names, r.Name)
	}
	slices.Sort(names)
	return names
}

// Lookup returns the registration of the provider named name.
func Lookup(name string) (Registration, bool) {
	for _, r := range Registrations() {
		if r.Name == name {
			return r, true
		}
	}
	return Registration{}, false
}

// Auto returns the provider WOLFIX_PAYMENT_PROVIDER=auto picks with settings: the first registered
// one whose Auto says yes; false when none does.
func Auto(settings Settings) (string, bool) {
	for _, r := range Registrations() {
		if r.Auto != nil && r.Auto(settings) {
			return r.Name, true
		}
	}
	return "", false
}
