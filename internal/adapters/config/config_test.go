package config

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/adapters/broker"
	"github.com/wolfix/orders/internal/adapters/broker/gochannel"
	"github.com/wolfix/orders/internal/adapters/broker/nats"
	"github.com/wolfix/orders/internal/adapters/paymentprovider"
	"github.com/wolfix/orders/internal/adapters/sandbox"
	"github.com/wolfix/orders/internal/adapters/stripe"
)

// TestMain registers the broker kinds and the payment providers these tests name, as the wiring
// registers every kind and every provider.
func TestMain(m *testing.M) {
	broker.Register(gochannel.Registration())
	broker.Register(nats.Registration())
	paymentprovider.Register(stripe.Registration())
	paymentprovider.Register(sandbox.Registration())
	os.Exit(m.Run())
}

func TestSettingReadsAValueByItsEnvironmentKey(t *testing.T) {
	cfg := Defaults()
	cfg.NATSURL = "nats://127.0.0.1:4222"
	for key, want := range map[string]string{"WOLFIX_NATS_URL": cfg.NATSURL, "WOLFIX_BROKER_KIND": "gochannel",
		"WOLFIX_RUN_RELAY": "true", "WOLFIX_NO_SUCH_KEY": ""} {
		if got := cfg.Setting(key); got != want {
			t.Errorf("Setting(%s): got %q; want %q", key, got, want)
		}
	}
}

func TestLoadReadsTheCommittedDefaultFile(t *testing.T) {
	t.Setenv("WOLFIX_CONFIG", filepath.Join("..", "..", "..", DefaultFile))
	cfg, err := Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !reflect.DeepEqual(cfg, Defaults()) {
		t.Fatalf("configs/wolfix.yaml and Defaults() disagree:\n file: %+v\n code: %+v", cfg, Defaults())
	}
}

func TestEnvironmentOverridesFile(t *testing.T) {
	t.Setenv("WOLFIX_CONFIG", writeFile(t, "httpAddr: \":9000\"\ncurrency: EUR\n"))
	t.Setenv("WOLFIX_HTTP_ADDR", "127.0.0.1:7000")
	t.Setenv("WOLFIX_DELIVERY_FEE_BRANCH", "123")
	t.Setenv("WOLFIX_PAYMENT_TTL", "45m")
	cfg, err := Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if cfg.HTTPAddr != "127.0.0.1:7000" || cfg.Currency != "EUR" || cfg.DeliveryFeeBranch != 123 || cfg.PaymentTTL != 45*time.Minute {
		t.Fatalf("got %+v", cfg)
	}
}

