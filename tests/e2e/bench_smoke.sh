#!/usr/bin/env bash
# bench/run --smoke: every tool of the benchmark (imagegate, curl, skopeo, the AWS CLI against the
# fake AWS) runs once on 4 images and must succeed, so the benchmark cannot rot unnoticed. It
# asserts nothing about speed. Like bench/run, it measures the release binary (built when
# missing or stale); the fake AWS comes from the build ctest runs in (FAKES_DIR).
set -euo pipefail
: "${SOURCE_DIR:?} ${FAKES_DIR:?}"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# bench/run's scripts/bootstrap may install what is missing, so no egress trap here; the
# common.sh that bench/run sources right after it sets one up (not exported: bench/run gets its own).
E2E_NETWORK_ALLOWED="scripts/bootstrap before bench/run's own isolation"
# shellcheck source=lib/isolate.sh
source "${E2E_LIB:?}/isolate.sh"
e2e_isolate "$scratch"
unset IMAGEGATE
bash "$SOURCE_DIR/bench/run" --smoke
