package money_test

import (
	"errors"
	"math"
	"strconv"
	"testing"

	"github.com/wolfix/orders/internal/domain/fault"
	"github.com/wolfix/orders/internal/domain/money"
)

func mustNew(t *testing.T, minor int64, c money.Currency) money.Money {
	t.Helper()
	m, err := money.New(minor, c)
	if err != nil {
		t.Fatalf("New(%d, %s): %v", minor, c, err)
	}
	return m
}

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		minor   int64
		cur     money.Currency
		wantErr error
	}{
		{"zero", 0, money.USD, nil},
		{"one cent", 1, money.USD, nil},
		{"max int64", math.MaxInt64, money.JPY, nil},
		{"minus one", -1, money.USD, money.ErrNegative},
		{"min int64", math.MinInt64, money.BHD, money.ErrNegative},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := money.New(tt.minor, tt.cur)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("New(%d) error = %v; want %v", tt.minor, err, tt.wantErr)
			}
			if err != nil {
				if m != (money.Money{}) {
					t.Errorf("New(%d) on error = %#v; want zero Money", tt.minor, m)
				}
				return
			}
			if m.Minor() != tt.minor || m.Currency() != tt.cur {
				t.Errorf("New(%d, %s) = %d %s; want %d %s", tt.minor, tt.cur, m.Minor(), m.Currency(), tt.minor, tt.cur)
			}
			if got, want := m.IsZero(), tt.minor == 0; got != want {
				t.Errorf("IsZero() = %v; want %v", got, want)
			}
		})
	}
}

func TestZero(t *testing.T) {
	z := money.Zero(money.BHD)
	if z.Minor() != 0 || z.Currency() != money.BHD || !z.IsZero() {
		t.Errorf("Zero(BHD) = %v; want 0.000 BHD", z)
	}
	if got, want := z.String(), "0.000 BHD"; got != want {
		t.Errorf("Zero(BHD).String() = %q; want %q", got, want)
	}
}

func TestDecimal(t *testing.T) {
	tests := []struct {
		minor int64
		cur   money.Currency
		want  string
	}{
		{0, money.JPY, "0"},
		{7, money.JPY, "7"},
		{1000, money.JPY, "1000"},
		{math.MaxInt64, money.JPY, "9223372036854775807"},
		{0, money.USD, "0.00"},
		{1, money.USD, "0.01"},
		{10, money.USD, "0.10"},
		{99, money.USD, "0.99"},
		{100, money.USD, "1.00"},
		{45998, money.USD, "459.98"},
		{math.MaxInt64, money.USD, "92233720368547758.07"},
		{0, money.BHD, "0.000"},
		{1, money.BHD, "0.001"},
		{1234, money.BHD, "1.234"},
		{1000, money.BHD, "1.000"},
		{math.MaxInt64, money.BHD, "9223372036854775.807"},
	}
	for _, tt := range tests {
		t.Run(tt.cur.Code()+"/"+strconv.FormatInt(tt.minor, 10), func(t *testing.T) {
			m := mustNew(t, tt.minor, tt.cur)
			if got := m.Decimal(); got != tt.want {
				t.Errorf("Decimal() = %q; want %q", got, tt.want)
			}
			if got, want := m.String(), tt.want+" "+tt.cur.Code(); got != want {
				t.Errorf("String() = %q; want %q", got, want)
			}
			back, err := money.ParseDecimal(tt.want, tt.cur)
			if err != nil || back != m {
				t.Errorf("ParseDecimal(%q) = %v, %v; want %v, nil", tt.want, back, err, m)
			}
		})
	}
}

