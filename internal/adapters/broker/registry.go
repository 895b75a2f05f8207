package broker

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/wolfix/orders/internal/adapters/settings"
)

// Settings is the service's configuration as a kind of broker reads it (settings.Settings).
type Settings = settings.Settings

// SettingsMap is Settings held in a map.
type SettingsMap = settings.Map

// Factory opens a broker of one kind with its settings.
type Factory func(ctx context.Context, settings Settings, logger *slog.Logger) (Broker, error)

// Registration is a kind of broker as the wiring registers it.
type Registration struct {
	// Kind is the name WOLFIX_BROKER_KIND gives it.
	Kind string
	// Open opens it.
	Open Factory
	// Requires are the keys of the settings it cannot open without.
	Requires []string
}

var registry = struct {
	sync.RWMutex
	kinds map[string]Registration
}{kinds: map[string]Registration{}}

// Register makes a kind of broker available to Open; the wiring registers every kind once, before
// the configuration is validated. Registering a kind twice, or one without a name or a factory,
// panics: it is a mistake in the wiring.
func Register(r Registration) {
	if r.Kind == "" || r.Open == nil {
		panic("broker: Register needs a kind and a factory")
	}
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.kinds[r.Kind]; dup {
		panic("broker: kind " + r.Kind + " registered twice")
	}
	registry.kinds[r.Kind] = r
}

// Kinds are the registered kinds, sorted.
func Kinds() []string {
	registry.RLock()
	defer registry.RUnlock()
	kinds := make([]string, 0, len(registry.kinds))
	for kind := range registry.kinds {
		kinds = append(kinds, kind)
	}
	slices.Sort(kinds)
	return kinds
}

// Lookup returns the registration of kind.
func Lookup(kind string) (Registration, bool) {
	registry.RLock()
	defer registry.RUnlock()
	r, ok := registry.kinds[kind]
	return r, ok
}

// Missing returns the keys kind requires that s leaves empty.
func (r Registration) Missing(s Settings) []string { return settings.Missing(s, r.Requires) }

// Open opens a broker of the registered kind with settings.
func Open(ctx context.Context, kind string, settings Settings, logger *slog.Logger) (Broker, error) {
	r, ok := Lookup(kind)
	if !ok {
		return nil, fmt.Errorf("broker: unknown kind %q (registered: %s)", kind, strings.Join(Kinds(), ", "))
	}
	if missing := r.Missing(settings); len(missing) > 0 {
		return nil, fmt.Errorf("broker %s: %s required", kind, strings.Join(missing, ", "))
	}
	b, err := r.Open(ctx, settings, logger)
	if err != nil {
		return nil, fmt.Errorf("broker %s: %w", kind, err)
	}
	return b, nil
}
