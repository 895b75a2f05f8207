package money_test

import (
	"errors"
	"testing"

	"github.com/wolfix/orders/internal/domain/money"
)

func TestParseCurrency(t *testing.T) {
	tests := []struct {
		in       string
		wantCode string
		wantExp  int
		wantErr  error
	}{
		{"USD", "USD", 2, nil},
		{"usd", "USD", 2, nil},
		{"Usd", "USD", 2, nil},
		{" eur\t", "EUR", 2, nil},
		{"UAH", "UAH", 2, nil},
		{"JPY", "JPY", 0, nil},
		{"jpy", "JPY", 0, nil},
		{"KRW", "KRW", 0, nil},
		{"ISK", "ISK", 0, nil},
		{"BHD", "BHD", 3, nil},
		{"kwd", "KWD", 3, nil},
		{"", "", 0, money.ErrUnknownCurrency},
		{"   ", "", 0, money.ErrUnknownCurrency},
		{"US", "", 0, money.ErrUnknownCurrency},
		{"USDD", "", 0, money.ErrUnknownCurrency},
		{"XXX", "", 0, money.ErrUnknownCurrency},
		{"BTC", "", 0, money.ErrUnknownCurrency},
		{"U SD", "", 0, money.ErrUnknownCurrency},
		{"840", "", 0, money.ErrUnknownCurrency},
		{"uſd", "", 0, money.ErrUnknownCurrency}, // U+017F uppercases to S
		{"ＵＳＤ", "", 0, money.ErrUnknownCurrency}, // full-width letters
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			c, err := money.ParseCurrency(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParseCurrency(%q) error = %v; want %v", tt.in, err, tt.wantErr)
			}
			if err != nil {
				if !c.IsZero() {
					t.Errorf("ParseCurrency(%q) on error = %v; want the zero Currency", tt.in, c)
				}
				return
			}
			if c.Code() != tt.wantCode || c.Exponent() != tt.wantExp || c.String() != tt.wantCode {
				t.Errorf("ParseCurrency(%q) = %s/%d; want %s/%d", tt.in, c.Code(), c.Exponent(), tt.wantCode, tt.wantExp)
			}
			if c.IsZero() {
				t.Errorf("ParseCurrency(%q).IsZero() = true; want false", tt.in)
			}
		})
	}
}

func TestNamedCurrenciesMatchParse(t *testing.T) {
	for _, c := range []money.Currency{money.USD, money.EUR, money.UAH, money.JPY, money.BHD} {
		got, err := money.ParseCurrency(c.Code())
		if err != nil || got != c {
			t.Errorf("ParseCurrency(%q) = %v (exp %d), %v; want %v (exp %d)", c.Code(), got, got.Exponent(), err, c, c.Exponent())
		}
	}
	if !(money.Currency{}).IsZero() {
		t.Errorf("Currency{}.IsZero() = false; want true")
	}
}
