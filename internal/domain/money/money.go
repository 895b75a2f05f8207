// Package money owns amounts of money: an int64 count of a currency's minor units plus the
// ISO-4217 currency. Arithmetic refuses to mix currencies or to overflow, and conversion to and
// from decimal text is exact (no floating point anywhere), honouring each currency's exponent.
package money

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strings"

	"github.com/wolfix/orders/internal/domain/fault"
)

// Errors reported by this package.
var (
	ErrCurrencyMismatch = fault.Invalid("currency_mismatch", "amounts in different currencies cannot be combined")
	ErrOverflow         = fault.Invalid("amount_too_large", "amount is too large")
	ErrBadAmount        = fault.Invalid("amount_invalid", "amount is not a valid decimal amount")
	ErrNegative         = fault.Invalid("amount_negative", "amount must not be negative")
)

// Money is an exact amount in one currency. The zero value has no currency and is only useful as
// "nothing yet"; build real amounts with New, FromMinor or ParseDecimal.
type Money struct {
	minor    int64
	currency Currency
}

// New returns amount minor units of currency c; negative amounts are refused.
func New(minor int64, c Currency) (Money, error) {
	if minor < 0 {
		return Money{}, ErrNegative
	}
	return Money{minor: minor, currency: c}, nil
}

// Zero returns nothing of currency c.
func Zero(c Currency) Money { return Money{currency: c} }

// Minor returns the amount in minor units (cents for USD).
func (m Money) Minor() int64 { return m.minor }

// Currency returns the amount's currency.
func (m Money) Currency() Currency { return m.currency }

// IsZero reports whether the amount is nothing.
func (m Money) IsZero() bool { return m.minor == 0 }

// Add returns m+o; both must share a currency and the sum must fit in int64.
func (m Money) Add(o Money) (Money, error) {
	if m.currency != o.currency {
		return Money{}, ErrCurrencyMismatch
	}
	sum, carry := bits.Add64(uint64(m.minor), uint64(o.minor), 0)
	if carry != 0 || sum > math.MaxInt64 {
		return Money{}, ErrOverflow
	}
	return Money{minor: int64(sum), currency: m.currency}, nil
}

// Sub returns m-o; both must share a currency and o must not exceed m.
func (m Money) Sub(o Money) (Money, error) {
	if m.currency != o.currency {
		return Money{}, ErrCurrencyMismatch
	}
	if o.minor > m.minor {
		return Money{}, ErrNegative
	}
	return Money{minor: m.minor - o.minor, currency: m.currency}, nil
}

// Times returns m multiplied by a non-negative quantity, refusing overflow.
func (m Money) Times(q int64) (Money, error) {
	if q < 0 {
		return Money{}, ErrNegative
	}
	hi, lo := bits.Mul64(uint64(m.minor), uint64(q))
	if hi != 0 || lo > math.MaxInt64 {
		return Money{}, ErrOverflow
	}
	return Money{minor: int64(lo), currency: m.currency}, nil
}

// Cmp compares two amounts of one currency: -1, 0 or +1. Different currencies compare by code
// first so that sorting is total; callers that care check currencies themselves.
func (m Money) Cmp(o Money) int {
	if c := strings.Compare(m.currency.code, o.currency.code); c != 0 {
		return c
	}
	switch {
	case m.minor < o.minor:
		return -1
	case m.minor > o.minor:
		return 1
	}
	return 0
}

// Decimal renders the amount in major units with exactly the currency's exponent of fraction
// digits: 45998 USD is "459.98", 1000 JPY is "1000", 1234 BHD is "1.234".
func (m Money) Decimal() string {
	exp := int(m.currency.exponent)
	if exp == 0 {
		return fmt.Sprintf("%d", m.minor)
	}
	digits := fmt.Sprintf("%0*d", exp+1, m.minor)
	cut := len(digits) - exp
	return digits[:cut] + "." + digits[cut:]
}

// String renders the amount with its currency code, e.g. "459.98 USD".
func (m Money) String() string { return m.Decimal() + " " + m.currency.code }

// ParseDecimal reads a non-negative decimal amount in major units ("459.98", "7", "0.5") exactly.
// It refuses signs, exponents, more fraction digits than the currency has, and overflow.
func ParseDecimal(s string, c Currency) (Money, error) {
	if s == "" || len(s) > 40 {
		return Money{}, ErrBadAmount
	}
	if s[0] == '-' {
		return Money{}, ErrNegative
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" || (hasDot && frac == "") || !allDigits(whole) || !allDigits(frac) {
		return Money{}, ErrBadAmount
	}
	exp := int(c.exponent)
	frac = strings.TrimRight(frac, "0")
	if len(frac) > exp {
		return Money{}, ErrBadAmount.WithMessage("%s allows at most %d decimal places", c.code, exp)
	}
	frac += strings.Repeat("0", exp-len(frac))
	var minor int64
	for _, r := range whole + frac {
		d := int64(r - '0')
		if minor > (math.MaxInt64-d)/10 {
			return Money{}, ErrOverflow
		}
		minor = minor*10 + d
	}
	return Money{minor: minor, currency: c}, nil
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// Sum adds amounts of currency c; an empty list sums to zero.
func Sum(c Currency, amounts ...Money) (Money, error) {
	total := Zero(c)
	for _, a := range amounts {
		var err error
		if total, err = total.Add(a); err != nil {
			return Money{}, err
		}
	}
	return total, nil
}

// IsOverflow reports whether err is an arithmetic overflow.
func IsOverflow(err error) bool { return errors.Is(err, ErrOverflow) }
