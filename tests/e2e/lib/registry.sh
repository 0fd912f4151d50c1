# shellcheck shell=bash
# Starts Debian's docker-registry (CNCF distribution 2.8) on 127.0.0.1 for the e2e suites, in
# the configurations imagegate must handle: anonymous, htpasswd Basic auth, TLS with a private CA,
# and Bearer tokens from tests/fakes/token_server. Needs common.sh sourced first.
#
#   registry_start plain
#   registry_start htpasswd USER PASS
#   registry_start tls [http1]         (HTTP/2 over TLS, as Go serves it; http1: HTTP/1.1 only)
#   registry_start token [REALM_URL]   (starts token_server unless token_server_start ran)
#   registry_stop
#   registry_delete_manifest REPO DIGEST
#
# Each start exports REGISTRY_HOST (127.0.0.1:PORT), REGISTRY_URL, REGISTRY_LOG, REGISTRY_MODE,
# REGISTRY_PID, and where they apply REGISTRY_USER/REGISTRY_PASSWORD (what a client logs in with),
# REGISTRY_CA (PEM of the CA) and REGISTRY_CERT_DIR (ca.crt for skopeo --*-cert-dir).
#
# Helpers check every step themselves rather than relying on set -e: a suite may call them inside
# expect_exit, where bash ignores set -e.

REGISTRY_BIN="${REGISTRY_BIN:-/usr/bin/docker-registry}"
TOKEN_SERVICE="imagegate-e2e-registry"
TOKEN_ISSUER="imagegate-e2e-token-issuer"
export TOKEN_SERVICE TOKEN_ISSUER
_REGISTRY_SEQ=0

# make_ca DIR : a throwaway CA (DIR/ca.pem, DIR/ca.key) that expires tomorrow.
make_ca() {
  local dir="$1"
  mkdir -p "$dir" || return 1
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
    -subj "/CN=imagegate-e2e-ca" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
}

# make_server_cert DIR : DIR/server.pem + DIR/server.key for 127.0.0.1 and localhost, signed by
# the CA in DIR.
make_server_cert() {
  local dir="$1"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -subj "/CN=127.0.0.1" -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null || return 1
  printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
    "extendedKeyUsage=serverAuth" >"$dir/server.ext" || return 1
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
    -CAcreateserial -days 1 -extfile "$dir/server.ext" -out "$dir/server.pem" 2>/dev/null
}

# token_server_start USER PASS [token_server flags...] : generates the RS256 signing key and its
# self-signed certificate, starts tests/fakes/token_server, and exports TOKEN_URL (the realm),
# TOKEN_PORT, TOKEN_PID, TOKEN_LOG, TOKEN_USER, TOKEN_PASSWORD, TOKEN_KEY, TOKEN_CERT.
token_server_start() {
  if [ "$#" -lt 2 ]; then
    echo "error: token_server_start USER PASS [flags...]" >&2
    return 2
  fi
  local user="$1" pass="$2"
  shift 2
  e2e_secret "$pass"
  local dir="$SCRATCH/token"
  mkdir -p "$dir" || return 1
  [ -x "$FAKES_DIR/token_server" ] || {
    echo "error: $FAKES_DIR/token_server is not built (cmake --build --preset dev)" >&2
    return 1
  }
  openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=$TOKEN_ISSUER" \
    -keyout "$dir/signing.key" -out "$dir/signing.pem" 2>/dev/null || return 1
  bg_start token_server "$FAKES_DIR/token_server" --port 0 --user "$user" --password "$pass" \
    --key "$dir/signing.key" --cert "$dir/signing.pem" --issuer "$TOKEN_ISSUER" \
    --service "$TOKEN_SERVICE" "$@"
  TOKEN_PID=$BG_PID
  TOKEN_LOG="$SCRATCH/token_server.log"
  TOKEN_PORT="$(wait_first_line "$SCRATCH/token_server.out" "$TOKEN_PID")" || {
    cat "$TOKEN_LOG" >&2
    return 1
  }
  TOKEN_URL="http://127.0.0.1:$TOKEN_PORT/token"
  TOKEN_USER="$user" TOKEN_PASSWORD="$pass"
  TOKEN_KEY="$dir/signing.key" TOKEN_CERT="$dir/signing.pem"
  export TOKEN_PID TOKEN_PORT TOKEN_URL TOKEN_LOG TOKEN_USER TOKEN_PASSWORD TOKEN_KEY TOKEN_CERT
}

# token_counters : the token server's counters, {"tokens_issued", "denied", "by_scope"}.
token_counters() {
  curl -sf "http://127.0.0.1:$TOKEN_PORT/_fake/counters"
}

