# Shared by .ci/setup, .ci/serve and .ci/test. Installs only what is missing, so a second run
# is quick. Everything comes from the package registries this machine can reach (crates.io,
# npm, Debian); nothing is downloaded from elsewhere (see ../shared/TOOLCHAIN.md).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$HOME/.cargo/bin:$ROOT/end2end/node_modules/.bin:$PATH"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

# Versions pinned with the lock file: wasm-bindgen-cli must equal the wasm-bindgen crate.
WASM_BINDGEN_VERSION="$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/[^0-9.]/,""); print; exit}' "$ROOT/Cargo.lock")"
CARGO_LEPTOS_VERSION="0.3.11"

log() { printf '\n==> %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

install_build_tools() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    log "adding the wasm32 target"
    rustup target add wasm32-unknown-unknown
  fi
  if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
    # Stable 1.95 cannot build cargo-leptos' locked dependencies; nightly can. no_downloads
    # turns a missing tool into a clear error instead of a download that cannot work here.
    log "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 20 minutes on 2 cores)"
    rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
    cargo +nightly install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --features no_downloads
  fi
  if ! wasm-bindgen --version 2>/dev/null | grep -q "$WASM_BINDGEN_VERSION"; then
    log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
    # Without --locked: the locked set asks for a webpki-roots version the registry lacks.
    cargo install wasm-bindgen-cli --version "=$WASM_BINDGEN_VERSION"
  fi
  install_node_tools
}

install_node_tools() {
  # binaryen from npm provides a wasm-opt that works (Debian's 108 breaks current output);
  # playwright-core drives Debian's Chromium for the browser tests; oidc-provider (OpenID
  # certified) is the real identity provider they sign in through.
  if [ ! -x "$ROOT/end2end/node_modules/.bin/wasm-opt" ] || [ ! -d "$ROOT/end2end/node_modules/playwright-core" ] \
    || [ ! -d "$ROOT/end2end/node_modules/oidc-provider" ]; then
    log "installing end2end node modules"
    (cd "$ROOT/end2end" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

install_test_services() {
  # fonts-ipafont-gothic: Japanese glyphs in the screenshots people look at.
  # nginx + curl: the real TLS server that must refuse a revoked certificate.
  apt_install chromium postgresql openssl curl nginx fonts-ipafont-gothic
  # keytool (an independent PKCS#12 reader): any Java runtime will do.
  command -v keytool >/dev/null || apt_install default-jre-headless
  # python3's plistlib: an independent reader for the .mobileconfig profiles.
  command -v python3 >/dev/null || apt_install python3
  # micromdm's scepclient (Debian's scep package): an independent SCEP client that enrolls
  # exactly as an iPhone does with the profile's SCEP payload.
  command -v scepclient >/dev/null || apt_install "scep=2.1.0-3+b4"
  # promtool (Debian's prometheus package): reads /metrics as Prometheus does.
  command -v promtool >/dev/null || apt_install "prometheus=2.42.0+ds-5+deb12u1"
  # aiosmtpd: a real SMTP server that receives the reminder and digest mails.
  python3 -c 'import aiosmtpd' 2>/dev/null || python3 -m pip install --quiet "aiosmtpd==1.4.6"
  # scim2-tester (run by scim2-cli's `scim2 test`): an independent SCIM client that checks
  # /scim/v2 against RFC 7643/7644. Its own virtualenv, every version pinned.
  local venv="$ROOT/end2end/.scim-venv" req="$ROOT/end2end/scim-requirements.txt"
  if ! cmp -s "$req" "$venv/requirements.txt" 2>/dev/null; then
    log "installing scim2-tester"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
    cp "$req" "$venv/requirements.txt"
  fi
}

# A throwaway PostgreSQL cluster for this run; sets CERTPORTAL_TEST_POSTGRES_URL.
start_postgres() {
  local bin
  bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
  PG_DIR="$(mktemp -d)"
  PG_PORT="${CERTPORTAL_TEST_PG_PORT:-$(( 20000 + RANDOM % 20000 ))}"
  local run=()
  if [ "$(id -u)" = 0 ]; then
    chown postgres "$PG_DIR"
    run=(runuser -u postgres --)
  fi
  "${run[@]}" "$bin/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 >/dev/null
  "${run[@]}" "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR -c max_connections=400 -c fsync=off" start >/dev/null
  export CERTPORTAL_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
  PG_STOP=("${run[@]}" "$bin/pg_ctl" -D "$PG_DIR/data" -m fast stop)
  log "PostgreSQL test cluster on port $PG_PORT"
}

stop_postgres() {
  if [ -n "${PG_DIR:-}" ]; then
    "${PG_STOP[@]}" >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
  fi
}
