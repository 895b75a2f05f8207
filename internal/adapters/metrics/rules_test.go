package metrics

import (
	"context"
	"database/sql"
	"encoding/json"
	"log/slog"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	"github.com/prometheus/client_golang/prometheus"
	"gopkg.in/yaml.v3"

	"github.com/wolfix/orders/internal/adapters/outbox"
	"github.com/wolfix/orders/internal/adapters/sqlstore"
	"github.com/wolfix/orders/internal/app"
)

// The example alert rules and the Grafana dashboard may name only series a Wolfix process
// exports: a renamed metric or a typo in a rule would otherwise go unnoticed until the alert
// that should have fired did not. (`promtool check rules` checks the syntax; this checks the names.)
func TestAlertRulesAndDashboardNameOnlyExportedSeries(t *testing.T) {
	exported := exportedFamilies(t)
	exprs := append(alertExpressions(t), dashboardExpressions(t)...)
	if len(exprs) < 10 {
		t.Fatalf("found only %d expressions in the rules and the dashboard", len(exprs))
	}
	used := map[string]bool{}
	for _, expr := range exprs {
		for _, name := range seriesPattern.FindAllString(expr, -1) {
			used[name] = true
			if !exported[familyOf(name, exported)] {
				t.Errorf("%s names %s, which no Wolfix process exports", strings.Join(strings.Fields(expr), " "), name)
			}
		}
	}
	for _, want := range []string{"wolfix_http_request_duration_seconds_bucket", "wolfix_outbox_backlog",
		"wolfix_webhook_events_total", "wolfix_reconciler_actions_total", "wolfix_payments_total"} {
		if !used[want] {
			t.Errorf("neither the rules nor the dashboard use %s", want)
		}
	}
}

// seriesPattern finds metric names in PromQL: the service's own and the Go, process and
// database pool collectors'.
var seriesPattern = regexp.MustCompile(`\b(?:wolfix|go|process)_[a-z0-9_]+\b`)

// familyOf maps a histogram's _bucket/_sum/_count series to its family.
func familyOf(name string, exported map[string]bool) string {
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok && exported[base] {
			return base
		}
	}
	return name
}

// exportedFamilies is every family a process that serves and relays registers (as provideMetrics
// does), samples or not (a counter vector has none until first counted), on SQLite or on Postgres,
// whose relay exports one series more.
func exportedFamilies(t *testing.T) map[string]bool {
	t.Helper()
	db, dialect, err := sqlstore.Open(context.Background(), "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	m := New(ReadBuild(""))
	if err := m.WatchDB(db.DB); err != nil {
		t.Fatal(err)
	}
	if err := m.Register(newRelay(t, db.DB, string(dialect)).Collectors()...); err != nil {
		t.Fatal(err)
	}
	if err := m.WatchCheckoutSlots(app.NewCheckoutSlots(app.CheckoutSlotsConfig{Slots: 2})); err != nil {
		t.Fatal(err)
	}
	families := describedFamilies(m.registry)
	// Describing a collector reads nothing, so the Postgres relay's pool never connects.
	pg, err := sql.Open("pgx", "postgres://127.0.0.1:5432/wolfix_described_only")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pg.Close() })
	pgRegistry := prometheus.NewRegistry()
	pgRegistry.MustRegister(newRelay(t, pg, outbox.DialectPostgres).Collectors()...)
	maps.Copy(families, describedFamilies(pgRegistry))
	for _, want := range []string{"wolfix_build_info", "wolfix_outbox_backlog", "go_sql_max_open_connections",
		"wolfix_outbox_oldest_open_transaction_seconds"} {
		if !families[want] {
			t.Fatalf("the registry does not describe %s; it describes %v", want, slices.Sorted(maps.Keys(families)))
		}
	}
	return families
}

func newRelay(t *testing.T, db *sql.DB, dialect string) *outbox.Relay {
	t.Helper()
	broker := gochannel.NewGoChannel(gochannel.Config{}, watermill.NopLogger{})
	t.Cleanup(func() { _ = broker.Close() })
	relay, err := outbox.NewRelay(db, dialect, broker, slog.New(slog.DiscardHandler), outbox.RelayConfig{})
	if err != nil {
		t.Fatal(err)
	}
	return relay
}

// describedFamilies is the name of every family registry describes.
func describedFamilies(registry *prometheus.Registry) map[string]bool {
	descs := make(chan *prometheus.Desc)
	go func() {
		registry.Describe(descs)
		close(descs)
	}()
	fqName := regexp.MustCompile(`fqName: "([^"]+)"`)
	families := map[string]bool{}
	for d := range descs {
		if match := fqName.FindStringSubmatch(d.String()); match != nil {
			families[match[1]] = true
		}
	}
	return families
}

func alertExpressions(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile("../../../deploy/prometheus/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
				Expr  string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(raw, &file); err != nil {
		t.Fatalf("alerts.yml: %v", err)
	}
	var exprs []string
	for _, g := range file.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" || strings.TrimSpace(r.Expr) == "" {
				t.Errorf("alerts.yml: a rule without a name or an expression: %+v", r)
			}
			exprs = append(exprs, r.Expr)
		}
	}
	return exprs
}

func dashboardExpressions(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile("../../../deploy/grafana/wolfix.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Type    string `json:"type"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("wolfix.json: %v", err)
	}
	var exprs []string
	for _, p := range dash.Panels {
		if p.Type != "row" && len(p.Targets) == 0 {
			t.Errorf("wolfix.json: panel %q queries nothing", p.Title)
		}
		for _, target := range p.Targets {
			exprs = append(exprs, target.Expr)
		}
	}
	return exprs
}