func TestParseDecimal(t *testing.T) {
	tests := []struct {
		in      string
		cur     money.Currency
		want    int64
		wantErr error
	}{
		// exponent 0
		{"0", money.JPY, 0, nil},
		{"1000", money.JPY, 1000, nil},
		{"1000.0", money.JPY, 1000, nil}, // a zero fraction is exact
		{"1000.000", money.JPY, 1000, nil},
		{"1000.5", money.JPY, 0, money.ErrBadAmount},
		{"9223372036854775807", money.JPY, math.MaxInt64, nil},
		{"9223372036854775808", money.JPY, 0, money.ErrOverflow},
		{"09223372036854775807", money.JPY, math.MaxInt64, nil},
		// exponent 2
		{"459.98", money.USD, 45998, nil},
		{"7", money.USD, 700, nil},
		{"0.5", money.USD, 50, nil},
		{"0.05", money.USD, 5, nil},
		{"0.01", money.USD, 1, nil},
		{"0.00", money.USD, 0, nil},
		{"1.50", money.USD, 150, nil},
		{"1.500", money.USD, 150, nil},
		{"007.10", money.USD, 710, nil},
		{"0.001", money.USD, 0, money.ErrBadAmount},
		{"0.105", money.USD, 0, money.ErrBadAmount},
		{"92233720368547758.07", money.USD, math.MaxInt64, nil},
		{"92233720368547758.08", money.USD, 0, money.ErrOverflow},
		{"92233720368547758.1", money.USD, 0, money.ErrOverflow},
		{"92233720368547759", money.USD, 0, money.ErrOverflow},
		{"99999999999999999999999999999999999999", money.USD, 0, money.ErrOverflow},
		// exponent 3
		{"1.234", money.BHD, 1234, nil},
		{"0.001", money.BHD, 1, nil},
		{"1.2", money.BHD, 1200, nil},
		{"1.2345", money.BHD, 0, money.ErrBadAmount},
		{"9223372036854775.807", money.BHD, math.MaxInt64, nil},
		{"9223372036854775.808", money.BHD, 0, money.ErrOverflow},
		// signs, exponents and other junk
		{"-1", money.USD, 0, money.ErrNegative},
		{"-0", money.USD, 0, money.ErrNegative},
		{"+1", money.USD, 0, money.ErrBadAmount},
		{"1e3", money.USD, 0, money.ErrBadAmount},
		{"1E3", money.USD, 0, money.ErrBadAmount},
		{"1.5e1", money.USD, 0, money.ErrBadAmount},
		{"", money.USD, 0, money.ErrBadAmount},
		{".", money.USD, 0, money.ErrBadAmount},
		{".5", money.USD, 0, money.ErrBadAmount},
		{"5.", money.USD, 0, money.ErrBadAmount},
		{"1.2.3", money.USD, 0, money.ErrBadAmount},
		{"1,50", money.USD, 0, money.ErrBadAmount},
		{" 1", money.USD, 0, money.ErrBadAmount},
		{"1 ", money.USD, 0, money.ErrBadAmount},
		{"0x10", money.USD, 0, money.ErrBadAmount},
		{"NaN", money.USD, 0, money.ErrBadAmount},
		{"Inf", money.USD, 0, money.ErrBadAmount},
		{"١٢", money.USD, 0, money.ErrBadAmount}, // Arabic-Indic digits
		{"1_000", money.USD, 0, money.ErrBadAmount},
		{"0000000000000000000000000000000000000001", money.USD, 100, nil}, // 40 chars
		{"00000000000000000000000000000000000000001", money.USD, 0, money.ErrBadAmount},
	}
	for _, tt := range tests {
		t.Run(tt.cur.Code()+"/"+tt.in, func(t *testing.T) {
			m, err := money.ParseDecimal(tt.in, tt.cur)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParseDecimal(%q, %s) error = %v; want %v", tt.in, tt.cur, err, tt.wantErr)
			}
			if err != nil {
				if m != (money.Money{}) {
					t.Errorf("ParseDecimal(%q) on error = %v; want zero Money", tt.in, m)
				}
				return
			}
			if m.Minor() != tt.want || m.Currency() != tt.cur {
				t.Errorf("ParseDecimal(%q, %s) = %d %s; want %d %s", tt.in, tt.cur, m.Minor(), m.Currency(), tt.want, tt.cur)
			}
		})
	}
}

