#!/usr/bin/env bash
# The built wheel works outside the checkout: installed (no extras) in a fresh venv, run from a
# temporary folder with no node_modules and no source tree, it builds the demo, writes the maps
# (offline: Leaflet inlined from the wheel), serves the API docs and the maps, and every file it
# writes is readable by others.
set -euo pipefail
dist=${1:-dist}
wheel=$(ls "$dist"/kenmap-*.whl)
wheel=$(cd "$(dirname "$wheel")" && pwd)/$(basename "$wheel")
tmp=$(mktemp -d)
server=
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
py=${PY:-python3}
"$py" -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install -qq --upgrade pip
"$tmp/venv/bin/python" -m pip install -qq "$wheel"
kenmap="$tmp/venv/bin/kenmap"
mkdir "$tmp/work"
cd "$tmp/work"
umask 022
"$kenmap" demo --no-serve --out demo > demo.log
"$kenmap" map demo/demo.gpkg --all --out maps > map.log
fail() { echo "wheel check: $*" >&2; exit 1; }
[ -s maps/index.html ] || fail "kenmap map --all wrote no index"
for page in demo/maps/*.html maps/*.html; do
  case $page in
    */index.html) grep -q 'href=' "$page" || fail "$page links no map" ;;
    *) grep -q 'L\.map(' "$page" || fail "$page has no Leaflet map" ;;
  esac
  if grep -qE '<script src="https?://|<link rel="stylesheet" href="https?://' "$page"; then
    fail "$page loads files from the internet"
  fi
done
# Outputs follow the umask (0644 here), so they can be shared from a drive or a web server.
bad=$(find demo maps -type f ! -perm -0044 -print)
[ -z "$bad" ] || fail "not readable by others: $bad"
# The server from the wheel: API docs with Swagger UI, and the maps.
port=$("$tmp/venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$kenmap" serve demo/demo.gpkg --port "$port" > serve.log 2>&1 &
server=$!
"$tmp/venv/bin/python" - "$port" <<'PY'
import sys, time, urllib.request
base = f"http://127.0.0.1:{sys.argv[1]}"
for _ in range(150):
    try:
        urllib.request.urlopen(base + "/healthz", timeout=1)
        break
    except OSError:
        time.sleep(0.2)
def get(path):
    with urllib.request.urlopen(base + path, timeout=60) as r:
        return r.status, r.read()
for path, needle in [("/docs", b"swagger-ui-bundle.js"),
                     ("/static/swagger/swagger-ui-bundle.js", b"SwaggerUIBundle"),
                     ("/maps/", "デモ市".encode()), ("/maps/chiku", b"L.map"),
                     ("/workbench", b"/static/workbench/app.js"),
                     ("/static/workbench/app.js", b"AreaMap"),
                     ("/static/vendor/@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.min.js",
                      b"leaflet-geoman")]:
    status, body = get(path)
    assert status == 200 and needle in body, (path, status, body[:200])
print("wheel check: docs, swagger, index, a map page and the workbench served from the installed wheel")
PY
echo "wheel check: $(basename "$wheel") installed in a fresh venv; demo and maps run from $tmp/work"
