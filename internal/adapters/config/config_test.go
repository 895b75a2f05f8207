package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadReadsTheCommittedDefaultFile(t *testing.T) {
	t.Setenv("WOLFIX_CONFIG", filepath.Join("..", "..", "..", DefaultFile))
	cfg, err := Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if cfg != Defaults() {
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
		{"WOLFIX_STRIPE_SECRET_KEY", "sk_test_abc", "WOLFIX_STRIPE_WEBHOOK_SECRET"},
		{"WOLFIX_STRIPE_SECRET_KEY", "pk_test_abc", "WOLFIX_STRIPE_SECRET_KEY"},
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
