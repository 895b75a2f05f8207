package app

import (
	"slices"

	"github.com/wolfix/orders/internal/domain/fault"
)

// Role is what an authenticated user may do.
type Role string

// Roles, as they appear in the token's role/roles claim.
const (
	RoleCustomer Role = "customer"
	RoleSeller   Role = "seller"
	RoleAdmin    Role = "admin"
)

// ParseRole accepts the three known roles.
func ParseRole(s string) (Role, bool) {
	r := Role(s)
	return r, r == RoleCustomer || r == RoleSeller || r == RoleAdmin
}

// Actor is the authenticated caller of a use case. The user id always comes from the token.
type Actor struct {
	UserID string
	Roles  []Role
}

// Has reports whether the actor holds role r.
func (a Actor) Has(r Role) bool { return slices.Contains(a.Roles, r) }

// IsAdmin reports whether the actor is an admin.
func (a Actor) IsAdmin() bool { return a.Has(RoleAdmin) }

// Require returns ErrForbidden unless the actor holds one of roles.
func (a Actor) Require(roles ...Role) error {
	if a.UserID == "" {
		return fault.Unauthenticated("unauthenticated", "authentication is required")
	}
	for _, r := range roles {
		if a.Has(r) {
			return nil
		}
	}
	return ErrForbidden
}