func TestBadValuesNameTheirKey(t *testing.T) {
	cases := []struct {
		env, value, wantKey string
	}{
		{"WOLFIX_DELIVERY_FEE_COURIER", "seven", "WOLFIX_DELIVERY_FEE_COURIER"},
		{"WOLFIX_DELIVERY_FEE_LOCKER", "-1", "WOLFIX_DELIVERY_FEE_LOCKER"},
		{"WOLFIX_CURRENCY", "XXX", "WOLFIX_CURRENCY"},
		{"WOLFIX_HTTP_ADDR", "8080", "WOLFIX_HTTP_ADDR"},
		{"WOLFIX_DATABASE_URL", "mysql://x", "WOLFIX_DATABASE_URL"},
		{"WOLFIX_PAYMENT_TTL", "soon", "WOLFIX_PAYMENT_TTL"},
		{"WOLFIX_BROKER_KIND", "kafka", "WOLFIX_BROKER_KIND"},
		{"WOLFIX_BROKER_KIND", "nats", "WOLFIX_NATS_URL"},
		{"WOLFIX_STRIPE_SECRET_KEY", "sk_test_abc", "WOLFIX_STRIPE_WEBHOOK_SECRET"},
		{"WOLFIX_STRIPE_SECRET_KEY", "pk_test_abc", "WOLFIX_STRIPE_SECRET_KEY"},
		{"WOLFIX_PAYMENT_PROVIDER", "paypal", "WOLFIX_PAYMENT_PROVIDER"},
		{"WOLFIX_PAYMENT_PROVIDER", "stripe", "WOLFIX_STRIPE_SECRET_KEY"},
		{"WOLFIX_STRIPE_API_URL", "http://127.0.0.1:12111", "WOLFIX_STRIPE_API_URL"},
		{"WOLFIX_JWKS_URL", "http://id.example.com/jwks", "WOLFIX_JWKS_URL"},
		{"WOLFIX_JWKS_URL", "http://10.1.2.3/jwks", "WOLFIX_JWKS_URL"},
		{"WOLFIX_JWKS_URL", "http://localhost.example.com/jwks", "WOLFIX_JWKS_URL"},
		{"WOLFIX_JWKS_URL", "id.example.com/jwks", "WOLFIX_JWKS_URL"},
		{"WOLFIX_JWKS_URL", "ftp://id.example.com/jwks", "WOLFIX_JWKS_URL"},
		{"WOLFIX_JWKS_URL", "https:///jwks", "WOLFIX_JWKS_URL"},
		{"WOLFIX_JWT_ISSUER", " https://id.example.com/", "WOLFIX_JWT_ISSUER"},
		{"WOLFIX_JWT_AUDIENCE", "wolfix-orders\n", "WOLFIX_JWT_AUDIENCE"},
		{"WOLFIX_REDIS_URL", "127.0.0.1:6379", "WOLFIX_REDIS_URL"},
		{"WOLFIX_REDIS_URL", "http://127.0.0.1:6379", "WOLFIX_REDIS_URL"},
		{"WOLFIX_UNPAID_ORDERS_MAX", "0", "WOLFIX_UNPAID_ORDERS_MAX"},
		{"WOLFIX_UNPAID_UNITS_MAX", "-1", "WOLFIX_UNPAID_UNITS_MAX"},
		{"WOLFIX_RATE_ORDERS", "30/min", "WOLFIX_RATE_ORDERS"},
		{"WOLFIX_RATE_ORDERS", "0-M", "WOLFIX_RATE_ORDERS"},
		{"WOLFIX_RATE_SANDBOX_CONFIRM", "60-W", "WOLFIX_RATE_SANDBOX_CONFIRM"},
		{"WOLFIX_RATE_AUTH_FAILURES", "ten-M", "WOLFIX_RATE_AUTH_FAILURES"},
		{"WOLFIX_SEED_DEMO", "yes", "WOLFIX_SEED_DEMO"},
		{"WOLFIX_OPS_ADDR", "9090", "WOLFIX_OPS_ADDR"},
		{"WOLFIX_PPROF_ADDR", "0.0.0.0:6060", "WOLFIX_PPROF_ADDR"},
		{"WOLFIX_PPROF_ADDR", "6060", "WOLFIX_PPROF_ADDR"},
		{"WOLFIX_PRUNE_EVERY", "-1m", "WOLFIX_PRUNE_EVERY"},
		{"WOLFIX_IDEMPOTENCY_LEASE", "0s", "WOLFIX_IDEMPOTENCY_LEASE"},
		{"WOLFIX_IDEMPOTENCY_LEASE", "2h", "WOLFIX_IDEMPOTENCY_LEASE"},
		{"WOLFIX_IDEMPOTENCY_TTL", "30s", "WOLFIX_IDEMPOTENCY_TTL"},
		{"WOLFIX_INBOX_LEASE", "soon", "WOLFIX_INBOX_LEASE"},
		{"WOLFIX_INBOX_SWEEP_EVERY", "1ms", "WOLFIX_INBOX_SWEEP_EVERY"},
		{"WOLFIX_INBOX_WORKERS", "0", "WOLFIX_INBOX_WORKERS"},
		{"WOLFIX_INBOX_WORKERS", "257", "WOLFIX_INBOX_WORKERS"},
		{"WOLFIX_CARD_CHECKOUT_SLOTS", "-2", "WOLFIX_CARD_CHECKOUT_SLOTS"},
		{"WOLFIX_CARD_CHECKOUT_MAX_WAIT", "10ms", "WOLFIX_CARD_CHECKOUT_MAX_WAIT"},
		{"WOLFIX_PRUNE_BATCH_SIZE", "0", "WOLFIX_PRUNE_BATCH_SIZE"},
		{"WOLFIX_PRUNE_OUTBOX_AFTER", "1s", "WOLFIX_PRUNE_OUTBOX_AFTER"},
		{"WOLFIX_PRUNE_IDEMPOTENCY_AFTER", "0s", "WOLFIX_PRUNE_IDEMPOTENCY_AFTER"},
		{"WOLFIX_PRUNE_WEBHOOKS_AFTER", "later", "WOLFIX_PRUNE_WEBHOOKS_AFTER"},
		{"WOLFIX_PRUNE_CONSUMED_AFTER", "30s", "WOLFIX_PRUNE_CONSUMED_AFTER"},
		{"WOLFIX_TLS_CERT_FILE", "/etc/wolfix/cert.pem", "WOLFIX_TLS_CERT_FILE"},
		{"WOLFIX_TLS_KEY_FILE", "/etc/wolfix/key.pem", "WOLFIX_TLS_CERT_FILE"},
		{"WOLFIX_TRUSTED_PROXIES", "10.0.0.0/8,proxy.internal", "WOLFIX_TRUSTED_PROXIES"},
		{"WOLFIX_TRUSTED_PROXIES", "10.0.0.0/33", "WOLFIX_TRUSTED_PROXIES"},
	}
	for _, c := range cases {
		t.Run(c.env+"="+c.value, func(t *testing.T) {
			t.Setenv("WOLFIX_CONFIG", writeFile(t, ""))
			t.Setenv(c.env, c.value)
			_, err := Load()
			if err == nil || !strings.Contains(err.Error(), c.wantKey) {
				t.Fatalf("got error %v; want one naming %s", err, c.wantKey)
			}
		})
	}
}

