# shellcheck shell=bash
# Isolation of a suite from the machine it runs on. common.sh calls it before anything else;
# suites with a harness of their own source this file and call e2e_isolate before their first
# command (tests/e2e/harness_self_test.sh checks that every suite does one or the other).
#
#   e2e_isolate DIR   HOME, the XDG directories, DOCKER_CONFIG and the AWS config files under
#                     DIR; no AWS_* variable and no proxy of the machine survive. Every proxy
#                     variable (both cases) then names an egress trap on 127.0.0.1 that records
#                     each request a client sends it (NO_PROXY keeps loopback direct), so a
#                     connection to anything but this machine is recorded, refused and reported.
#   e2e_egress_check  prints what tried to leave the machine and fails when anything did.
#
# The trap catches every client that honours the proxy variables: libcurl (imagegate, curl), the
# AWS CLI and skopeo. A suite that must reach the Debian mirrors (E2E_NETWORK_ALLOWED=reason,
# set before sourcing common.sh) gets no trap, only the clean environment.

e2e_isolate() {
  local dir="$1" v
  export HOME="$dir/home"
  export XDG_CONFIG_HOME="$HOME/.config" XDG_DATA_HOME="$HOME/.local/share"
  export XDG_CACHE_HOME="$HOME/.cache" XDG_RUNTIME_DIR="$HOME/run" TMPDIR="$dir/tmp"
  export DOCKER_CONFIG="$HOME/.docker" REGISTRY_AUTH_FILE="$HOME/auth.json"
  # Every AWS_* variable, not a list of known ones: a region, an endpoint or a profile of the
  # developer's would point a test at the real AWS.
  while read -r v; do unset "$v"; done < <(compgen -e | grep -E '^AWS_' || :)
  export AWS_CONFIG_FILE="$HOME/.aws/config" AWS_SHARED_CREDENTIALS_FILE="$HOME/.aws/credentials"
  # The commands' own inputs from the environment: a test sets them where it means to.
  unset ECS_CLUSTER ECS_SERVICE GIT_SHA DEPLOY_ENV GITHUB_OUTPUT SKIP_IMAGE_GATE IMAGEGATE_REGISTRY
  unset IMAGEGATE_MANIFEST
  unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY ftp_proxy FTP_PROXY
  export NO_PROXY="127.0.0.1,localhost,::1" no_proxy="127.0.0.1,localhost,::1"
  mkdir -p "$HOME" "$XDG_RUNTIME_DIR" "$TMPDIR"
  chmod 700 "$XDG_RUNTIME_DIR"
  E2E_EGRESS_LOG="$dir/egress.log"
  E2E_EGRESS_PID=""
  : >"$E2E_EGRESS_LOG"
  [ -z "${E2E_NETWORK_ALLOWED:-}" ] || return 0
  _e2e_egress_trap_start "$dir"
}

# The trap: answers every request with 403 after writing its request line (CONNECT host:port, or
# METHOD http://host/...) to the log. It exits by itself once the suite that started it is gone.
_e2e_egress_trap_start() {
  local dir="$1" py=python3 port="" i
  [ ! -x /usr/bin/python3 ] || py=/usr/bin/python3
  "$py" -c '
import os, socket, sys
log, parent = sys.argv[1], os.getppid()
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(64)
s.settimeout(0.5)
print(s.getsockname()[1], flush=True)
while os.getppid() == parent:
    try:
        c, _ = s.accept()
    except socket.timeout:
        continue
    c.settimeout(5)
    try:
        data = c.recv(4096)
    except OSError:
        data = b""
    line = data.split(b"\r\n", 1)[0].decode("latin-1") or "(a connection without a request)"
    with open(log, "a") as f:
        f.write(line + "\n")
    try:
        c.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    except OSError:
        pass
    c.close()
' "$E2E_EGRESS_LOG" >"$dir/egress.port" 2>"$dir/egress.err" </dev/null &
  E2E_EGRESS_PID=$!
  for i in $(seq 1 500); do
    if [ -s "$dir/egress.port" ] && read -r port <"$dir/egress.port" && [ -n "$port" ]; then break; fi
    kill -0 "$E2E_EGRESS_PID" 2>/dev/null || break
    sleep 0.02
  done
  if [ -z "$port" ]; then
    echo "error: the egress trap did not start: $(cat "$dir/egress.err")" >&2
    return 1
  fi
  local url="http://127.0.0.1:$port"
  export http_proxy="$url" https_proxy="$url" HTTP_PROXY="$url" HTTPS_PROXY="$url"
  export all_proxy="$url" ALL_PROXY="$url"
  E2E_EGRESS_URL="$url"
}

e2e_egress_check() {
  if [ -s "${E2E_EGRESS_LOG:?e2e_isolate was not called}" ]; then
    echo "FAIL - a connection to a host other than this machine was attempted:" >&2
    sed 's/^/       /' "$E2E_EGRESS_LOG" >&2
    return 1
  fi
  return 0
}
