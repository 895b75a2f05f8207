package order_test

import (
	"encoding/binary"
	"errors"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/wolfix/orders/internal/domain/fault"
	"github.com/wolfix/orders/internal/domain/money"
	"github.com/wolfix/orders/internal/domain/order"
	"github.com/wolfix/orders/internal/domain/payment"
)

// lineBytes is how many fuzz bytes describe one line: price (8), quantity (8), flags (1).
const lineBytes = 17

// FuzzPlaceOrder builds orders from arbitrary prices, quantities, fees, currencies and product
// identities. Place must never panic, must refuse with a 4xx fault exactly when the input breaks a
// rule, and otherwise must total Σ price×quantity + fee exactly (checked with math/big).
func FuzzPlaceOrder(f *testing.F) {
	f.Add(int64(700), false, encodeLines([3]int64{22649, 2, 0}))
	f.Add(int64(0), true, encodeLines([3]int64{1, 1, 0}, [3]int64{2, 1000, 1}))
	f.Add(int64(math.MaxInt64), false, encodeLines([3]int64{1, 1, 0}))
	f.Add(int64(1), false, encodeLines([3]int64{math.MaxInt64, 1, 0}))
	f.Add(int64(-1), false, encodeLines([3]int64{1, 1, 0}))
	f.Fuzz(func(t *testing.T, feeMinor int64, cash bool, data []byte) {
		type spec struct {
			price, qty int64
			flags      byte
		}
		var specs []spec
		for len(data) >= lineBytes {
			specs = append(specs, spec{
				price: int64(binary.LittleEndian.Uint64(data[0:8]) >> 1), // non-negative
				qty:   int64(binary.LittleEndian.Uint64(data[8:16])),
				flags: data[16],
			})
			data = data[lineBytes:]
		}
		if feeMinor < 0 {
			feeMinor = -(feeMinor + 1) // keep the fee valid; fee validity is money.New's concern
		}
		fee := mustMoney(t, feeMinor, money.USD)

		p := params(t, payment.MethodCard)
		if cash {
			p.Method = payment.MethodCash
		}
		p.DeliveryFee = fee
		wantErr := len(specs) == 0 || len(specs) > order.MaxLines
		seen := map[string]bool{}
		exact := new(big.Int).SetInt64(feeMinor)
		for i, s := range specs {
			// flags: bit 0 = priced in EUR instead of USD, bit 1 = reuse the previous product's id,
			// bit 2..7 all set = no product at all.
			cur := money.USD
			if s.flags&1 != 0 {
				cur = money.EUR
			}
			id := "p" + strconv.Itoa(i)
			if s.flags&2 != 0 && i > 0 {
				id = "p" + strconv.Itoa(i-1)
			}
			line := order.Line{Product: product(id, mustMoney(t, s.price, cur)), Quantity: s.qty}
			if s.flags>>2 == 0x3f {
				line.Product = nil
			}
			p.Lines = append(p.Lines, line)
			if line.Product == nil || s.qty < 1 || s.qty > order.MaxQuantity || seen[id] || cur != money.USD {
				wantErr = true
			}
			seen[id] = true
			exact.Add(exact, new(big.Int).Mul(big.NewInt(s.price), big.NewInt(s.qty)))
		}
		overflow := !exact.IsInt64()

		o, err := order.Place(p)
		if err != nil {
			if o != nil {
				t.Fatalf("Place returned an order with error %v", err)
			}
			if f, ok := fault.As(err); !ok || (f.Kind != fault.KindInvalid && f.Kind != fault.KindNotFound) {
				t.Fatalf("Place error = %v; want an invalid-input fault", err)
			}
			if !wantErr && !(overflow && errors.Is(err, money.ErrOverflow)) {
				t.Fatalf("Place error = %v; want success with total %s", err, exact)
			}
			return
		}
		if wantErr || overflow {
			t.Fatalf("Place succeeded with total %v; want an error (rule broken %v, overflow %v, exact %s)", o.Total(), wantErr, overflow, exact)
		}
		if o.Total().Minor() != exact.Int64() || o.Total().Currency() != money.USD {
			t.Fatalf("Total = %v; want %s minor USD", o.Total(), exact)
		}
		if o.Payment().Amount() != o.Total() {
			t.Fatalf("payment amount %v; want total %v", o.Payment().Amount(), o.Total())
		}
		wantStatus := order.StatusPending
		if cash {
			wantStatus = order.StatusConfirmed
		}
		if o.Status() != wantStatus || len(o.Items()) != len(specs) {
			t.Fatalf("order status %s with %d items; want %s with %d", o.Status(), len(o.Items()), wantStatus, len(specs))
		}
	})
}