// Fake keys: made-up values with Stripe's prefixes, nothing real.
const (
	fakeTestKey  = "sk_test_wolfixConfigTestsOnly000"
	fakeLiveKey  = "sk_live_wolfixConfigTestsOnly000"
	fakeRLiveKey = "rk_live_wolfixConfigTestsOnly000"
	fakeWebhook  = "whsec_wolfixConfigTestsOnly000"
)

func TestPaymentSettingsThatStopStartUp(t *testing.T) {
	cases := []struct {
		name    string
		env     map[string]string
		wantKey string
	}{
		{"a key without webhook secret", map[string]string{"WOLFIX_STRIPE_SECRET_KEY": fakeTestKey}, "WOLFIX_STRIPE_WEBHOOK_SECRET"},
		{"stripe chosen, key without webhook secret", map[string]string{"WOLFIX_PAYMENT_PROVIDER": "stripe",
			"WOLFIX_STRIPE_SECRET_KEY": fakeTestKey}, "WOLFIX_STRIPE_WEBHOOK_SECRET"},
		{"stripe chosen without a key", map[string]string{"WOLFIX_PAYMENT_PROVIDER": "stripe",
			"WOLFIX_STRIPE_WEBHOOK_SECRET": fakeWebhook}, "WOLFIX_STRIPE_SECRET_KEY"},
		{"sandbox with a live key", map[string]string{"WOLFIX_PAYMENT_PROVIDER": "sandbox",
			"WOLFIX_STRIPE_SECRET_KEY": fakeLiveKey, "WOLFIX_STRIPE_WEBHOOK_SECRET": fakeWebhook}, "WOLFIX_PAYMENT_PROVIDER"},
		{"sandbox with a restricted live key", map[string]string{"WOLFIX_PAYMENT_PROVIDER": "sandbox",
			"WOLFIX_STRIPE_SECRET_KEY": fakeRLiveKey, "WOLFIX_STRIPE_WEBHOOK_SECRET": fakeWebhook}, "WOLFIX_PAYMENT_PROVIDER"},
		{"sandbox listed beside a live key", map[string]string{"WOLFIX_PAYMENT_PROVIDERS": "sandbox,stripe",
			"WOLFIX_STRIPE_SECRET_KEY": fakeLiveKey, "WOLFIX_STRIPE_WEBHOOK_SECRET": fakeWebhook,
			"WOLFIX_TRUSTED_PROXIES": "10.0.0.1"}, "WOLFIX_PAYMENT_PROVIDER"},
		{"an unknown provider listed", map[string]string{"WOLFIX_PAYMENT_PROVIDERS": "sandbox,paypal"}, "WOLFIX_PAYMENT_PROVIDERS"},
		{"stripe listed without a key", map[string]string{"WOLFIX_PAYMENT_PROVIDERS": "stripe"}, "WOLFIX_STRIPE_SECRET_KEY"},
		{"live key at a stripe-mock", map[string]string{"WOLFIX_STRIPE_SECRET_KEY": fakeLiveKey,
			"WOLFIX_STRIPE_WEBHOOK_SECRET": fakeWebhook, "WOLFIX_STRIPE_API_URL": "http://127.0.0.1:12111"}, "WOLFIX_STRIPE_API_URL"},
		{"live key at a look-alike host", map[string]string{"WOLFIX_STRIPE_SECRET_KEY": fakeLiveKey,
			"WOLFIX_STRIPE_WEBHOOK_SECRET": fakeWebhook, "WOLFIX_STRIPE_API_URL": "https://api.stripe.com.example.org"}, "WOLFIX_STRIPE_API_URL"},
		{"live key over plain http", map[string]string{"WOLFIX_STRIPE_SECRET_KEY": fakeLiveKey,
			"WOLFIX_STRIPE_WEBHOOK_SECRET": fakeWebhook, "WOLFIX_STRIPE_API_URL": "http://api.stripe.com"}, "WOLFIX_STRIPE_API_URL"},
		{"live key served on plain HTTP", map[string]string{"WOLFIX_STRIPE_SECRET_KEY": fakeLiveKey,
			"WOLFIX_STRIPE_WEBHOOK_SECRET": fakeWebhook}, "WOLFIX_STRIPE_SECRET_KEY"},
		{"restricted live key served on plain HTTP", map[string]string{"WOLFIX_STRIPE_SECRET_KEY": fakeRLiveKey,
			"WOLFIX_STRIPE_WEBHOOK_SECRET": fakeWebhook}, "WOLFIX_STRIPE_SECRET_KEY"},
		{"API URL that is not a URL", map[string]string{"WOLFIX_STRIPE_SECRET_KEY": fakeTestKey,
			"WOLFIX_STRIPE_WEBHOOK_SECRET": fakeWebhook, "WOLFIX_STRIPE_API_URL": "127.0.0.1:12111"}, "WOLFIX_STRIPE_API_URL"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("WOLFIX_CONFIG", writeFile(t, ""))
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			_, err := Load()
			if err == nil || !strings.Contains(err.Error(), c.wantKey) {
				t.Fatalf("got error %v; want one naming %s", err, c.wantKey)
			}
			for _, v := range c.env {
				if strings.HasPrefix(v, "sk_") || strings.HasPrefix(v, "rk_") || strings.HasPrefix(v, "whsec_") {
					if strings.Contains(err.Error(), v) {
						t.Fatalf("the error repeats a secret: %v", err)
					}
				}
			}
		})
	}
}

