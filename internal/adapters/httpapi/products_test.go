package httpapi_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/wolfix/orders/internal/app"
)

type productDoc struct {
	ID, Title, Currency, SellerID string
	Price                         json.Number
	Stock                         int64
	PhotoURL                      *string
}

func TestProductListAndGetArePublic(t *testing.T) {
	h := newHarness(t)
	ids := []string{h.product("A", 22649, 1), h.product("B", 100, 2), h.product("C", 5, 3)}

	var seen []string
	path := "/api/products?limit=2"
	for pages := 0; path != ""; pages++ {
		if pages > 2 {
			t.Fatal("pagination does not end")
		}
		var page struct {
			Items      []productDoc
			NextCursor *string
		}
		h.do(request{method: http.MethodGet, path: path}).decode(t, &page)
		for _, p := range page.Items {
			seen = append(seen, p.ID)
		}
		path = ""
		if page.NextCursor != nil {
			path = "/api/products?limit=2&cursor=" + *page.NextCursor
		}
	}
	if len(seen) != len(ids) {
		t.Fatalf("listed %v; want the 3 products %v", seen, ids)
	}

	var p productDoc
	h.do(request{method: http.MethodGet, path: "/api/products/" + ids[0]}).decode(t, &p)
	if p.Price != "226.49" || p.Currency != "USD" || p.SellerID != h.seller || p.Stock != 1 || p.PhotoURL != nil {
		t.Errorf("product = %+v; want 226.49 USD by %s, stock 1, no photo", p, h.seller)
	}
	h.do(request{method: http.MethodGet, path: "/api/products/nope"}).wantProblem(t, 404, "product_not_found")
	h.do(request{method: http.MethodGet, path: "/api/products?limit=abc"}).wantProblem(t, 422, "limit_invalid")
	h.do(request{method: http.MethodGet, path: "/api/products?limit=101"}).wantProblem(t, 422, "limit_invalid")
}

func TestCreateAndUpdateProduct(t *testing.T) {
	h := newHarness(t)
	seller := token(t, "seller-9", app.RoleSeller)
	admin := token(t, "admin-1", app.RoleAdmin)
	valid := `{"title":"Desk","price":19.99,"currency":"usd","stock":3,"photoUrl":"https://img.example.com/desk.png"}`

	r := h.do(request{method: http.MethodPost, path: "/api/products", token: seller, body: valid})
	if r.status != http.StatusCreated {
		t.Fatalf("seller create: status %d; want 201 (%s)", r.status, r.body)
	}
	var p productDoc
	r.decode(t, &p)
	if p.Price != "19.99" || p.Currency != "USD" || p.SellerID != "seller-9" || p.Stock != 3 {
		t.Fatalf("created = %+v; want 19.99 USD by seller-9, stock 3", p)
	}

	var forSeller productDoc
	h.do(request{method: http.MethodPost, path: "/api/products", token: admin,
		body: `{"title":"Chair","price":5,"currency":"USD","stock":0,"sellerId":"seller-7"}`}).decode(t, &forSeller)
	if forSeller.SellerID != "seller-7" || forSeller.Price != "5.00" {
		t.Errorf("admin-created = %+v; want seller-7 at 5.00", forSeller)
	}

	bad := []struct {
		name, token, method, path, body string
		status                          int
		code                            string
	}{
		{"customer may not sell", token(t, "c1", app.RoleCustomer), "POST", "/api/products", valid, 403, "forbidden"},
		{"no token", "", "POST", "/api/products", valid, 401, "unauthenticated"},
		{"three decimals", seller, "POST", "/api/products", `{"title":"X","price":1.005,"currency":"USD","stock":1}`, 422, "price_invalid"},
		{"exponent price", seller, "POST", "/api/products", `{"title":"X","price":1e3,"currency":"USD","stock":1}`, 422, "price_invalid"},
		{"zero price", seller, "POST", "/api/products", `{"title":"X","price":0,"currency":"USD","stock":1}`, 422, "price_invalid"},
		{"negative price", seller, "POST", "/api/products", `{"title":"X","price":-1,"currency":"USD","stock":1}`, 422, "price_invalid"},
		{"unknown currency", seller, "POST", "/api/products", `{"title":"X","price":1,"currency":"XXX","stock":1}`, 422, "currency_unsupported"},
		{"fractional stock", seller, "POST", "/api/products", `{"title":"X","price":1,"currency":"USD","stock":2.5}`, 422, "stock_invalid"},
		{"negative stock", seller, "POST", "/api/products", `{"title":"X","price":1,"currency":"USD","stock":-1}`, 422, "stock_invalid"},
		{"empty title", seller, "POST", "/api/products", `{"title":" ","price":1,"currency":"USD","stock":1}`, 422, "title_invalid"},
		{"unknown field", seller, "POST", "/api/products", `{"title":"X","price":1,"currency":"USD","stock":1,"rating":5}`, 400, "unknown_field"},
		{"other seller's product", token(t, "seller-8", app.RoleSeller), "PATCH", "/api/products/" + p.ID, `{"stock":9}`, 403, "not_product_owner"},
		{"patch unknown product", seller, "PATCH", "/api/products/nope", `{"stock":9}`, 404, "product_not_found"},
		{"patch bad price", seller, "PATCH", "/api/products/" + p.ID, `{"price":"abc"}`, 400, "field_type_invalid"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			h.do(request{method: tc.method, path: tc.path, token: tc.token, body: tc.body}).wantProblem(t, tc.status, tc.code)
		})
	}

	var patched productDoc
	h.do(request{method: http.MethodPatch, path: "/api/products/" + p.ID, token: seller,
		body: `{"price":24.50,"stock":7,"title":null}`}).decode(t, &patched)
	if patched.Price != "24.50" || patched.Stock != 7 || patched.Title != "Desk" {
		t.Errorf("patched = %+v; want Desk at 24.50 with stock 7", patched)
	}
}
