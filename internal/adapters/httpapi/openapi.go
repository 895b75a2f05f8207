package httpapi

import (
	_ "embed"
	"net/http"

	"github.com/gin-gonic/gin"
)

// openAPIDocument is the OpenAPI 3.1 description of every route; TestOpenAPIMatchesRoutes keeps
// it and the router in step.
//
//go:embed openapi.yaml
var openAPIDocument []byte

// OpenAPI returns the service's OpenAPI 3.1 document (YAML).
func OpenAPI() []byte { return append([]byte(nil), openAPIDocument...) }

// openAPI serves GET /openapi.yaml.
func (s *Server) openAPI(c *gin.Context) {
	c.Data(http.StatusOK, "application/yaml", openAPIDocument)
}
