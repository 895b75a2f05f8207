package httpapi

import (
	"net/http"
	"testing"

	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/domain/fault"
	"github.com/wolfix/orders/internal/domain/payment"
)

// FuzzDecodeOrderRequest feeds arbitrary bodies to the checkout decoder and the domain checks
// behind it: nothing may panic, and every refusal must be a fault answered with a 4xx.
func FuzzDecodeOrderRequest(f *testing.F) {
	f.Add([]byte(`{"items":[{"productId":"p1","quantity":2}],"recipient":{"firstName":"Olena","lastName":"Koval","middleName":null,"phoneNumber":"+380501234567","email":"olena@example.com"},"delivery":{"method":"courier","city":"Kyiv","street":"Khreshchatyk","houseNumber":"22","branchNumber":null}}`))
	f.Add([]byte(`{"items":[{"productId":"p1","quantity":1e309}]}`))
	f.Add([]byte(`{"items":[{"productId":"p1","quantity":"7"}]}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"items":{}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		actor := app.Actor{UserID: "c1", Roles: []app.Role{app.RoleCustomer}}
		cmd, err := decodeOrder(data, actor, payment.MethodCard)
		if err == nil {
			err = firstError(cmd.Recipient.Validate(), cmd.Delivery.Validate())
		}
		if err == nil {
			return
		}
		problem, ok := fault.As(err)
		if !ok {
			t.Fatalf("decoding %q failed with %v, which is not a fault (it would be a 500)", data, err)
		}
		if s := statusOf(problem); s < http.StatusBadRequest || s >= http.StatusInternalServerError {
			t.Fatalf("decoding %q answers %d (%s); want a 4xx", data, s, problem.Code)
		}
	})
}

func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
