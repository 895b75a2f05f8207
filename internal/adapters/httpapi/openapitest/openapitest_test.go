package openapitest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The checker itself: what conforms passes, and each kind of departure is reported by name.
func TestCheck(t *testing.T) {
	const refund = `{"id":"r1","amount":12.50,"status":"succeeded","reason":null,"restock":false,` +
		`"createdAt":"2026-11-30T10:00:00Z","orderId":"o1","currency":"USD"`
	problem := `{"type":"https://wolfix.dev/problems/forbidden","title":"Forbidden","status":403,` +
		`"detail":"no","code":"forbidden","requestId":"x"}`
	jsonType := http.Header{"Content-Type": {"application/json"}}
	problemType := http.Header{"Content-Type": {"application/problem+json"}}
	cases := []struct {
		name   string
		status int
		header http.Header
		body   string
		want   string // "" = conforms
	}{
		{"documented refund", 201, jsonType, refund + `}`, ""},
		{"documented problem", 403, problemType, problem, ""},
		{"undocumented field (allOf closed by unevaluatedProperties)", 201, jsonType, refund + `,"cardNumber":"4242"}`, "cardNumber"},
		{"missing required field", 201, jsonType, strings.Replace(refund, `"orderId":"o1",`, "", 1) + `}`, "orderId"},
		{"wrong type", 201, jsonType, strings.Replace(refund, `"restock":false`, `"restock":"no"`, 1) + `}`, "restock"},
		{"undocumented status", 418, problemType, problem, "418"},
		{"undocumented content type", 201, http.Header{"Content-Type": {"text/plain"}}, refund + `}`, "text/plain"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/api/orders/o1/refunds", nil)
			err := Check(req, c.status, c.header, []byte(c.body))
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("got %v; want it to conform", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("got %v; want an error naming %q", err, c.want)
			}
		})
	}
}

// TestRouterAnswersAreNotJudged: an answer to a path or method no route serves has no operation
// to conform to; a documented operation's answers are still judged.
func TestRouterAnswersAreNotJudged(t *testing.T) {
	body := []byte(`{"type":"https://wolfix.dev/problems/route_not_found","title":"Not Found","status":404,"detail":"no such endpoint","code":"route_not_found"}`)
	req := httptest.NewRequest(http.MethodGet, "/api/nothing-here", nil)
	if err := Check(req, 404, http.Header{"Content-Type": {"application/problem+json"}}, body); err != nil {
		t.Fatal(err)
	}
	slash := httptest.NewRequest(http.MethodGet, "/api/products/", nil) // the validator matches /api/products
	if err := Check(slash, 404, http.Header{"Content-Type": {"application/problem+json"}}, body); err != nil {
		t.Fatal(err)
	}
	refused := httptest.NewRequest("0", "/0?%", nil) // the edge refuses it before routing
	if err := Check(refused, 400, http.Header{"Content-Type": {"application/problem+json"}}, body); err != nil {
		t.Fatal(err)
	}
	documented := httptest.NewRequest(http.MethodGet, "/api/products", nil)
	if err := Check(documented, 404, http.Header{"Content-Type": {"application/problem+json"}},
		[]byte(strings.Replace(string(body), "route_not_found", "product_not_found", 2))); err == nil {
		t.Fatal("an undocumented 404 from a documented operation passed")
	}
}
