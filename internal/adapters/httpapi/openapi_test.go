package httpapi_test

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"gopkg.in/yaml.v3"

	"github.com/wolfix/orders/internal/adapters/httpapi"
)

// TestOpenAPIMatchesRoutes keeps the document honest: every gin route (with every optional
// route enabled: metrics, the sandbox and the development sign-in) is documented, and every documented path and method
// is a route.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	h := newHarness(t, withDevSignIn, func(c *httpapi.Config) { c.Metrics = http.NotFoundHandler() })
	engine, ok := h.handler.(*gin.Engine)
	if !ok {
		t.Fatalf("handler is %T; want *gin.Engine", h.handler)
	}
	param := regexp.MustCompile(`:([A-Za-z0-9_]+)`)
	routes := map[string]bool{}
	for _, r := range engine.Routes() {
		routes[strings.ToLower(r.Method)+" "+param.ReplaceAllString(r.Path, "{$1}")] = true
	}

	var doc struct {
		OpenAPI string                          `yaml:"openapi"`
		Paths   map[string]map[string]yaml.Node `yaml:"paths"`
	}
	if err := yaml.Unmarshal(httpapi.OpenAPI(), &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q; want 3.1.0", doc.OpenAPI)
	}
	methods := []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}
	documented := map[string]bool{}
	for path, item := range doc.Paths {
		for key := range item {
			if slices.Contains(methods, key) {
				documented[key+" "+path] = true
			}
		}
	}
	for r := range routes {
		if !documented[r] {
			t.Errorf("route %s is not in openapi.yaml", r)
		}
	}
	for d := range documented {
		if !routes[d] {
			t.Errorf("openapi.yaml documents %s, which is not a route", d)
		}
	}
	if len(routes) < 20 {
		t.Errorf("only %d routes; the engine looks incomplete", len(routes))
	}
}

// TestOpenAPIIsServed checks GET /openapi.yaml answers the embedded document as YAML.
func TestOpenAPIIsServed(t *testing.T) {
	h := newHarness(t)
	r := h.do(request{method: http.MethodGet, path: "/openapi.yaml"})
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "application/yaml" {
		t.Fatalf("GET /openapi.yaml: %d %q", r.status, r.header.Get("Content-Type"))
	}
	if string(r.body) != string(httpapi.OpenAPI()) {
		t.Fatal("the served document differs from the embedded one")
	}
	var doc map[string]any
	if err := yaml.Unmarshal(r.body, &doc); err != nil || doc["paths"] == nil {
		t.Fatalf("served document does not parse as OpenAPI: %v", err)
	}
}

// TestOpenAPIReferencesResolve checks every local $ref names a component that exists.
func TestOpenAPIReferencesResolve(t *testing.T) {
	var doc map[string]any
	if err := yaml.Unmarshal(httpapi.OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if ref, ok := x["$ref"].(string); ok {
				if !resolves(doc, ref) {
					t.Errorf("$ref %s does not resolve", ref)
				}
			}
			for _, c := range x {
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(doc)
}

func resolves(doc map[string]any, ref string) bool {
	path, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return false
	}
	var cur any = doc
	for _, part := range strings.Split(path, "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		if cur, ok = m[part]; !ok {
			return false
		}
	}
	return true
}