# token_reset : zeroes the token server's counters.
token_reset() {
  curl -sSf --data '' -o /dev/null "http://127.0.0.1:$TOKEN_PORT/_fake/reset"
}

registry_start() {
  local mode="${1:-}"
  [ "$#" -eq 0 ] || shift
  _REGISTRY_SEQ=$((_REGISTRY_SEQ + 1))
  local dir="$SCRATCH/registry$_REGISTRY_SEQ"
  mkdir -p "$dir/storage" || return 1
  local scheme=http auth="" tls=""
  unset REGISTRY_USER REGISTRY_PASSWORD REGISTRY_CA REGISTRY_CERT_DIR
  case "$mode" in
    plain) ;;
    htpasswd)
      if [ "$#" -ne 2 ]; then
        echo "error: registry_start htpasswd USER PASS" >&2
        return 2
      fi
      local user="$1" pass="$2"
      e2e_secret "$pass"
      # -C 4: the lowest bcrypt cost keeps every authenticated request fast; strength is irrelevant.
      htpasswd -Bbn -C 4 "$user" "$pass" >"$dir/htpasswd" || return 1
      auth="auth:
  htpasswd:
    realm: imagegate-e2e
    path: $dir/htpasswd"
      export REGISTRY_USER="$user" REGISTRY_PASSWORD="$pass"
      ;;
    tls)
      make_ca "$dir/tls" && make_server_cert "$dir/tls" && mkdir -p "$dir/certs.d" &&
        cp "$dir/tls/ca.pem" "$dir/certs.d/ca.crt" || return 1
      scheme=https
      tls="  tls:
    certificate: $dir/tls/server.pem
    key: $dir/tls/server.key"
      case "${1:-}" in
        "") ;;
        http1) tls="$tls
  http2:
    disabled: true" ;;
        *)
          echo "error: registry_start tls [http1]: unknown option '$1'" >&2
          return 2
          ;;
      esac
      export REGISTRY_CA="$dir/tls/ca.pem" REGISTRY_CERT_DIR="$dir/certs.d"
      ;;
    token)
      if [ -z "${TOKEN_PID:-}" ] || ! kill -0 "$TOKEN_PID" 2>/dev/null; then
        token_server_start "${TOKEN_USER:-e2e-token-user}" \
          "${TOKEN_PASSWORD:-e2e-token-pass-$RANDOM$RANDOM}" || return 1
      fi
      local realm="${1:-$TOKEN_URL}"
      auth="auth:
  token:
    realm: $realm
    service: $TOKEN_SERVICE
    issuer: $TOKEN_ISSUER
    rootcertbundle: $TOKEN_CERT"
      export REGISTRY_USER="$TOKEN_USER" REGISTRY_PASSWORD="$TOKEN_PASSWORD"
      ;;
    *)
      echo "error: registry_start: unknown mode '$mode' (plain, htpasswd, tls, token)" >&2
      return 2
      ;;
  esac
  REGISTRY_LOG="$dir/registry.log"
  REGISTRY_MODE="$mode"
  REGISTRY_DIR="$dir"
  export REGISTRY_LOG REGISTRY_MODE REGISTRY_DIR
  # free_port only suggests a port; another suite may take it before the registry binds it.
  local attempt rc
  for attempt in 1 2 3; do
    rc=0
    _registry_launch "$dir" "$scheme" "$tls" "$auth" || rc=$?
    [ "$rc" -eq 3 ] || return "$rc"
  done
  echo "error: docker-registry ($mode) found no free port in $attempt attempts" >&2
  return 1
}

