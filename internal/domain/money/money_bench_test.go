package money_test

// Benchmarks of the conversions every request and response pays for: ParseDecimal reads client
// prices ("459.98") and Decimal renders every amount in JSON. They print ns/op and allocations;
// they assert no speed. Run them with
//
//	go test -run '^$' -bench . -benchmem ./internal/domain/money/

import (
	"testing"

	"github.com/wolfix/orders/internal/domain/money"
)

func BenchmarkParseDecimal(b *testing.B) {
	cases := []struct {
		name, in string
		cur      money.Currency
	}{
		{"USD/cents", "459.98", money.USD},
		{"USD/whole", "7", money.USD},
		{"USD/padded", "0.50", money.USD},
		{"JPY", "1000", money.JPY},
		{"BHD", "1.234", money.BHD},
		{"USD/large", "92233720368547758.07", money.USD},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := money.ParseDecimal(c.in, c.cur); err != nil {
					b.Fatalf("ParseDecimal(%q): %v", c.in, err)
				}
			}
		})
	}
}

func BenchmarkDecimal(b *testing.B) {
	cases := []struct {
		name  string
		minor int64
		cur   money.Currency
	}{
		{"USD", 45998, money.USD},
		{"USD/small", 5, money.USD},
		{"JPY", 1000, money.JPY},
		{"BHD", 1234, money.BHD},
	}
	for _, c := range cases {
		m, err := money.New(c.minor, c.cur)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if m.Decimal() == "" {
					b.Fatal("empty decimal")
				}
			}
		})
	}
}
