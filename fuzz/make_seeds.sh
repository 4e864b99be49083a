#!/usr/bin/env bash
# Regenerates the seed corpora fuzz/corpus/<target>/ from Cairn's encoders and the test
# fixtures (fuzz/make_seeds.cc). Run it after a format or a fixture changes, and commit the
# result (it stays small: a few hundred KiB). Seeds kept by hand in those folders (regression
# inputs) are left alone: only the generator's own files are rewritten.
# Usage: fuzz/make_seeds.sh [BUILD_DIR] (default build-asan, the sanitizer build of
# scripts/build that scripts/fuzz uses).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build-asan}
CAIRN_SANITIZE=1 nice -n 10 scripts/build "$dir" make_seeds
# The generator is built with the fuzz build's sanitizers: its own leaks do not matter.
ASAN_OPTIONS=detect_leaks=0 "$dir/fuzz/make_seeds" "$PWD" fuzz/corpus
du -sh --apparent-size fuzz/corpus
