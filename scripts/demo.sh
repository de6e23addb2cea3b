#!/usr/bin/env bash
# The README's main job. Until the compile path lands it prints the help.
set -euo pipefail
BUILD=${1:-build}
"$BUILD/bin/gemma4c" --version
"$BUILD/bin/gemma4c" --help