func TestPaymentProviderChoice(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"default: no key is the sandbox", nil, sandbox.ProviderName},
		{"default: a key is stripe", map[string]string{"WOLFIX_STRIPE_SECRET_KEY": fakeTestKey,
			"WOLFIX_STRIPE_WEBHOOK_SECRET": fakeWebhook}, stripe.ProviderName},
		{"auto with a live key at Stripe", map[string]string{"WOLFIX_PAYMENT_PROVIDER": "auto", "WOLFIX_STRIPE_SECRET_KEY": fakeLiveKey,
			"WOLFIX_STRIPE_WEBHOOK_SECRET": fakeWebhook, "WOLFIX_STRIPE_API_URL": "https://api.stripe.com",
			"WOLFIX_TRUSTED_PROXIES": "10.0.0.1"}, stripe.ProviderName},
		{"sandbox chosen beside a test key", map[string]string{"WOLFIX_PAYMENT_PROVIDER": "sandbox",
			"WOLFIX_STRIPE_SECRET_KEY": fakeTestKey}, sandbox.ProviderName},
		{"stripe chosen with a test key at stripe-mock", map[string]string{"WOLFIX_PAYMENT_PROVIDER": "stripe",
			"WOLFIX_STRIPE_SECRET_KEY": fakeTestKey, "WOLFIX_STRIPE_WEBHOOK_SECRET": fakeWebhook,
			"WOLFIX_STRIPE_API_URL": "http://127.0.0.1:12111"}, stripe.ProviderName},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("WOLFIX_CONFIG", writeFile(t, ""))
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			cfg, err := Load()
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if got := cfg.Provider(); got != c.want {
				t.Fatalf("Provider() = %q; want %q", got, c.want)
			}
		})
	}
}

