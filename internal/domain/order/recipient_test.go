package order_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/wolfix/orders/internal/domain/order"
)

func TestRecipientValidate(t *testing.T) {
	long := strings.Repeat("я", 101)
	tests := []struct {
		name    string
		mod     func(*order.Recipient)
		wantErr error
	}{
		{"valid", func(*order.Recipient) {}, nil},
		{"with middle name", func(r *order.Recipient) { r.MiddleName = "Ivanivna" }, nil},
		{"names of 100 runes", func(r *order.Recipient) { r.FirstName, r.LastName = long[:200], long[:200] }, nil},
		{"padded fields", func(r *order.Recipient) {
			r.FirstName, r.PhoneNumber, r.Email = " Olena ", " +380501234567\n", "\tolena@example.com "
		}, nil},
		{"first name missing", func(r *order.Recipient) { r.FirstName = "" }, order.ErrRecipientInvalid},
		{"first name blank", func(r *order.Recipient) { r.FirstName = "   " }, order.ErrRecipientInvalid},
		{"last name missing", func(r *order.Recipient) { r.LastName = "" }, order.ErrRecipientInvalid},
		{"first name 101 runes", func(r *order.Recipient) { r.FirstName = long }, order.ErrRecipientInvalid},
		{"middle name 101 runes", func(r *order.Recipient) { r.MiddleName = long }, order.ErrRecipientInvalid},
		{"name with newline", func(r *order.Recipient) { r.LastName = "Ko\nval" }, order.ErrRecipientInvalid},
		{"name with CR", func(r *order.Recipient) { r.LastName = "Ko\rval" }, order.ErrRecipientInvalid},
		{"name with NUL", func(r *order.Recipient) { r.FirstName = "Ol\x00ena" }, order.ErrRecipientInvalid},
		{"name invalid utf8", func(r *order.Recipient) { r.FirstName = "Ol\xffena" }, order.ErrRecipientInvalid},
		// phone: E.164 is + then 8 to 15 digits, no leading zero
		{"phone 8 digits", func(r *order.Recipient) { r.PhoneNumber = "+12345678" }, nil},
		{"phone 15 digits", func(r *order.Recipient) { r.PhoneNumber = "+123456789012345" }, nil},
		{"phone 7 digits", func(r *order.Recipient) { r.PhoneNumber = "+1234567" }, order.ErrRecipientInvalid},
		{"phone 16 digits", func(r *order.Recipient) { r.PhoneNumber = "+1234567890123456" }, order.ErrRecipientInvalid},
		{"phone without plus", func(r *order.Recipient) { r.PhoneNumber = "380501234567" }, order.ErrRecipientInvalid},
		{"phone 00 prefix", func(r *order.Recipient) { r.PhoneNumber = "00380501234567" }, order.ErrRecipientInvalid},
		{"phone leading zero", func(r *order.Recipient) { r.PhoneNumber = "+0380501234567" }, order.ErrRecipientInvalid},
		{"phone with spaces", func(r *order.Recipient) { r.PhoneNumber = "+380 50 123 45 67" }, order.ErrRecipientInvalid},
		{"phone with dashes", func(r *order.Recipient) { r.PhoneNumber = "+380-50-1234567" }, order.ErrRecipientInvalid},
		{"phone with letters", func(r *order.Recipient) { r.PhoneNumber = "+38050123456a" }, order.ErrRecipientInvalid},
		{"phone inner newline", func(r *order.Recipient) { r.PhoneNumber = "+380501234567\n+1" }, order.ErrRecipientInvalid},
		{"phone full-width digits", func(r *order.Recipient) { r.PhoneNumber = "+３８０５０１２３４５６７" }, order.ErrRecipientInvalid},
		{"phone missing", func(r *order.Recipient) { r.PhoneNumber = "" }, order.ErrRecipientInvalid},
		// email
		{"email missing", func(r *order.Recipient) { r.Email = "" }, order.ErrRecipientInvalid},
		{"email without at", func(r *order.Recipient) { r.Email = "olena.example.com" }, order.ErrRecipientInvalid},
		{"email with display name", func(r *order.Recipient) { r.Email = "Olena <olena@example.com>" }, order.ErrRecipientInvalid},
		{"email in brackets", func(r *order.Recipient) { r.Email = "<olena@example.com>" }, order.ErrRecipientInvalid},
		{"two emails", func(r *order.Recipient) { r.Email = "a@example.com, b@example.com" }, order.ErrRecipientInvalid},
		{"email with comment", func(r *order.Recipient) { r.Email = "olena@example.com (me)" }, order.ErrRecipientInvalid},
		{"email with newline", func(r *order.Recipient) { r.Email = "olena@example.com\nBcc: x@y.z" }, order.ErrRecipientInvalid},
		{"email plus tag", func(r *order.Recipient) { r.Email = "olena+shop@example.com" }, nil},
		{"email 254 chars", func(r *order.Recipient) { r.Email = strings.Repeat("a", 64) + "@" + strings.Repeat("b", 185) + ".com" }, nil},
		{"email 255 chars", func(r *order.Recipient) { r.Email = strings.Repeat("a", 64) + "@" + strings.Repeat("b", 186) + ".com" }, order.ErrRecipientInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := validRecipient()
			tt.mod(&r)
			if err := r.Validate(); !errors.Is(err, tt.wantErr) {
				t.Errorf("Validate(%+v) = %v; want %v", r, err, tt.wantErr)
			}
		})
	}
}

