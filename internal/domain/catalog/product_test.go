package catalog_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/domain/catalog"
	"github.com/wolfix/orders/internal/domain/money"
)

var (
	t0 = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	t1 = t0.Add(time.Hour)
)

func usd(t *testing.T, minor int64) money.Money {
	t.Helper()
	m, err := money.New(minor, money.USD)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestNewProduct(t *testing.T) {
	price := usd(t, 22649)
	type args struct {
		seller, title string
		price         money.Money
		stock         int64
		photo         string
	}
	valid := args{"s1", "Wolf plush", price, 5, "https://cdn.example.com/p/1.jpg"}
	tests := []struct {
		name      string
		mod       func(*args)
		wantErr   error
		wantTitle string
	}{
		{"valid", func(*args) {}, nil, "Wolf plush"},
		{"title trimmed", func(a *args) { a.title = "  Wolf plush \n" }, nil, "Wolf plush"},
		{"title 200 runes", func(a *args) { a.title = strings.Repeat("ї", 200) }, nil, strings.Repeat("ї", 200)},
		{"title 201 runes", func(a *args) { a.title = strings.Repeat("ї", 201) }, catalog.ErrTitleInvalid, ""},
		{"title empty", func(a *args) { a.title = "" }, catalog.ErrTitleInvalid, ""},
		{"title blank", func(a *args) { a.title = " \t\n" }, catalog.ErrTitleInvalid, ""},
		{"title invalid utf8", func(a *args) { a.title = "ab\xff" }, catalog.ErrTitleInvalid, ""},
		{"price zero", func(a *args) { a.price = money.Zero(money.USD) }, catalog.ErrPriceInvalid, ""},
		{"price no currency", func(a *args) { a.price = money.Money{} }, catalog.ErrPriceInvalid, ""},
		{"price one minor unit", func(a *args) { a.price = usd(t, 1) }, nil, "Wolf plush"},
		{"stock zero", func(a *args) { a.stock = 0 }, nil, "Wolf plush"},
		{"stock max", func(a *args) { a.stock = catalog.MaxStock }, nil, "Wolf plush"},
		{"stock over max", func(a *args) { a.stock = catalog.MaxStock + 1 }, catalog.ErrStockInvalid, ""},
		{"stock negative", func(a *args) { a.stock = -1 }, catalog.ErrStockInvalid, ""},
		{"photo empty", func(a *args) { a.photo = "" }, nil, "Wolf plush"},
		{"photo http", func(a *args) { a.photo = "http://example.com/a.png" }, nil, "Wolf plush"},
		{"photo max length", func(a *args) {
			a.photo = "https://e.com/" + strings.Repeat("a", catalog.MaxPhotoURLLen-len("https://e.com/"))
		}, nil, "Wolf plush"},
		{"photo too long", func(a *args) {
			a.photo = "https://e.com/" + strings.Repeat("a", catalog.MaxPhotoURLLen-len("https://e.com/")+1)
		}, catalog.ErrPhotoInvalid, ""},
		{"photo ftp", func(a *args) { a.photo = "ftp://example.com/a.png" }, catalog.ErrPhotoInvalid, ""},
		{"photo javascript", func(a *args) { a.photo = "javascript:alert(1)" }, catalog.ErrPhotoInvalid, ""},
		{"photo relative", func(a *args) { a.photo = "/img/a.png" }, catalog.ErrPhotoInvalid, ""},
		{"photo no host", func(a *args) { a.photo = "https://" }, catalog.ErrPhotoInvalid, ""},
		{"photo no host path", func(a *args) { a.photo = "https:///a.png" }, catalog.ErrPhotoInvalid, ""},
		{"photo newline", func(a *args) { a.photo = "https://e.com/a\r\nX-Injected: 1" }, catalog.ErrPhotoInvalid, ""},
		{"photo space in host", func(a *args) { a.photo = "https://e .com/a.png" }, catalog.ErrPhotoInvalid, ""},
		{"seller empty", func(a *args) { a.seller = "" }, catalog.ErrSellerNeeded, ""},
		{"seller blank", func(a *args) { a.seller = "  " }, catalog.ErrSellerNeeded, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := valid
			tt.mod(&a)
			p, err := catalog.NewProduct("p1", a.seller, a.title, a.price, a.stock, a.photo, t0)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("NewProduct error = %v; want %v", err, tt.wantErr)
			}
			if err != nil {
				if p != nil {
					t.Errorf("NewProduct on error = %+v; want nil", p)
				}
				return
			}
			if p.ID() != "p1" || p.SellerID() != a.seller || p.Title() != tt.wantTitle ||
				p.Price() != a.price || p.Stock() != a.stock || p.PhotoURL() != a.photo ||
				!p.CreatedAt().Equal(t0) || !p.UpdatedAt().Equal(t0) {
				t.Errorf("NewProduct = {%s %s %q %v %d %q %v %v}; want {p1 %s %q %v %d %q %v %v}",
					p.ID(), p.SellerID(), p.Title(), p.Price(), p.Stock(), p.PhotoURL(), p.CreatedAt(), p.UpdatedAt(),
					a.seller, tt.wantTitle, a.price, a.stock, a.photo, t0, t0)
			}
		})
	}
}

