package memory

import (
	"cmp"
	"context"
	"errors"
	"slices"

	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/domain/catalog"
)

type products repos

func (r products) Get(ctx context.Context, id string) (p *catalog.Product, err error) {
	err = r.run(ctx, func(st *state) error {
		p, err = st.product(id)
		return err
	})
	return p, err
}

func (r products) GetMany(ctx context.Context, ids []string) (map[string]*catalog.Product, error) {
	out := map[string]*catalog.Product{}
	err := r.run(ctx, func(st *state) error {
		for _, id := range ids {
			if p, err := st.product(id); err == nil {
				out[id] = p
			}
		}
		return nil
	})
	return out, err
}

func (r products) List(ctx context.Context, q app.ProductQuery) (out []*catalog.Product, next string, err error) {
	err = r.run(ctx, func(st *state) error {
		all := make([]*catalog.Product, 0, len(st.products))
		for _, p := range st.products {
			all = append(all, &p)
		}
		slices.SortFunc(all, func(a, b *catalog.Product) int { return cmp.Compare(a.ID(), b.ID()) })
		out, next, err = page(all, func(p *catalog.Product) position { return position{id: p.ID()} }, false, q.After, q.Limit)
		return err
	})
	return out, next, err
}

func (r products) Add(ctx context.Context, p *catalog.Product) error {
	return r.run(ctx, func(st *state) error {
		if _, dup := st.products[p.ID()]; dup {
			return errors.New("memory: the product exists")
		}
		st.products[p.ID()] = *p
		return nil
	})
}

func (r products) Update(ctx context.Context, id string, fn func(p *catalog.Product) error) (p *catalog.Product, err error) {
	err = r.run(ctx, func(st *state) error {
		if p, err = st.product(id); err != nil {
			return err
		}
		if err := fn(p); err != nil {
			return err
		}
		st.products[id] = *p
		return nil
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

func (r products) Reserve(ctx context.Context, lines ...app.StockLine) error {
	ordered, err := app.InProductOrder(lines)
	if err != nil {
		return err
	}
	return r.run(ctx, func(st *state) error {
		for _, l := range ordered {
			p, err := st.product(l.ProductID)
			if err != nil {
				return err
			}
			if p.Stock() < l.Quantity {
				return app.ShortOf(l.ProductID)
			}
			st.products[l.ProductID] = *restock(p, p.Stock()-l.Quantity)
		}
		return nil
	})
}

func (r products) Release(ctx context.Context, id string, qty int64) error {
	return r.run(ctx, func(st *state) error {
		p, err := st.product(id)
		if err != nil {
			return err
		}
		st.products[id] = *restock(p, p.Stock()+qty)
		return nil
	})
}

func (r products) Count(ctx context.Context) (n int, err error) {
	err = r.run(ctx, func(st *state) error {
		n = len(st.products)
		return nil
	})
	return n, err
}

// product returns a copy of the stored product id.
func (st *state) product(id string) (*catalog.Product, error) {
	p, ok := st.products[id]
	if !ok {
		return nil, catalog.ErrNotFound
	}
	return &p, nil
}

func restock(p *catalog.Product, stock int64) *catalog.Product {
	return catalog.Restore(p.ID(), p.SellerID(), p.Title(), p.Price(), stock, p.PhotoURL(), p.CreatedAt(), p.UpdatedAt())
}
