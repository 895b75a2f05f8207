package app

import (
	"crypto/rand"
	"encoding/base32"
	"time"

	"github.com/google/uuid"
)

// NewID returns a new time-ordered unique id (UUIDv7), so ids sort by creation.
func NewID() string { return uuid.Must(uuid.NewV7()).String() }

var numberAlphabet = base32.NewEncoding("0123456789ABCDEFGHJKMNPQRSTVWXYZ").WithPadding(base32.NoPadding)

// NewOrderNumber returns a customer-facing order number such as WX-20261124-7K3F9QZ2: the date
// plus 40 random bits, unique enough per day and enforced unique by storage.
func NewOrderNumber(now time.Time) string {
	b := make([]byte, 5)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return "WX-" + now.UTC().Format("20060102") + "-" + numberAlphabet.EncodeToString(b)
}