# _registry_launch DIR SCHEME TLS_YAML AUTH_YAML : writes the config for a fresh port, starts the
# registry, waits until /v2/ answers and the access log records that. Returns 3 when the port was
# taken in the meantime.
_registry_launch() {
  local dir="$1" scheme="$2" tls="$3" auth="$4" port
  port="$(free_port)" || return 1
  printf '%s\n' "version: 0.1" "log:" "  level: info" "  formatter: text" "  accesslog:" \
    "    disabled: false" "storage:" "  filesystem:" "    rootdirectory: $dir/storage" \
    "  delete:" "    enabled: true" "  maintenance:" "    uploadpurging:" "      enabled: false" \
    "http:" "  addr: 127.0.0.1:$port" "  secret: imagegate-e2e-not-a-secret" "$tls" "$auth" \
    >"$dir/config.yml" || return 1
  # The registry takes every REGISTRY_* variable as a configuration override, so it gets a clean
  # environment. Its access log goes to stdout and its own log to stderr: both land in one file.
  env -i PATH="$PATH" HOME="$HOME" TMPDIR="$TMPDIR" "$REGISTRY_BIN" serve "$dir/config.yml" \
    >"$REGISTRY_LOG" 2>&1 &
  REGISTRY_PID=$!
  E2E_PIDS+=("$REGISTRY_PID")
  REGISTRY_HOST="127.0.0.1:$port"
  REGISTRY_URL="$scheme://$REGISTRY_HOST"
  export REGISTRY_HOST REGISTRY_URL REGISTRY_PID

  # Wait for the registry's own word that it bound the port: probing the port alone could reach
  # another server that took it.
  local deadline=$((SECONDS + 15))
  until grep -qE "msg=\"listening on 127\\.0\\.0\\.1:${port}[\",]" "$REGISTRY_LOG" 2>/dev/null; do
    if ! kill -0 "$REGISTRY_PID" 2>/dev/null; then
      wait "$REGISTRY_PID" 2>/dev/null || true
      if grep -q "address already in use" "$REGISTRY_LOG"; then
        mv "$REGISTRY_LOG" "$REGISTRY_LOG.port-taken"
        return 3
      fi
      echo "error: docker-registry ($REGISTRY_MODE) exited during start; its log:" >&2
      cat "$REGISTRY_LOG" >&2
      return 1
    fi
    if [ "$SECONDS" -gt "$deadline" ]; then
      echo "error: docker-registry ($REGISTRY_MODE) did not start listening in 15s" >&2
      return 1
    fi
    sleep 0.02
  done
  local curl_tls=()
  [ "$scheme" = https ] && curl_tls=(--cacert "$REGISTRY_CA")
  local code
  code="$(curl -s -o /dev/null --max-time 5 -w '%{http_code}' "${curl_tls[@]}" "$REGISTRY_URL/v2/" ||
    true)"
  # 401 is the answer of a registry that requires authentication: it is up.
  if [ "$code" != 200 ] && [ "$code" != 401 ]; then
    echo "error: docker-registry ($REGISTRY_MODE) at $REGISTRY_URL does not answer /v2/" \
      "(status: $code)" >&2
    return 1
  fi
  # Suites read the log to see which requests the registry got; make sure it records them.
  local tries=0
  until grep -q '"GET /v2/ HTTP' "$REGISTRY_LOG"; do
    tries=$((tries + 1))
    if [ "$tries" -gt 100 ]; then
      echo "error: docker-registry log $REGISTRY_LOG shows no requests" >&2
      return 1
    fi
    sleep 0.02
  done
}

# registry_docker_config [FILE] : writes the current registry's credentials as a docker
# config.json (default $DOCKER_CONFIG/config.json), the way `docker login` stores them.
registry_docker_config() {
  local file="${1:-$DOCKER_CONFIG/config.json}"
  if [ -z "${REGISTRY_USER:-}" ]; then
    echo "error: registry_docker_config: the $REGISTRY_MODE registry has no credentials" >&2
    return 1
  fi
  mkdir -p "$(dirname "$file")"
  jq -n --arg host "$REGISTRY_HOST" \
    --arg auth "$(printf '%s:%s' "$REGISTRY_USER" "$REGISTRY_PASSWORD" | base64 -w0)" \
    '{auths: {($host): {auth: $auth}}}' >"$file"
  chmod 600 "$file"
}

registry_stop() {
  [ -n "${REGISTRY_PID:-}" ] || return 0
  bg_stop "$REGISTRY_PID"
  unset REGISTRY_PID
}

# registry_requests [REGEX] : the access-log lines ('"METHOD /path HTTP/1.1" STATUS') of the
# current registry, optionally filtered by an extended regex.
registry_requests() {
  grep -oE '"(GET|HEAD|PUT|POST|PATCH|DELETE) [^"]*" [0-9]{3}' "$REGISTRY_LOG" | grep -E -- "${1:-.}" || true
}

# registry_request_count REGEX : how many access-log lines of the current registry match.
registry_request_count() {
  registry_requests "$1" | wc -l | tr -d ' '
}

# registry_delete_manifest REPO DIGEST : deletes one manifest through the registry API (the
# registry runs with delete enabled), e.g. a child of an index, which then answers 404.
registry_delete_manifest() {
  local curl_tls=() code
  [ -z "${REGISTRY_CA:-}" ] || curl_tls=(--cacert "$REGISTRY_CA")
  code="$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "${curl_tls[@]}" \
    "$REGISTRY_URL/v2/$1/manifests/$2")" || return 1
  [ "$code" = 202 ] || {
    echo "error: DELETE $1@$2 answered $code" >&2
    return 1
  }
}

# token_issued : every token the token server issued since its start or token_reset (JSON list),
# for suites that prove no token reaches an output.
token_issued() {
  curl -sf "http://127.0.0.1:$TOKEN_PORT/_fake/issued"
}
