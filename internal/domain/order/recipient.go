package order

import (
	"net/mail"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/wolfix/orders/internal/domain/fault"
)

// Errors for the recipient and delivery.
var (
	ErrRecipientInvalid    = fault.Invalid("recipient_invalid", "recipient is invalid")
	ErrDeliveryInvalid     = fault.Invalid("delivery_invalid", "delivery is invalid")
	ErrBranchNumberMissing = fault.Invalid("branch_number_required", "branchNumber is required for branch and locker delivery")
)

const maxTextField = 100

var phonePattern = regexp.MustCompile(`^\+[1-9][0-9]{7,14}$`)

// Recipient is who receives the order.
type Recipient struct {
	FirstName, LastName, MiddleName, PhoneNumber, Email string
}

// Validate checks names, an E.164 phone number and an e-mail address.
func (r Recipient) Validate() error {
	r = r.normalized()
	if err := requireText("firstName", r.FirstName); err != nil {
		return err
	}
	if err := requireText("lastName", r.LastName); err != nil {
		return err
	}
	if err := optionalText("middleName", r.MiddleName); err != nil {
		return err
	}
	if !phonePattern.MatchString(r.PhoneNumber) {
		return ErrRecipientInvalid.WithMessage("phoneNumber must be in international format, e.g. +380501234567")
	}
	if a, err := mail.ParseAddress(r.Email); err != nil || a.Address != r.Email || len(r.Email) > 254 {
		return ErrRecipientInvalid.WithMessage("email is not a valid address")
	}
	return nil
}

func (r Recipient) normalized() Recipient {
	return Recipient{FirstName: strings.TrimSpace(r.FirstName), LastName: strings.TrimSpace(r.LastName),
		MiddleName: strings.TrimSpace(r.MiddleName), PhoneNumber: strings.TrimSpace(r.PhoneNumber),
		Email: strings.TrimSpace(r.Email)}
}

// DeliveryMethod is how the order travels.
type DeliveryMethod string

// Delivery methods.
const (
	DeliveryCourier DeliveryMethod = "courier"
	DeliveryBranch  DeliveryMethod = "branch"
	DeliveryLocker  DeliveryMethod = "locker"
)

// Delivery is where and how the order goes. Courier needs a street address; branch and locker
// need the branch number.
type Delivery struct {
	Method                                  DeliveryMethod
	City, Street, HouseNumber, BranchNumber string
}

// Validate checks the method and the fields it needs.
func (d Delivery) Validate() error {
	d = d.normalized()
	if err := requireTextAs(ErrDeliveryInvalid, "city", d.City); err != nil {
		return err
	}
	switch d.Method {
	case DeliveryCourier:
		if err := requireTextAs(ErrDeliveryInvalid, "street", d.Street); err != nil {
			return err
		}
		if err := requireTextAs(ErrDeliveryInvalid, "houseNumber", d.HouseNumber); err != nil {
			return err
		}
		return optionalTextAs(ErrDeliveryInvalid, "branchNumber", d.BranchNumber)
	case DeliveryBranch, DeliveryLocker:
		if d.BranchNumber == "" {
			return ErrBranchNumberMissing
		}
		// Fixed order, so that the same input always names the same field (a map would not).
		if err := optionalTextAs(ErrDeliveryInvalid, "branchNumber", d.BranchNumber); err != nil {
			return err
		}
		if err := optionalTextAs(ErrDeliveryInvalid, "street", d.Street); err != nil {
			return err
		}
		return optionalTextAs(ErrDeliveryInvalid, "houseNumber", d.HouseNumber)
	}
	return ErrDeliveryInvalid.WithMessage("delivery.method must be courier, branch or locker")
}

func (d Delivery) normalized() Delivery {
	return Delivery{Method: d.Method, City: strings.TrimSpace(d.City), Street: strings.TrimSpace(d.Street),
		HouseNumber: strings.TrimSpace(d.HouseNumber), BranchNumber: strings.TrimSpace(d.BranchNumber)}
}

func requireText(name, v string) error { return requireTextAs(ErrRecipientInvalid, name, v) }

func optionalText(name, v string) error { return optionalTextAs(ErrRecipientInvalid, name, v) }

func requireTextAs(base *fault.Error, name, v string) error {
	if v == "" {
		return base.WithMessage("%s is required", name)
	}
	return optionalTextAs(base, name, v)
}

func optionalTextAs(base *fault.Error, name, v string) error {
	if !utf8.ValidString(v) || utf8.RuneCountInString(v) > maxTextField || strings.ContainsAny(v, "\x00\r\n") {
		return base.WithMessage("%s must be valid text of at most %d characters", name, maxTextField)
	}
	return nil
}
