package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

// A client that hangs up mid-request makes the store fail with context.Canceled: that is the
// client's doing, answered 499 for the access log, never a 500 (which would page someone).
// clientClosedRequest is nginx's 499, the status the access log shows for such a request.
const clientClosedRequest = 499

func TestAClientThatHungUpIsNotAServerError(t *testing.T) {
	h := newHarness(t)
	id := h.product("Lamp", 1000, 5)
	ctx, hangUp := context.WithCancel(context.Background())
	hangUp()
	req := httptest.NewRequest(http.MethodGet, "/api/products/"+id, nil).WithContext(ctx)
	rec := httptest.NewRecorder()
	h.handler.ServeHTTP(rec, req)
	if rec.Code != clientClosedRequest {
		t.Fatalf("a request whose client hung up answered %d; want %d: %s", rec.Code, clientClosedRequest, rec.Body)
	}
}
