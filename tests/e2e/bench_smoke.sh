#!/usr/bin/env bash
# bench/run --smoke: every tool of the benchmark (imagegate, curl, skopeo, the AWS CLI against the
# fake AWS) runs once on 4 images and must succeed, so the benchmark cannot rot unnoticed. It
# asserts nothing about speed. Like bench/run, it measures the release binary (built when
# missing or stale); the fake AWS comes from the build ctest runs in (FAKES_DIR).
set -euo pipefail
: "${SOURCE_DIR:?} ${FAKES_DIR:?}"
unset IMAGEGATE
exec bash "$SOURCE_DIR/bench/run" --smoke