func TestLoadFileOverridesWOLFIX_CONFIG(t *testing.T) {
	t.Setenv("WOLFIX_CONFIG", writeFile(t, "currency: EUR\n"))
	cfg, err := LoadFile(writeFile(t, "currency: GBP\n"))
	if err != nil || cfg.Currency != "GBP" {
		t.Fatalf("got %q, %v; want the named file's GBP", cfg.Currency, err)
	}
	if _, err := LoadFile(filepath.Join(t.TempDir(), "missing.yaml")); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Fatalf("got %v; want an error naming the missing file", err)
	}
}

func TestUnknownFileKeyIsRejected(t *testing.T) {
	t.Setenv("WOLFIX_CONFIG", writeFile(t, "httpAdress: \":1\"\n"))
	if _, err := Load(); err == nil || !strings.Contains(err.Error(), "httpAdress") {
		t.Fatalf("got %v; want an error naming the unknown key", err)
	}
}

func writeFile(t *testing.T, body string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "cfg")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	p := filepath.Join(dir, "wolfix.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPaymentProvidersEnabledTogether(t *testing.T) {
	t.Setenv("WOLFIX_CONFIG", writeFile(t, ""))
	t.Setenv("WOLFIX_PAYMENT_PROVIDER", "stripe")
	t.Setenv("WOLFIX_PAYMENT_PROVIDERS", "sandbox,stripe")
	t.Setenv("WOLFIX_STRIPE_SECRET_KEY", fakeTestKey)
	t.Setenv("WOLFIX_STRIPE_WEBHOOK_SECRET", fakeWebhook)
	cfg, err := Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got := cfg.Providers(); !slices.Equal(got, []string{stripe.ProviderName, sandbox.ProviderName}) {
		t.Fatalf("Providers() = %v; want the default stripe first, then sandbox", got)
	}
	if !cfg.Enables(sandbox.ProviderName) || cfg.Enables("paypal") {
		t.Fatalf("Enables(sandbox) = %v, Enables(paypal) = %v; want true, false", cfg.Enables(sandbox.ProviderName), cfg.Enables("paypal"))
	}
}

func TestBlankPaymentProviderMeansAuto(t *testing.T) {
	t.Setenv("WOLFIX_CONFIG", writeFile(t, "paymentProvider: \"\"\nstripeSecretKey: "+fakeTestKey+"\nstripeWebhookSecret: "+fakeWebhook+"\n"))
	cfg, err := Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if cfg.Provider() != stripe.ProviderName {
		t.Fatalf("Provider() = %q; want %q (auto with a key)", cfg.Provider(), stripe.ProviderName)
	}
}

