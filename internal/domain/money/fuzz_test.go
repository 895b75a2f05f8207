package money_test

import (
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/wolfix/orders/internal/domain/money"
)

// FuzzParseDecimal checks that ParseDecimal never panics, agrees with an exact math/big reading of
// the same text, and that Decimal renders every accepted amount as text that parses back to it.
func FuzzParseDecimal(f *testing.F) {
	for _, s := range []string{"0", "459.98", "0.001", "1.2345", "-1", "1e3", "", ".", "92233720368547758.07", "92233720368547758.08"} {
		f.Add(s, uint8(2))
	}
	f.Fuzz(func(t *testing.T, s string, pick uint8) {
		curs := []money.Currency{money.JPY, money.USD, money.BHD}
		c := curs[int(pick)%len(curs)]
		m, err := money.ParseDecimal(s, c)
		want, ok := exactMinor(s, c.Exponent())
		if err != nil {
			if ok && want.IsInt64() {
				t.Fatalf("ParseDecimal(%q, %s) error = %v; want %s minor units", s, c, err, want)
			}
			if !errors.Is(err, money.ErrBadAmount) && !errors.Is(err, money.ErrNegative) && !errors.Is(err, money.ErrOverflow) {
				t.Fatalf("ParseDecimal(%q, %s) error = %v; want one of the package's errors", s, c, err)
			}
			return
		}
		if !ok || !want.IsInt64() || want.Int64() != m.Minor() {
			t.Fatalf("ParseDecimal(%q, %s) = %d; want exact value %v (representable %v)", s, c, m.Minor(), want, ok)
		}
		if m.Currency() != c || m.Minor() < 0 {
			t.Fatalf("ParseDecimal(%q, %s) = %v; want a non-negative %s amount", s, c, m, c)
		}
		d := m.Decimal()
		back, err := money.ParseDecimal(d, c)
		if err != nil || back != m {
			t.Fatalf("ParseDecimal(Decimal()=%q) = %v, %v; want %v", d, back, err, m)
		}
		if back.Decimal() != d {
			t.Fatalf("Decimal not canonical: %q then %q", d, back.Decimal())
		}
	})
}

// exactMinor reads s as a plain unsigned decimal ("123", "1.50") of at most 40 characters and returns
// its value in minor units of a currency with exp fraction digits, if that value is whole.
func exactMinor(s string, exp int) (*big.Int, bool) {
	if s == "" || len(s) > 40 {
		return nil, false
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" || (hasDot && frac == "") {
		return nil, false
	}
	for _, part := range []string{whole, frac} {
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return nil, false
			}
		}
	}
	r, ok := new(big.Rat).SetString(whole + "." + frac + "0")
	if !ok {
		return nil, false
	}
	r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(exp)), nil)))
	if !r.IsInt() {
		return nil, false
	}
	return r.Num(), true
}
