#!/usr/bin/env bash
# The two ways the README builds from source, run as a user runs them: the release preset
# (`cmake --preset release && cmake --build --preset release`: optimised, LTO, stripped, no
# tests) and the plain CMake flow a packager uses (`cmake -B DIR -DCMAKE_BUILD_TYPE=Release &&
# cmake --build DIR`, warnings not fatal by default). The plain build keeps its directory
# (build/plain-release) so a second run is incremental; a fresh tree compiles everything, and
# then no compiler warning may show (g++ 12 at -O3 is the strictest build we have).
source "${E2E_LIB:?}/common.sh"
require_cmd cmake ninja file
cd "$SOURCE_DIR"
commit="$(git rev-parse --short=12 HEAD)"

section "cmake --preset release && cmake --build --preset release"
expect_exit 0 -- bash -c 'cmake --preset release && cmake --build --preset release'
expect_eq "" "$(grep -E 'warning:' "$LAST_OUT" "$LAST_ERR" || true)" "no compiler warning"
cache=build/release/CMakeCache.txt
# A preset's cache variable without a type is stored as UNINITIALIZED; the value is what counts.
for setting in CMAKE_BUILD_TYPE=Release CMAKE_INTERPROCEDURAL_OPTIMIZATION=ON IMAGEGATE_TESTS=OFF \
  IMAGEGATE_WERROR=OFF; do
  grep -qx "${setting%%=*}:[A-Z]*=${setting#*=}" "$cache" && pass "release preset: $setting" ||
    fail "release preset lacks $setting"
done
[ ! -e build/release/imagegate_tests ] && pass "no tests built" || fail "tests were built"
file build/release/imagegate >"$SCRATCH/file.out"
grep -q ', stripped' "$SCRATCH/file.out" && pass "the binary is stripped" ||
  fail "not stripped: $(cat "$SCRATCH/file.out")"
expect_exit 0 -- build/release/imagegate --version
expect_output_contains "(commit $commit)"
expect_exit 0 -- build/release/imagegate validate -m examples/afu9/images-manifest.json

section "cmake --install build/release --prefix DIR"
expect_exit 0 -- cmake --install build/release --prefix "$SCRATCH/prefix"
for path in bin/imagegate share/imagegate/images-manifest.schema.json \
  share/imagegate/evidence.schema.json share/doc/imagegate/copyright; do
  [ -f "$SCRATCH/prefix/$path" ] && pass "installed $path" || fail "not installed: $path"
done
expect_exit 0 -- "$SCRATCH/prefix/bin/imagegate" --version

section "cmake -B build/plain-release -DCMAKE_BUILD_TYPE=Release && cmake --build build/plain-release"
# The Makefile generator builds one file at a time unless told; this is how a user tells it.
export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}"
expect_exit 0 -- bash -c 'cmake -B build/plain-release -DCMAKE_BUILD_TYPE=Release &&
  cmake --build build/plain-release'
expect_eq "" "$(grep -E 'warning:' "$LAST_OUT" "$LAST_ERR" || true)" "no compiler warning at -O3"
grep -qxF IMAGEGATE_WERROR:BOOL=OFF build/plain-release/CMakeCache.txt &&
  pass "warnings are not errors by default" || fail "IMAGEGATE_WERROR is not OFF by default"
expect_exit 0 -- build/plain-release/imagegate --version
expect_output_contains "(commit $commit)"
expect_exit 0 -- build/plain-release/imagegate gate --help
expect_output_contains "--registry"

section "ccache: compiles go through it when installed, none with -DIMAGEGATE_CCACHE=OFF"
# scripts/bootstrap installs ccache for the tests, so the plain build above used it.
through_ccache() { grep -rl 'CCACHE_BASEDIR=.*ccache' "$1" --include=build.make | wc -l; }
expect_ne 0 "$(through_ccache build/plain-release)" "the plain build compiles through ccache"
expect_exit 0 -- cmake -B "$SCRATCH/no-ccache" -DCMAKE_BUILD_TYPE=Release -DIMAGEGATE_CCACHE=OFF
expect_eq 0 "$(through_ccache "$SCRATCH/no-ccache")" \
  "-DIMAGEGATE_CCACHE=OFF: no compile goes through ccache"

section "the plain flow where GoogleTest is not installed: the binary still builds, tests are off"
# What a packager with only the binary's dependencies gets; GoogleTest is hidden from CMake here.
expect_exit 0 -- cmake -B "$SCRATCH/no-gtest" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_DISABLE_FIND_PACKAGE_GTest=ON
expect_output_contains "GoogleTest or cpp-httplib not found, tests not built"
grep -qxF IMAGEGATE_TESTS:BOOL=OFF "$SCRATCH/no-gtest/CMakeCache.txt" &&
  pass "IMAGEGATE_TESTS is OFF without GoogleTest" || fail "IMAGEGATE_TESTS is not OFF without GoogleTest"
expect_exit 0 -- cmake --build "$SCRATCH/no-gtest" --target help
expect_output_contains "imagegate"
expect_not_contains "imagegate_tests"

finish