func TestParseDecimalErrorsAreInvalidFaults(t *testing.T) {
	for _, in := range []string{"", "-1", "1.001", "99999999999999999999"} {
		_, err := money.ParseDecimal(in, money.USD)
		f, ok := fault.As(err)
		if !ok || f.Kind != fault.KindInvalid {
			t.Errorf("ParseDecimal(%q) error = %v; want a KindInvalid fault", in, err)
		}
	}
}

func TestAdd(t *testing.T) {
	tests := []struct {
		name    string
		a, b    int64
		want    int64
		wantErr error
	}{
		{"zeros", 0, 0, 0, nil},
		{"small", 150, 275, 425, nil},
		{"max plus zero", math.MaxInt64, 0, math.MaxInt64, nil},
		{"zero plus max", 0, math.MaxInt64, math.MaxInt64, nil},
		{"exactly max", math.MaxInt64 - 1, 1, math.MaxInt64, nil},
		{"halves", math.MaxInt64 / 2, math.MaxInt64/2 + 1, math.MaxInt64, nil},
		{"max plus one", math.MaxInt64, 1, 0, money.ErrOverflow},
		{"max plus max", math.MaxInt64, math.MaxInt64, 0, money.ErrOverflow},
		{"just over", math.MaxInt64/2 + 1, math.MaxInt64/2 + 1, 0, money.ErrOverflow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := mustNew(t, tt.a, money.USD).Add(mustNew(t, tt.b, money.USD))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("%d + %d error = %v; want %v", tt.a, tt.b, err, tt.wantErr)
			}
			if tt.wantErr != nil {
				if !money.IsOverflow(err) {
					t.Errorf("IsOverflow(%v) = false; want true", err)
				}
				return
			}
			if got.Minor() != tt.want || got.Currency() != money.USD {
				t.Errorf("%d + %d = %v; want %d USD", tt.a, tt.b, got, tt.want)
			}
		})
	}
}

func TestTimes(t *testing.T) {
	tests := []struct {
		name    string
		m, q    int64
		want    int64
		wantErr error
	}{
		{"by zero", 999, 0, 0, nil},
		{"zero by max", 0, math.MaxInt64, 0, nil},
		{"by one", 45998, 1, 45998, nil},
		{"by 1000", 22649, 1000, 22649000, nil},
		{"max by one", math.MaxInt64, 1, math.MaxInt64, nil},
		{"one by max", 1, math.MaxInt64, math.MaxInt64, nil},
		{"half max by two", math.MaxInt64 / 2, 2, math.MaxInt64 - 1, nil},
		{"half max plus one by two", math.MaxInt64/2 + 1, 2, 0, money.ErrOverflow},
		{"max by two", math.MaxInt64, 2, 0, money.ErrOverflow},
		{"max by max", math.MaxInt64, math.MaxInt64, 0, money.ErrOverflow},
		{"2^32 squared", 1 << 32, 1 << 32, 0, money.ErrOverflow},
		{"2^31 by 2^32 is 2^63", 1 << 31, 1 << 32, 0, money.ErrOverflow},
		{"2^31 by 2^31", 1 << 31, 1 << 31, 1 << 62, nil},
		{"negative quantity", 100, -1, 0, money.ErrNegative},
		{"min int64 quantity", 100, math.MinInt64, 0, money.ErrNegative},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := mustNew(t, tt.m, money.JPY).Times(tt.q)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("%d × %d error = %v; want %v", tt.m, tt.q, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if got.Minor() != tt.want || got.Currency() != money.JPY {
				t.Errorf("%d × %d = %v; want %d JPY", tt.m, tt.q, got, tt.want)
			}
		})
	}
}