func newProduct(t *testing.T) *catalog.Product {
	t.Helper()
	p, err := catalog.NewProduct("p1", "s1", "Wolf plush", usd(t, 1000), 10, "https://e.com/1.jpg", t0)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func ptr[T any](v T) *T { return &v }

func TestApply(t *testing.T) {
	tests := []struct {
		name    string
		patch   catalog.Patch
		wantErr error
		check   func(t *testing.T, p *catalog.Product)
	}{
		{"empty patch touches only updatedAt", catalog.Patch{}, nil, func(t *testing.T, p *catalog.Product) {
			if p.Title() != "Wolf plush" || p.Stock() != 10 {
				t.Errorf("got %q/%d; want unchanged", p.Title(), p.Stock())
			}
		}},
		{"all fields", catalog.Patch{Title: ptr(" New "), Price: ptr(usd(t, 2500)), Stock: ptr(int64(0)), PhotoURL: ptr("")}, nil,
			func(t *testing.T, p *catalog.Product) {
				if p.Title() != "New" || p.Price().Minor() != 2500 || p.Stock() != 0 || p.PhotoURL() != "" {
					t.Errorf("got %q %v %d %q; want \"New\" 25.00 USD 0 \"\"", p.Title(), p.Price(), p.Stock(), p.PhotoURL())
				}
			}},
		{"bad title", catalog.Patch{Title: ptr(""), Stock: ptr(int64(3))}, catalog.ErrTitleInvalid, nil},
		{"bad price after good title", catalog.Patch{Title: ptr("Changed"), Price: ptr(money.Zero(money.USD))}, catalog.ErrPriceInvalid, nil},
		{"bad stock after good price", catalog.Patch{Title: ptr("Changed"), Price: ptr(usd(t, 1)), Stock: ptr(int64(-5))}, catalog.ErrStockInvalid, nil},
		{"bad photo last", catalog.Patch{Title: ptr("Changed"), Price: ptr(usd(t, 1)), Stock: ptr(int64(1)), PhotoURL: ptr("ftp://x")}, catalog.ErrPhotoInvalid, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newProduct(t)
			before := *p
			err := p.Apply(tt.patch, t1)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Apply error = %v; want %v", err, tt.wantErr)
			}
			if err != nil {
				if *p != before {
					t.Errorf("after failed Apply product = %+v; want unchanged %+v", *p, before)
				}
				return
			}
			if !p.UpdatedAt().Equal(t1) || !p.CreatedAt().Equal(t0) {
				t.Errorf("times = created %v updated %v; want %v %v", p.CreatedAt(), p.UpdatedAt(), t0, t1)
			}
			if p.ID() != "p1" || p.SellerID() != "s1" {
				t.Errorf("identity = %s/%s; want p1/s1", p.ID(), p.SellerID())
			}
			tt.check(t, p)
		})
	}
}

func TestCanBeChangedBy(t *testing.T) {
	p := newProduct(t)
	tests := []struct {
		user    string
		isAdmin bool
		want    bool
	}{
		{"s1", false, true},
		{"s2", false, false},
		{"", false, false},
		{"", true, true},
		{"s2", true, true},
		{"S1", false, false},
	}
	for _, tt := range tests {
		if got := p.CanBeChangedBy(tt.user, tt.isAdmin); got != tt.want {
			t.Errorf("CanBeChangedBy(%q, %v) = %v; want %v", tt.user, tt.isAdmin, got, tt.want)
		}
	}
	// A stored product with no seller must not be editable by an anonymous non-admin.
	orphan := catalog.Restore("p2", "", "t", usd(t, 1), 1, "", t0, t0)
	if orphan.CanBeChangedBy("", false) {
		t.Errorf("orphan.CanBeChangedBy(\"\", false) = true; want false")
	}
}

func TestRestore(t *testing.T) {
	// Restore does not validate: stored data is trusted as it was written.
	p := catalog.Restore("p9", "s9", "", money.Money{}, -1, "x", t0, t1)
	if p.ID() != "p9" || p.SellerID() != "s9" || p.Title() != "" || p.Stock() != -1 || p.PhotoURL() != "x" ||
		!p.CreatedAt().Equal(t0) || !p.UpdatedAt().Equal(t1) {
		t.Errorf("Restore = %+v; want the fields as given", *p)
	}
}
