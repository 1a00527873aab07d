#!/usr/bin/env bash
# Builds the example policy: build/python-fee-policy.wasm, a WebAssembly
# component for the `fee-policy` world of ../../wit/policy.wit.
# Needs componentize-py 0.25.1: pip install componentize-py==0.25.1
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p build
componentize-py -d ../../wit -w fee-policy componentize app -o build/python-fee-policy.wasm
