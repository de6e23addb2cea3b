#!/usr/bin/env python3
"""Fails with a clear message when the real Gemma tokenizer is not fetched."""
import os
import sys

path = os.path.join(sys.argv[1], ".cache/tokenizer/tokenizer-gemma3-3.7.2/package/models/tokenizer.json")
if not os.path.isfile(path):
    sys.exit("missing %s: run scripts/fetch-tokenizer.sh (scripts/install-deps.sh does)" % path)
