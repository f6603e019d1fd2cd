#!/usr/bin/env bash
# Vendors a new upstream spec: replaces openapi.json (byte for byte) and
# rewrites its source record OPENAPI_VERSION, keeping that file's comment lines.
#
# usage: scripts/update-spec.sh NEW_SPEC [REPOSITORY]
#
#   NEW_SPEC     the spec to vendor (e.g. written by kelviq-specdrift --save-live)
#   REPOSITORY   where it came from (default https://docs.kelviq.com)
#
# Environment (optional): SPEC_PATH (default api-reference/openapi.json),
# SPEC_COMMIT (default "unknown (fetched from the published docs)"),
# SPEC_DATE (default today, UTC).
#
# Used by .github/workflows/spec-drift.yml; run it by hand the same way.
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: $0 NEW_SPEC [REPOSITORY]" >&2
	exit 2
fi
new=$1
repository=${2:-https://docs.kelviq.com}
path=${SPEC_PATH:-api-reference/openapi.json}
commit=${SPEC_COMMIT:-unknown (fetched from the published docs)}
date=${SPEC_DATE:-$(date -u +%Y-%m-%d)}

root=$(cd "$(dirname "$0")/.." && pwd)

if [ ! -s "$new" ]; then
	echo "$0: $new: missing or empty" >&2
	exit 1
fi
# The drift check has loaded it already; refuse anything that is not even
# shaped like a JSON OpenAPI document (an HTML error page, YAML).
start=$(head -c 4096 "$new")
start=${start#"${start%%[![:space:]]*}"} # without leading white space
if [ "${start:0:1}" != "{" ] || [[ ! $start =~ \"openapi\"[[:space:]]*: ]]; then
	echo "$0: $new: not a JSON OpenAPI document" >&2
	exit 1
fi

comments=$(grep '^#' "$root/OPENAPI_VERSION" 2>/dev/null || true)
if [ -z "$comments" ]; then
	comments='# Source of openapi.json (vendored byte for byte; never edit it by hand).
# Updated together with openapi.json: by hand when vendoring, or by .github/workflows/spec-drift.yml.
# A test (spec_test.go) checks that sha256 matches the file.'
fi

cp "$new" "$root/openapi.json.tmp"
mv "$root/openapi.json.tmp" "$root/openapi.json"
sum=$(sha256sum "$root/openapi.json" | cut -d' ' -f1)

{
	printf '%s\n' "$comments"
	printf 'repository: %s\n' "$repository"
	printf 'path: %s\n' "$path"
	printf 'commit: %s\n' "$commit"
	printf 'date: %s\n' "$date"
	printf 'sha256: %s\n' "$sum"
} >"$root/OPENAPI_VERSION.tmp"
mv "$root/OPENAPI_VERSION.tmp" "$root/OPENAPI_VERSION"

echo "vendored $new as openapi.json (sha256 $sum); OPENAPI_VERSION updated"
