package sqlstore

import (
	"testing"

	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/app/porttest"
)

func TestReactionLogPassesThePortSuite_SQLiteAndPostgres(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			porttest.RunReactionLog(t, func(t *testing.T) app.ReactionLog {
				tdb := openTestDB(t, d.url(t))
				log, err := NewReactionLog(tdb.db.DB, tdb.dialect)
				if err != nil {
					t.Fatal(err)
				}
				return log
			})
		})
	}
}
