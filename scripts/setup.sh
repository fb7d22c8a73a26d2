# Sourced by quickstart.sh and test.sh: install missing Debian packages (as
# root; otherwise print the one apt-get line to run), then build Release.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${SBMBENCH_BUILD_DIR:-$ROOT/build}
PACKAGES="build-essential cmake pkg-config libopenblas-openmp-dev libhdf5-dev libcjson-dev hdf5-tools libpng-dev zlib1g-dev gnuplot-nox dataset-fashion-mnist"

missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    if [ "$(id -u)" -eq 0 ]; then
        echo "sbmbench: installing:$missing" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >&2
        apt-get install -y -qq --no-install-recommends $missing >&2
    else
        echo "sbmbench: missing Debian packages. Run:" >&2
        echo "  sudo apt-get install -y$missing" >&2
        exit 1
    fi
fi

cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j"$(nproc)" >&2
