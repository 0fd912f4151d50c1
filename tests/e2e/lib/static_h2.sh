# shellcheck shell=bash
# nginx over TLS with HTTP/2, answering the tag HEADs of images made by bench/lib/gen.py from
# files: each tag's manifest under /v2/NAME/manifests/TAG with the OCI manifest Content-Type and
# its Docker-Content-Digest, which is all a tag check reads. It answers in microseconds, so what
# is measured or observed through it is the client (bench/run's h2fast case,
# tests/e2e/gate_h2_window.sh), not the server. Needs common.sh (bg_start, free_port).

# static_h2_start GEN_DIR TLS_DIR STREAMS : starts the server with TLS_DIR/server.{pem,key} and
# at most STREAMS streams per connection. Sets STATIC_H2_PORT, STATIC_H2_LOG (one line per
# request: `127.0.0.1 - - [time] "REQUEST" STATUS BYTES MSEC CONNECTION`) and STATIC_H2_PROBE (the
# path of the first tag, checked before returning to answer over HTTP/2 with its digest).
static_h2_start() {
  local gen="$1" tls="$2" streams="$3" web="$SCRATCH/static-h2"
  mkdir -p "$web/tmp"
  local name tag digest i
  : >"$web/digests.map"
  while IFS=$'\t' read -r name tag digest; do
    i="${name##*/img-}"
    mkdir -p "$web/root/v2/$name/manifests"
    ln -sf "$gen/blobs/manifest-$i" "$web/root/v2/$name/manifests/$tag"
    printf '"/v2/%s/manifests/%s" "%s";\n' "$name" "$tag" "$digest" >>"$web/digests.map"
  done <"$gen/tags.tsv"
  STATIC_H2_PORT="$(free_port)"
  STATIC_H2_LOG="$web/access.log"
  cat >"$web/nginx.conf" <<NGINX
daemon off;
master_process off;
pid $web/nginx.pid;
error_log $web/error.log;
events { worker_connections 1024; }
http {
  log_format timed '\$remote_addr - - [\$time_local] "\$request" \$status \$body_bytes_sent \$msec \$connection';
  access_log $STATIC_H2_LOG timed;
  client_body_temp_path $web/tmp;
  types { }
  default_type application/vnd.oci.image.manifest.v1+json;
  map_hash_bucket_size 256;
  map \$uri \$manifest_digest { include $web/digests.map; }
  server {
    listen 127.0.0.1:$STATIC_H2_PORT ssl http2;
    ssl_certificate $tls/server.pem;
    ssl_certificate_key $tls/server.key;
    ssl_protocols TLSv1.3;
    http2_max_concurrent_streams $streams;
    keepalive_requests 100000;
    root $web/root;
    location /v2/ { add_header Docker-Content-Digest \$manifest_digest always; }
  }
}
NGINX
  bg_start static_h2_nginx nginx -c "$web/nginx.conf" -e "$web/error.log"
  local first tries=0 headers
  first="$(head -n 1 "$gen/tags.tsv")"
  STATIC_H2_PROBE="/v2/$(cut -f1 <<<"$first")/manifests/$(cut -f2 <<<"$first")"
  until curl -sf --cacert "$tls/ca.pem" -o /dev/null "https://127.0.0.1:$STATIC_H2_PORT$STATIC_H2_PROBE"; do
    tries=$((tries + 1))
    [ "$tries" -lt 100 ] || { echo "error: nginx did not start" >&2; cat "$web/error.log" >&2; return 1; }
    sleep 0.1
  done
  headers="$(curl -sI --cacert "$tls/ca.pem" "https://127.0.0.1:$STATIC_H2_PORT$STATIC_H2_PROBE")"
  if ! grep -q '^HTTP/2 200' <<<"$headers" ||
    ! grep -qi "^docker-content-digest: $(cut -f3 <<<"$first")" <<<"$headers"; then
    echo "error: nginx's answer is not an HTTP/2 manifest HEAD with its digest:" >&2
    echo "$headers" >&2
    return 1
  fi
}
