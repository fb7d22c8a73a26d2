#!/usr/bin/env bash
# Set up, build, and run the whole CTest suite. Extra arguments go to ctest.
. "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$BUILD"
ctest --output-on-failure "$@"
