package money

import (
	"strings"

	"github.com/wolfix/orders/internal/domain/fault"
)

// ErrUnknownCurrency reports a currency code the service does not trade in.
var ErrUnknownCurrency = fault.Invalid("currency_unsupported", "currency is not supported")

// Currency is an ISO-4217 currency the service trades in, with the number of minor-unit digits the
// payment provider uses for it. Values come only from ParseCurrency or the named variables.
type Currency struct {
	code     string
	exponent uint8
}

// Common currencies.
var (
	USD = Currency{"USD", 2}
	EUR = Currency{"EUR", 2}
	UAH = Currency{"UAH", 2}
	JPY = Currency{"JPY", 0}
	BHD = Currency{"BHD", 3}
)

// supported lists the currencies we accept, with the exponent Stripe uses for each. We keep our own
// list rather than CLDR's (golang.org/x/text/currency) because the provider's minor unit is what the
// amount is charged in, and CLDR disagrees with Stripe for several currencies (e.g. ISK, UGX).
var supported = map[string]uint8{
	"USD": 2, "EUR": 2, "GBP": 2, "UAH": 2, "PLN": 2, "CZK": 2, "CHF": 2, "CAD": 2, "AUD": 2,
	"NZD": 2, "SEK": 2, "NOK": 2, "DKK": 2, "RON": 2, "BGN": 2, "MXN": 2, "BRL": 2, "INR": 2,
	"SGD": 2, "HKD": 2, "TRY": 2, "ILS": 2, "ZAR": 2,
	"JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0, "UGX": 0, "XOF": 0, "XAF": 0,
	"BHD": 3, "KWD": 3, "JOD": 3, "OMR": 3, "TND": 3,
}

// ParseCurrency accepts an ISO-4217 code in any case ("usd", "USD"). Only ASCII letters count:
// strings.ToUpper alone would also turn "uſd" (U+017F) into "USD".
func ParseCurrency(code string) (Currency, error) {
	up := strings.TrimSpace(code)
	for i := 0; i < len(up); i++ {
		if up[i] >= 0x80 {
			up = "" // not a code we trade in; fall through to the error below
			break
		}
	}
	up = strings.ToUpper(up)
	exp, ok := supported[up]
	if !ok {
		return Currency{}, ErrUnknownCurrency.WithMessage("currency %q is not supported", code)
	}
	return Currency{code: up, exponent: exp}, nil
}

// Code returns the upper-case ISO code, e.g. "USD".
func (c Currency) Code() string { return c.code }

// Exponent returns how many minor-unit digits the currency has (2 for USD, 0 for JPY).
func (c Currency) Exponent() int { return int(c.exponent) }

// IsZero reports whether c is the zero value (no currency).
func (c Currency) IsZero() bool { return c.code == "" }

func (c Currency) String() string { return c.code }
