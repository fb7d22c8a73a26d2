#!/usr/bin/env bash
# Set up, build, and run the whole CTest suite. Extra arguments go to ctest.
. "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$BUILD"
# --timeout: a test that hangs (a sampler loop that stops advancing, say)
# fails after 15 minutes instead of holding CI to its limit; the slowest test
# takes about 2 minutes on 2 cores.
ctest --output-on-failure --timeout 900 "$@"
