package config

import "testing"

func TestAbuseLimitSettings(t *testing.T) {
	t.Setenv("WOLFIX_CONFIG", writeFile(t, "unpaidOrdersMax: 2\nrateOrders: 5-S\n"))
	t.Setenv("WOLFIX_UNPAID_UNITS_MAX", "8")
	t.Setenv("WOLFIX_RATE_AUTH_FAILURES", RateOff)
	cfg, err := Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if cfg.UnpaidOrdersMax != 2 || cfg.UnpaidUnitsMax != 8 || cfg.RateOrders != "5-S" ||
		cfg.RateAuthFailures != RateOff || cfg.RateSandboxConfirm != Defaults().RateSandboxConfirm {
		t.Fatalf("got %+v", cfg)
	}
}
