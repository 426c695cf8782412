#!/bin/sh
# Screenshot of the development error page: a generated project with a
# controller that raises, served in development, fetched by headless chromium.
# Usage: scripts/screenshot.sh [OUT.png]   (default /tmp/devpage.png)
set -eu
OUT=${1:-/tmp/devpage.png}
REPO=$(cd "$(dirname "$0")/.." && pwd)
PY=${PYTHON:-$REPO/.venv/bin/python}
WORK=$(mktemp -d)
PORT=${PORT:-8765}
export PYTHONPATH=$REPO
HOME=$WORK "$PY" -m digwebs_cli new site --no-input --output-dir "$WORK" >/dev/null
cat > "$WORK/site/controllers/broken.py" <<'PYEOF'
from digwebs import get


def total_of(order):
    discount = "<b>10%</b>"
    return order["price"] * order["quantity"] + discount


@get("/broken/<int:order_id>")
def broken(order_id):
    order = {"price": 3, "quantity": order_id, "note": "x" * 400}
    return total_of(order)
PYEOF
(cd "$WORK/site" && exec "$PY" -m digwebs_cli serve --env development --no-reload \
    --host 127.0.0.1 --port "$PORT" >"$WORK/server.log" 2>&1) &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true' EXIT
for _ in $(seq 50); do
    curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break
    sleep 0.2
done
chromium --headless --no-sandbox --disable-gpu --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$(mktemp -d)" --screenshot="$OUT" --window-size=1280,1600 \
    "http://127.0.0.1:$PORT/broken/2?q=search" 2>/dev/null
echo "$OUT"
