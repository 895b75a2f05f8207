# syntax=docker/dockerfile:1
# Wolfix: one static binary (no cgo: the embedded SQLite is pure Go) on a distroless base that has
# CA certificates and a non-root user, and nothing else. Roles are commands: serve (default),
# relay, migrate up, prune. See docs/deploy.md.

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/wolfix ./cmd/wolfix \
    && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/wolfix /usr/local/bin/wolfix
COPY configs/wolfix.yaml /etc/wolfix/wolfix.yaml
# the data dir only matters for the embedded SQLite default; production sets WOLFIX_DATABASE_URL
COPY --from=build --chown=nonroot:nonroot /out/data /var/lib/wolfix
ENV WOLFIX_CONFIG=/etc/wolfix/wolfix.yaml \
    WOLFIX_DATA_DIR=/var/lib/wolfix \
    WOLFIX_HTTP_ADDR=:8080
USER nonroot:nonroot
EXPOSE 8080 9090
ENTRYPOINT ["/usr/local/bin/wolfix"]
CMD ["serve"]
