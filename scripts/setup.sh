# Sourced by quickstart.sh and test.sh: install missing Debian packages (as
# root; otherwise print the one apt-get line to run), then build Release.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${SBMBENCH_BUILD_DIR:-$ROOT/build}
# needed to build and test
REQUIRED="build-essential cmake pkg-config libopenblas-openmp-dev libhdf5-dev libcjson-dev hdf5-tools libpng-dev zlib1g-dev"
# wanted: figures (report skips them without gnuplot) and the reduced LRA's Image data (scripts/lra-cpu.sh)
OPTIONAL="gnuplot-nox dataset-fashion-mnist"

missing_of() {
    local out=""
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || out="$out $p"
    done
    echo "$out"
}
# shellcheck disable=SC2086
missing=$(missing_of $REQUIRED)
optional=$(missing_of $OPTIONAL)
if [ "$(id -u)" -eq 0 ]; then
    if [ -n "$missing$optional" ]; then
        echo "sbmbench: installing:$missing$optional" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >&2
        apt-get install -y -qq --no-install-recommends $missing$optional >&2
    fi
else
    if [ -n "$missing" ]; then
        echo "sbmbench: missing Debian packages. Run:" >&2
        echo "  sudo apt-get install -y$missing$optional" >&2
        exit 1
    fi
    [ -z "$optional" ] || echo "sbmbench: optional packages not installed (figures, reduced LRA Image data):$optional" >&2
fi

cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j"$(nproc)" >&2