// encodeLines packs {price, quantity, flags} triples the way FuzzPlaceOrder unpacks them.
func encodeLines(ls ...[3]int64) []byte {
	var b []byte
	for _, l := range ls {
		b = binary.LittleEndian.AppendUint64(b, uint64(l[0])<<1)
		b = binary.LittleEndian.AppendUint64(b, uint64(l[1]))
		b = append(b, byte(l[2]))
	}
	return b
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{7,14}$`)

// FuzzRecipientDelivery feeds arbitrary text to the recipient and delivery rules. Validation must
// never panic, must be deterministic, must agree with Place, and whatever it accepts must really
// have the shape the rules promise.
func FuzzRecipientDelivery(f *testing.F) {
	f.Add("Olena", "Koval", "", "+380501234567", "olena@example.com", "courier", "Kyiv", "Khreshchatyk", "22", "")
	f.Add(" Olena ", "Koval", "Ivanivna", " +380501234567 ", " olena@example.com ", "branch", "Lviv", "", "", " 12 ")
	f.Add("O", "K", "", "+12345678", "a@b", "locker", "Odesa", "", "", "L-7")
	f.Add("O\n", "K", "", "+0123", "Olena <o@e.com>", "courier", "", "", "", "")
	f.Fuzz(func(t *testing.T, first, last, middle, phone, email, method, city, street, house, branch string) {
		r := order.Recipient{FirstName: first, LastName: last, MiddleName: middle, PhoneNumber: phone, Email: email}
		d := order.Delivery{Method: order.DeliveryMethod(method), City: city, Street: street, HouseNumber: house, BranchNumber: branch}
		rErr, dErr := r.Validate(), d.Validate()
		if again := r.Validate(); errString(again) != errString(rErr) {
			t.Fatalf("Recipient.Validate not deterministic: %v then %v", rErr, again)
		}
		if again := d.Validate(); errString(again) != errString(dErr) {
			t.Fatalf("Delivery.Validate not deterministic: %v then %v", dErr, again)
		}
		for _, err := range []error{rErr, dErr} {
			if f, ok := fault.As(err); err != nil && (!ok || f.Kind != fault.KindInvalid) {
				t.Fatalf("error %v; want a KindInvalid fault", err)
			}
		}

		p := params(t, payment.MethodCard, order.Line{Product: product("p1", mustMoney(t, 100, money.USD)), Quantity: 1})
		p.Recipient, p.Delivery = r, d
		o, err := order.Place(p)
		want := rErr
		if want == nil {
			want = dErr
		}
		if errString(err) != errString(want) {
			t.Fatalf("Place error = %v; want the validation error %v", err, want)
		}
		if err != nil {
			return
		}

		got := o.Recipient()
		for _, s := range []string{got.FirstName, got.LastName, got.MiddleName, got.PhoneNumber, got.Email} {
			if s != strings.TrimSpace(s) || !utf8.ValidString(s) || strings.ContainsAny(s, "\x00\r\n") {
				t.Fatalf("stored recipient field %q is not normalized text", s)
			}
		}
		if got.FirstName == "" || got.LastName == "" || utf8.RuneCountInString(got.FirstName) > 100 ||
			utf8.RuneCountInString(got.LastName) > 100 || utf8.RuneCountInString(got.MiddleName) > 100 {
			t.Fatalf("stored names %q %q %q break the length rules", got.FirstName, got.LastName, got.MiddleName)
		}
		if !e164.MatchString(got.PhoneNumber) {
			t.Fatalf("stored phone %q is not E.164", got.PhoneNumber)
		}
		if len(got.Email) > 254 || !strings.Contains(got.Email, "@") {
			t.Fatalf("stored email %q is not an address", got.Email)
		}
		gd := o.Delivery()
		if gd.City == "" {
			t.Fatalf("stored delivery %+v has no city", gd)
		}
		switch gd.Method {
		case order.DeliveryCourier:
			if gd.Street == "" || gd.HouseNumber == "" {
				t.Fatalf("courier delivery %+v lacks street or house", gd)
			}
		case order.DeliveryBranch, order.DeliveryLocker:
			if gd.BranchNumber == "" {
				t.Fatalf("%s delivery %+v lacks a branch number", gd.Method, gd)
			}
		default:
			t.Fatalf("accepted delivery method %q", gd.Method)
		}
		for _, s := range []string{gd.City, gd.Street, gd.HouseNumber, gd.BranchNumber} {
			if s != strings.TrimSpace(s) || !utf8.ValidString(s) || utf8.RuneCountInString(s) > 100 || strings.ContainsAny(s, "\x00\r\n") {
				t.Fatalf("stored delivery field %q breaks the text rules", s)
			}
		}
	})
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
