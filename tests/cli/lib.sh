# Shared helpers for the command-line tests. Each test script is run by CTest
# as: bash SCRIPT PATH/TO/sbmbench, in a fresh temporary directory.
set -u
SBM=${1:?usage: $0 PATH/TO/sbmbench}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
FAILED=0
PASSED=0
pass() { PASSED=$((PASSED + 1)); echo "ok: $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL: $*"; }
# expect_error NAME EXPECTED_EXIT PATTERN -- command...: the command must exit
# with EXPECTED_EXIT and print PATTERN (grep -E) on stderr.
expect_error() {
    local name=$1 code=$2 pattern=$3
    shift 4
    "$@" >out.txt 2>err.txt
    local rc=$?
    if [ "$rc" -ne "$code" ]; then
        fail "$name: exit $rc, expected $code; stderr: $(cat err.txt)"
    elif ! grep -Eq -- "$pattern" err.txt; then
        fail "$name: stderr lacks /$pattern/: $(cat err.txt)"
    else
        pass "$name: $(head -n 1 err.txt)"
    fi
}
finish() {
    echo "$PASSED passed, $FAILED failed"
    [ "$FAILED" -eq 0 ]
}
