#!/usr/bin/env bash
# bench/run --smoke: every tool of the benchmark (imagegate, curl, skopeo, the AWS CLI against the
# fake AWS) runs once on 4 images and must succeed, so the benchmark cannot rot unnoticed. It
# asserts nothing about speed.
set -euo pipefail
: "${IMAGEGATE:?} ${SOURCE_DIR:?}"
exec bash "$SOURCE_DIR/bench/run" --smoke
