# The hub as a contender of the shared harness (../shared/bench/README.md, "Adding the hub").
# Run from the project root:
#   EXTRA_CONTENDERS=bench CONTENDERS="floor postgraphile hub" RESULTS_DIR=bench/results \
#     ../shared/bench/run_anchors.sh
# The harness sources this file before it sets CONTENDER_DATABASE_URL: read it in functions.
CONTENDER_PORT_DEFAULT=5060
HUB_ROOT=$(cd "$CONTENDER_DIR/.." && pwd)
HUB_VENV="$CONTENDER_CACHE_DIR/venv"
hub_run() {                  # exec a command with this contender's hub settings
  exec env DATABASE_URL="$CONTENDER_DATABASE_URL" HUB_DATA_DIR="$CONTENDER_STATE_DIR" \
    HUB_SIGNING_KEY_FILE="$CONTENDER_STATE_DIR/jwt-signing-keys.json" \
    HUB_DB_POOL_SIZE="$(( ${PG_POOL_MAX:-10} / ${HUB_WORKERS:-2} ))" \
    HUB_RESPONSE_CACHE_ENTRIES="${HUB_RESPONSE_CACHE_ENTRIES:-2000}" \
    HUB_RATE_BUDGET=0 HUB_CLIENT_CONCURRENCY=0 "$@"   # the harness drives 64 clients with few tokens
}
contender_setup() {
  [ -x "$HUB_VENV/bin/pip" ] || python3 -m venv "$HUB_VENV"
  "$HUB_VENV/bin/pip" install -q -e "$HUB_ROOT"   # quick when nothing changed; picks up new deps
}
contender_prepare() {        # $1 = dataset folder, $2 = fresh database
  ( hub_run "$HUB_VENV/bin/hub" db upgrade ) >/dev/null
  ( hub_run "$HUB_VENV/bin/python" "$CONTENDER_DIR/load_dataset.py" --data "$1" --state "$CONTENDER_STATE_DIR" )
}
contender_start() {
  # exec all the way down: the PID the harness stops (TERM) is the server itself
  ( cd "$HUB_ROOT" && hub_run "$HUB_VENV/bin/hub" serve --host 127.0.0.1 --port "$PORT" \
      --workers "${HUB_WORKERS:-2}" --no-access-log ) >"$LOGFILE" 2>&1 &
  echo $!
}
contender_ready() { curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1; }
contender_base_url() { echo "http://127.0.0.1:$PORT"; }
contender_version() {
  echo "hub $(git -C "$HUB_ROOT" rev-parse --short HEAD 2>/dev/null), ${HUB_WORKERS:-2} workers," \
    "pool ${PG_POOL_MAX:-10} shared by them, response cache ${HUB_RESPONSE_CACHE_ENTRIES:-2000} entries"
}
