#!/usr/bin/env bash
# Vendors the API docs viewer (swagger-ui-dist, an OpenAPI 3.1-capable renderer) from npm at a
# pinned version into web/vendor/, which the binary embeds, so /docs works offline and `make run`
# needs no front-end build. Run it only to change the version; commit what it writes.
set -euo pipefail
cd "$(dirname "$0")"

package=swagger-ui-dist
version=5.35.0
integrity=sha512-U06rpMtW9V3XPGOBeamTUSr0Z09jMX4IJuANpE/EZbAhw0G8CgwrzU4YmXkn/h0wCDNsXdGarTNNHC3sU8yVUQ==
files=(swagger-ui-bundle.js swagger-ui-bundle.js.LICENSE.txt swagger-ui.css LICENSE)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "$package@$version" >/dev/null)
tarball="$work/$package-$version.tgz"
got="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
if [ "$got" != "$integrity" ]; then
  echo "vendor: $package@$version has integrity $got; want $integrity" >&2
  exit 1
fi
tar -xzf "$tarball" -C "$work" "${files[@]/#/package/}"
mkdir -p vendor
for f in "${files[@]}"; do
  # the source-map comments name files we do not ship
  sed -E '/^(\/\/|\/\*)# sourceMappingURL=/d' "$work/package/$f" >"vendor/$f"
done
echo "$package@$version $integrity" >vendor/VERSION
echo "vendor: $package@$version → web/vendor/ (${files[*]})"