func TestSub(t *testing.T) {
	tests := []struct {
		name    string
		a, b    int64
		want    int64
		wantErr error
	}{
		{"to zero", 500, 500, 0, nil},
		{"partial", 500, 125, 375, nil},
		{"max minus max", math.MaxInt64, math.MaxInt64, 0, nil},
		{"max minus zero", math.MaxInt64, 0, math.MaxInt64, nil},
		{"below zero", 100, 101, 0, money.ErrNegative},
		{"zero minus max", 0, math.MaxInt64, 0, money.ErrNegative},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := mustNew(t, tt.a, money.BHD).Sub(mustNew(t, tt.b, money.BHD))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("%d - %d error = %v; want %v", tt.a, tt.b, err, tt.wantErr)
			}
			if err == nil && (got.Minor() != tt.want || got.Currency() != money.BHD) {
				t.Errorf("%d - %d = %v; want %d BHD", tt.a, tt.b, got, tt.want)
			}
		})
	}
}

func TestCurrencyMismatch(t *testing.T) {
	usd, eur := mustNew(t, 100, money.USD), mustNew(t, 100, money.EUR)
	ops := map[string]func() (money.Money, error){
		"Add":         func() (money.Money, error) { return usd.Add(eur) },
		"Sub":         func() (money.Money, error) { return usd.Sub(eur) },
		"Add no-curr": func() (money.Money, error) { return usd.Add(money.Money{}) },
		"Sum":         func() (money.Money, error) { return money.Sum(money.USD, usd, eur) },
		"Sum other":   func() (money.Money, error) { return money.Sum(money.EUR, usd) },
	}
	for name, op := range ops {
		t.Run(name, func(t *testing.T) {
			got, err := op()
			if !errors.Is(err, money.ErrCurrencyMismatch) {
				t.Errorf("error = %v; want %v", err, money.ErrCurrencyMismatch)
			}
			if got != (money.Money{}) {
				t.Errorf("result = %#v; want zero Money", got)
			}
		})
	}
}

func TestSum(t *testing.T) {
	tests := []struct {
		name    string
		minors  []int64
		want    int64
		wantErr error
	}{
		{"empty", nil, 0, nil},
		{"one", []int64{5}, 5, nil},
		{"many", []int64{1, 2, 3, 4}, 10, nil},
		{"to max", []int64{math.MaxInt64 - 2, 1, 1}, math.MaxInt64, nil},
		{"overflow", []int64{math.MaxInt64 - 2, 1, 1, 1}, 0, money.ErrOverflow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ms []money.Money
			for _, v := range tt.minors {
				ms = append(ms, mustNew(t, v, money.UAH))
			}
			got, err := money.Sum(money.UAH, ms...)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Sum error = %v; want %v", err, tt.wantErr)
			}
			if err == nil && (got.Minor() != tt.want || got.Currency() != money.UAH) {
				t.Errorf("Sum = %v; want %d UAH", got, tt.want)
			}
		})
	}
}

func TestCmp(t *testing.T) {
	tests := []struct {
		name string
		a, b money.Money
		want int
	}{
		{"less", money.Zero(money.USD), mustNew(t, 1, money.USD), -1},
		{"equal", mustNew(t, 7, money.USD), mustNew(t, 7, money.USD), 0},
		{"greater", mustNew(t, math.MaxInt64, money.USD), mustNew(t, 0, money.USD), 1},
		{"by code first", mustNew(t, 999, money.EUR), mustNew(t, 1, money.USD), -1},
		{"by code first reversed", mustNew(t, 1, money.USD), mustNew(t, 999, money.EUR), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.a.Cmp(tt.b); got != tt.want {
				t.Errorf("%v.Cmp(%v) = %d; want %d", tt.a, tt.b, got, tt.want)
			}
		})
	}
}

func TestIsOverflow(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{money.ErrOverflow, true},
		{money.ErrOverflow.WithMessage("other text"), true},
		{money.ErrNegative, false},
		{nil, false},
		{errors.New("amount_too_large"), false},
	}
	for _, tt := range tests {
		if got := money.IsOverflow(tt.err); got != tt.want {
			t.Errorf("IsOverflow(%v) = %v; want %v", tt.err, got, tt.want)
		}
	}
}
