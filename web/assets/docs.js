// The API docs page: Swagger UI (vendored, see web/vendor.sh) rendering this server's
// /openapi.yaml, with no call to any other host (no validator badge, no fonts from elsewhere).
"use strict";

window.ui = SwaggerUIBundle({
  url: "/openapi.yaml",
  dom_id: "#swagger-ui",
  validatorUrl: null,
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});
