# Shared by scripts/test and scripts/demo: make sure the system packages are there.
set -euo pipefail

have_libpq() { pkg-config --exists libpq 2>/dev/null && [ -f "$(pkg-config --variable=includedir libpq 2>/dev/null)/libpq-fe.h" ]; }
have_server() {
  [ -n "${PGTESTKIT_PG_BINDIR:-}" ] && return 0
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && return 0
  command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1
}

ensure_system_packages() {
  local missing=()
  command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
  have_libpq || missing+=(libpq-dev)
  if [ -z "${PGTESTKIT_URL:-}${DATABASE_URL:-}${PGHOST:-}" ] && ! have_server; then
    missing+=(postgresql)
  fi
  command -v psql >/dev/null 2>&1 || missing+=(postgresql-client)
  # The timeline's browser test: headless Chromium, and python3 to read its screenshot.
  if [ "${PGTESTKIT_BROWSER:-0}" = 1 ]; then
    command -v chromium >/dev/null 2>&1 || missing+=(chromium)
    command -v python3 >/dev/null 2>&1 || missing+=(python3)
  fi
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> installing ${missing[*]} (apt-get)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "Missing system packages: ${missing[*]}" >&2
    echo "Install them with:  sudo apt-get install ${missing[*]}" >&2
    echo "(macOS: brew install libpq postgresql@17 pkg-config)" >&2
    exit 1
  fi
}

# The tests of this repository share one embedded server; point PostgresTestKit at it unless
# the caller configured a server.
cd "$(dirname "$0")/.."
