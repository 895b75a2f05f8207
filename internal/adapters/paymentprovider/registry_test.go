package paymentprovider_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/wolfix/orders/internal/adapters/paymentprovider"
	"github.com/wolfix/orders/internal/adapters/paymentprovider/skeleton"
	"github.com/wolfix/orders/internal/app"
)

// The registry is the process's: each test registers providers under names of its own.

// closer counts its Close calls.
type closer struct{ closed int }

func (c *closer) Close() error { c.closed++; return nil }

// registration is a provider whose gateway reports gatewayName, holding held.
func registration(name, gatewayName string, held *closer) paymentprovider.Registration {
	return paymentprovider.Registration{Name: name, Requires: []string{"WOLFIX_" + strings.ToUpper(name) + "_KEY"},
		Open: func(context.Context, paymentprovider.Env) (paymentprovider.Provider, error) {
			v, err := skeleton.NewVerifier("token")
			return paymentprovider.Provider{PaymentProvider: app.PaymentProvider{Gateway: named{skeleton.New(), gatewayName},
				Verifier: v}, Closer: held}, err
		}}
}

// named is a gateway under another name.
type named struct {
	*skeleton.Gateway
	name string
}

func (n named) Provider() string { return n.name }

func TestRegisterRefusesMistakesInTheWiring(t *testing.T) {
	paymentprovider.Register(registration("twice", "twice", nil))
	for name, r := range map[string]paymentprovider.Registration{"a name registered twice": registration("twice", "twice", nil),
		"no name": {Open: registration("x", "x", nil).Open}, "no Open": {Name: "no-open"}} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("Register did not panic")
				}
			}()
			paymentprovider.Register(r)
		})
	}
}

func TestAutoPicksTheFirstRegisteredThatSaysYes(t *testing.T) {
	yesWith := func(key string) func(paymentprovider.Settings) bool {
		return func(s paymentprovider.Settings) bool { return s.Setting(key) != "" }
	}
	first, second := registration("auto-first", "auto-first", nil), registration("auto-second", "auto-second", nil)
	first.Auto, second.Auto = yesWith("FIRST"), yesWith("SECOND")
	paymentprovider.Register(first)
	paymentprovider.Register(second)
	for settings, want := range map[string]string{"FIRST": "auto-first", "SECOND": "auto-second"} {
		if got, ok := paymentprovider.Auto(paymentprovider.SettingsMap{"FIRST": "", "SECOND": "", settings: "set"}); !ok || got != want {
			t.Errorf("with %s set Auto = %q, %v; want %q", settings, got, ok, want)
		}
	}
	both := paymentprovider.SettingsMap{"FIRST": "set", "SECOND": "set"}
	if got, _ := paymentprovider.Auto(both); got != "auto-first" {
		t.Errorf("with both set Auto = %q; want the first registered", got)
	}
	if !slices.Contains(paymentprovider.Names(), "auto-second") {
		t.Errorf("Names() = %v; want auto-second among them", paymentprovider.Names())
	}
}

func TestOpenOpensTheEnabledDefaultFirst(t *testing.T) {
	a, b := &closer{}, &closer{}
	paymentprovider.Register(registration("open-a", "open-a", a))
	paymentprovider.Register(registration("open-b", "open-b", b))
	enabled, err := paymentprovider.Open(t.Context(), paymentprovider.Env{Enabled: []string{"open-b", "open-a"},
		Settings: paymentprovider.SettingsMap{"WOLFIX_OPEN-A_KEY": "k", "WOLFIX_OPEN-B_KEY": "k"}})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if enabled.Default().Name() != "open-b" || !slices.Equal(enabled.Names(), []string{"open-a", "open-b"}) {
		t.Errorf("default %s of %v; want open-b of both", enabled.Default().Name(), enabled.Names())
	}
	if err := enabled.Close(); err != nil || a.closed != 1 || b.closed != 1 {
		t.Errorf("Close: %v, closed %d and %d times; want once each", err, a.closed, b.closed)
	}
}

func TestOpenFailsWholeAndReleasesWhatItOpened(t *testing.T) {
	held, misnamed := &closer{}, &closer{}
	paymentprovider.Register(registration("fail-ok", "fail-ok", held))
	paymentprovider.Register(registration("fail-misnamed", "another-name", misnamed))
	settings := paymentprovider.SettingsMap{"WOLFIX_FAIL-OK_KEY": "k", "WOLFIX_FAIL-MISNAMED_KEY": "k"}
	for name, c := range map[string]struct {
		enabled  []string
		settings paymentprovider.SettingsMap
		want     string
	}{
		"not registered":               {[]string{"fail-ok", "paypal"}, settings, `"paypal" is not registered`},
		"a setting missing":            {[]string{"fail-ok", "fail-misnamed"}, paymentprovider.SettingsMap{"WOLFIX_FAIL-OK_KEY": "k"}, "WOLFIX_FAIL-MISNAMED_KEY required"},
		"a gateway under another name": {[]string{"fail-ok", "fail-misnamed"}, settings, "does not report that name"},
		"none enabled":                 {nil, settings, "none enabled"},
	} {
		t.Run(name, func(t *testing.T) {
			before := held.closed
			_, err := paymentprovider.Open(t.Context(), paymentprovider.Env{Enabled: c.enabled, Settings: c.settings})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Open: %v; want an error saying %q", err, c.want)
			}
			if len(c.enabled) > 0 && held.closed != before+1 {
				t.Errorf("the provider opened first was closed %d times; want once", held.closed-before)
			}
		})
	}
	if misnamed.closed != 1 {
		t.Errorf("the misnamed provider was closed %d times; want once", misnamed.closed)
	}
}

func TestStoreOfFindsAStoreByType(t *testing.T) {
	var want error = errors.New("a store")
	env := paymentprovider.Env{Stores: []any{42, want}}
	if got, ok := paymentprovider.StoreOf[error](env); !ok || got != want {
		t.Errorf("StoreOf[error] = %v, %v; want %v", got, ok, want)
	}
	if _, ok := paymentprovider.StoreOf[*closer](env); ok {
		t.Error("StoreOf found a type the stores do not hold")
	}
}