func TestTokenSettings(t *testing.T) {
	t.Run("read from file and environment", func(t *testing.T) {
		t.Setenv("WOLFIX_CONFIG", writeFile(t, "jwksUrl: https://id.example.com/.well-known/jwks.json\njwtIssuer: https://id.example.com/\n"))
		t.Setenv("WOLFIX_JWT_AUDIENCE", "wolfix-orders")
		cfg, err := Load()
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		if cfg.JWKSURL != "https://id.example.com/.well-known/jwks.json" || cfg.JWTIssuer != "https://id.example.com/" ||
			cfg.JWTAudience != "wolfix-orders" {
			t.Fatalf("got %+v", cfg)
		}
	})
	t.Run("environment overrides the file", func(t *testing.T) {
		t.Setenv("WOLFIX_CONFIG", writeFile(t, "jwksUrl: https://a.example.com/jwks\n"))
		t.Setenv("WOLFIX_JWKS_URL", "http://127.0.0.1:8081/jwks")
		t.Setenv("WOLFIX_JWT_ISSUER", "dev-idp")
		cfg, err := Load()
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		if cfg.JWKSURL != "http://127.0.0.1:8081/jwks" || cfg.JWTIssuer != "dev-idp" {
			t.Fatalf("got %+v", cfg)
		}
	})
	for _, ok := range []string{"https://id.example.com/jwks", "http://localhost:8081/jwks", "http://127.0.0.1/jwks", "http://[::1]:9/jwks"} {
		t.Run("accepts "+ok, func(t *testing.T) {
			t.Setenv("WOLFIX_CONFIG", writeFile(t, ""))
			t.Setenv("WOLFIX_JWKS_URL", ok)
			if _, err := Load(); err != nil {
				t.Fatalf("Load: %v", err)
			}
		})
	}
}

// The demo catalog is seeded by default only on the embedded SQLite database, never on Postgres
// unless asked for.
func TestSeedDemoDefaultsToTheEmbeddedDatabaseOnly(t *testing.T) {
	const pg = "postgres://db.example.com/wolfix"
	cases := []struct {
		seedDemo, databaseURL string
		want                  bool
	}{
		{"", "", true}, {"", pg, false},
		{SeedDemoAuto, "", true}, {SeedDemoAuto, pg, false},
		{"true", pg, true}, {"false", "", false},
	}
	for _, c := range cases {
		t.Run(c.seedDemo+"/"+c.databaseURL, func(t *testing.T) {
			t.Setenv("WOLFIX_CONFIG", writeFile(t, ""))
			if c.seedDemo != "" {
				t.Setenv("WOLFIX_SEED_DEMO", c.seedDemo)
			}
			t.Setenv("WOLFIX_DATABASE_URL", c.databaseURL)
			cfg, err := Load()
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.SeedsDemo(); got != c.want {
				t.Errorf("SeedsDemo() = %v; want %v", got, c.want)
			}
		})
	}
}

func TestTransportSettings(t *testing.T) {
	t.Setenv("WOLFIX_CONFIG", writeFile(t, ""))
	t.Setenv("WOLFIX_TRUSTED_PROXIES", "10.0.0.0/8,192.0.2.7")
	cfg, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"10.0.0.0/8", "192.0.2.7"}; !reflect.DeepEqual(cfg.TrustedProxies, want) || cfg.ServesTLS() {
		t.Errorf("TrustedProxies = %q, ServesTLS = %v; want %q, false", cfg.TrustedProxies, cfg.ServesTLS(), want)
	}
	for name, env := range map[string]map[string]string{
		"behind a trusted proxy": {"WOLFIX_TRUSTED_PROXIES": "10.0.0.1"},
		"serving TLS":            {"WOLFIX_TLS_CERT_FILE": "cert.pem", "WOLFIX_TLS_KEY_FILE": "key.pem"},
	} {
		t.Run("a live key "+name, func(t *testing.T) {
			t.Setenv("WOLFIX_TRUSTED_PROXIES", "")
			t.Setenv("WOLFIX_STRIPE_SECRET_KEY", fakeLiveKey)
			t.Setenv("WOLFIX_STRIPE_WEBHOOK_SECRET", fakeWebhook)
			for k, v := range env {
				t.Setenv(k, v)
			}
			if _, err := Load(); err != nil {
				t.Errorf("a live key %s was refused: %v", name, err)
			}
		})
	}
}