func TestDeliveryValidate(t *testing.T) {
	long := strings.Repeat("x", 101)
	tests := []struct {
		name    string
		d       order.Delivery
		wantErr error
	}{
		{"courier", order.Delivery{Method: order.DeliveryCourier, City: "Kyiv", Street: "Khreshchatyk", HouseNumber: "22"}, nil},
		{"courier with branch number", order.Delivery{Method: order.DeliveryCourier, City: "Kyiv", Street: "S", HouseNumber: "1", BranchNumber: "5"}, nil},
		{"courier without street", order.Delivery{Method: order.DeliveryCourier, City: "Kyiv", HouseNumber: "22"}, order.ErrDeliveryInvalid},
		{"courier blank street", order.Delivery{Method: order.DeliveryCourier, City: "Kyiv", Street: " \t", HouseNumber: "22"}, order.ErrDeliveryInvalid},
		{"courier without house", order.Delivery{Method: order.DeliveryCourier, City: "Kyiv", Street: "S"}, order.ErrDeliveryInvalid},
		{"courier blank house", order.Delivery{Method: order.DeliveryCourier, City: "Kyiv", Street: "S", HouseNumber: "  "}, order.ErrDeliveryInvalid},
		{"courier long street", order.Delivery{Method: order.DeliveryCourier, City: "Kyiv", Street: long, HouseNumber: "1"}, order.ErrDeliveryInvalid},
		{"courier long branch", order.Delivery{Method: order.DeliveryCourier, City: "Kyiv", Street: "S", HouseNumber: "1", BranchNumber: long}, order.ErrDeliveryInvalid},
		{"branch", order.Delivery{Method: order.DeliveryBranch, City: "Lviv", BranchNumber: "12"}, nil},
		{"branch with street", order.Delivery{Method: order.DeliveryBranch, City: "Lviv", BranchNumber: "12", Street: "S", HouseNumber: "1"}, nil},
		{"branch without number", order.Delivery{Method: order.DeliveryBranch, City: "Lviv"}, order.ErrBranchNumberMissing},
		{"branch blank number", order.Delivery{Method: order.DeliveryBranch, City: "Lviv", BranchNumber: "   "}, order.ErrBranchNumberMissing},
		{"branch with address but no number", order.Delivery{Method: order.DeliveryBranch, City: "Lviv", Street: "S", HouseNumber: "1"}, order.ErrBranchNumberMissing},
		{"branch long number", order.Delivery{Method: order.DeliveryBranch, City: "Lviv", BranchNumber: long}, order.ErrDeliveryInvalid},
		{"branch long street", order.Delivery{Method: order.DeliveryBranch, City: "Lviv", BranchNumber: "1", Street: long}, order.ErrDeliveryInvalid},
		{"branch newline house", order.Delivery{Method: order.DeliveryBranch, City: "Lviv", BranchNumber: "1", HouseNumber: "1\n2"}, order.ErrDeliveryInvalid},
		{"locker", order.Delivery{Method: order.DeliveryLocker, City: "Odesa", BranchNumber: "L-7"}, nil},
		{"locker without number", order.Delivery{Method: order.DeliveryLocker, City: "Odesa"}, order.ErrBranchNumberMissing},
		{"no city", order.Delivery{Method: order.DeliveryBranch, BranchNumber: "1"}, order.ErrDeliveryInvalid},
		{"blank city", order.Delivery{Method: order.DeliveryCourier, City: "  ", Street: "S", HouseNumber: "1"}, order.ErrDeliveryInvalid},
		{"long city", order.Delivery{Method: order.DeliveryCourier, City: long, Street: "S", HouseNumber: "1"}, order.ErrDeliveryInvalid},
		{"city invalid utf8", order.Delivery{Method: order.DeliveryCourier, City: "\xc3", Street: "S", HouseNumber: "1"}, order.ErrDeliveryInvalid},
		{"no method", order.Delivery{City: "Kyiv", Street: "S", HouseNumber: "1", BranchNumber: "1"}, order.ErrDeliveryInvalid},
		{"method in capitals", order.Delivery{Method: "Courier", City: "Kyiv", Street: "S", HouseNumber: "1"}, order.ErrDeliveryInvalid},
		{"unknown method", order.Delivery{Method: "pickup", City: "Kyiv", BranchNumber: "1"}, order.ErrDeliveryInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.d.Validate(); !errors.Is(err, tt.wantErr) {
				t.Errorf("Validate(%+v) = %v; want %v", tt.d, err, tt.wantErr)
			}
		})
	}
}

// With several bad fields, the error must name the same one every time (it used to depend on map
// iteration order).
func TestDeliveryValidateIsDeterministic(t *testing.T) {
	long := strings.Repeat("x", 101)
	d := order.Delivery{Method: order.DeliveryLocker, City: "Kyiv", BranchNumber: long, Street: long, HouseNumber: long}
	want := d.Validate().Error()
	if !strings.Contains(want, "branchNumber") {
		t.Errorf("Validate = %q; want it to name branchNumber first", want)
	}
	for i := 0; i < 100; i++ {
		if got := d.Validate().Error(); got != want {
			t.Fatalf("Validate = %q on call %d; want %q every time", got, i, want)
		}
	}
}
