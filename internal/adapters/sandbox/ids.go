package sandbox

import "crypto/rand"

// newID returns a Stripe-looking id such as pi_3LQ7…, with 130 random bits.
func newID(prefix string) string { return prefix + "_" + rand.Text() }
