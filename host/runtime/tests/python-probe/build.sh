#!/usr/bin/env bash
# Builds the probe test guest: build/python-probe.wasm.
# Needs componentize-py 0.25.1: pip install componentize-py==0.25.1
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p build
componentize-py -d ../../../../wit -w fee-policy componentize probe -o build/python-probe.wasm
