#!/usr/bin/env bash
# tools/dev test: the README's test command. It sets up what the tests need, runs every test and
# ends with one plain line "N passed, N failed" (and ", N skipped": tests skipped for a missing part).
#
#   1. fmt, lint, type check                                   (one check)
#   2. set-up: shellcheck; qemu-user + an aarch64 C library (to run the aarch64 single file);
#      the SLURM test cluster with accounting (tools/slurm_cluster.sh start --accounting)
#   3. the single files: dist/autoexp (x86_64) and dist/autoexp-aarch64 (tools/build_single_file.ts)
#   4. every test (deno task test), the real-SLURM ones against the running test cluster
#   5. the SLURM tests again on a cluster without accounting (sacct disabled, as on some sites)
#
# Installing needs root and apt-get (Debian). Where a part cannot be had, one line says what is
# skipped and how to get it, the tests that need it are skipped, and the run still ends cleanly.
# A part that could be installed but failed is not skipped: its tests run and fail, saying why.
#
# Environment: AUTOEXP_TEST_STRICT=1 (CI) counts every skipped part as a failure.
# AUTOEXP_TEST_QUICK=1 runs only steps 1 and 4 without set-up (whatever is already there).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root" || exit 1
deno="$root/tools/deno/node_modules/.bin/deno"
export NO_COLOR=1
strict="${AUTOEXP_TEST_STRICT:-}"
t0=$(date +%s)

passed=0
failed=0
skipped=0
step() { printf '\n=== %s\n' "$*"; }
note() { printf '[test] %s\n' "$*"; }
skipped_parts=0
skip() { # skip PART HOW: one line naming what is skipped and how to get it
  note "SKIP $1: $2"
  skipped_parts=$((skipped_parts + 1))
}
ok_or_fail() { # ok_or_fail NAME RC: count one check
  if [ "$2" -eq 0 ]; then passed=$((passed + 1)); else
    failed=$((failed + 1))
    note "FAILED: $1"
  fi
}
# count FILE WORD: the sum of the numbers before "passed"/"failed" in Deno's closing lines
count() {
  grep -E '^(ok|FAILED) \| [0-9]+ passed' "$1" 2>/dev/null | sed -nE "s/.*\\| ([0-9]+) $2.*/\\1/p" \
    | awk '{ s += $1 } END { print s + 0 }'
}
# run_deno_tests LABEL ARGS...: run a deno task, add its counts; a task that failed without a
# closing line (crashed, or a step before the tests failed) counts as one failure
run_deno_tests() {
  local label="$1" log rc p f
  shift
  log="$(mktemp)"
  "$deno" task "$@" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  p=$(count "$log" passed)
  f=$(count "$log" failed)
  passed=$((passed + p))
  failed=$((failed + f))
  skipped=$((skipped + $(count "$log" ignored)))
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    failed=$((failed + 1))
    note "FAILED: $label ended with exit code $rc before reporting a failed test"
  fi
  rm -f "$log"
}

can_install=0
why_not=""
if [ "$(id -u)" -ne 0 ]; then
  why_not="not root"
elif ! command -v apt-get >/dev/null 2>&1; then
  why_not="no apt-get (not Debian/Ubuntu)"
else
  can_install=1
fi
# apt_install PKG...: the Debian packages not yet installed, the way the cluster script installs
# its own (lists updated only when needed; the log's tail on failure)
apt_install() { bash tools/slurm_cluster.sh packages "$@"; }

step "fmt, lint, type check"
"$deno" task check
ok_or_fail "fmt/lint/check (run: tools/dev check)" $?

if [ -n "${AUTOEXP_TEST_QUICK:-}" ]; then
  step "tests (quick: no set-up)"
  run_deno_tests "tests" test
  printf '\n%s passed, %s failed\n' "$passed" "$failed"
  [ "$failed" -eq 0 ]
  exit
fi

step "set-up"
# the shellcheck linter: every rendered job script passes it
if command -v shellcheck >/dev/null 2>&1; then
  :
elif [ "$can_install" = 1 ]; then
  apt_install shellcheck || note "shellcheck could not be installed: the script tests will fail"
else
  skip "shellcheck of rendered scripts" "$why_not; install the Debian package shellcheck"
  export AUTOEXP_NO_SHELLCHECK=1
fi
# a real browser for the report test (tests/e2e/results_test.ts; playwright-core drives it)
if command -v chromium >/dev/null 2>&1; then
  :
elif [ "$can_install" = 1 ]; then
  apt_install chromium || note "chromium could not be installed: the report's browser check is skipped"
else
  skip "the report in a browser" "$why_not; install the Debian package chromium"
fi

# tmux: the real program in a pseudo-terminal at 80 and 160 columns (tests/e2e/terminal_test.ts)
if command -v tmux >/dev/null 2>&1; then
  :
elif [ "$can_install" = 1 ]; then
  apt_install tmux || note "tmux could not be installed: the terminal test is skipped"
else
  skip "the terminal test in tmux" "$why_not; install the Debian package tmux"
fi

# qemu-user and an aarch64 C library: the aarch64 single file is run under emulation
aarch64_libs=/usr/aarch64-linux-gnu
if command -v qemu-aarch64 >/dev/null 2>&1 && [ -e "$aarch64_libs/lib/ld-linux-aarch64.so.1" ] &&
  [ -e "$aarch64_libs/lib/libgcc_s.so.1" ]; then
  :
elif [ "$can_install" = 1 ]; then
  apt_install qemu-user libc6-arm64-cross libgcc-s1-arm64-cross || note "qemu-user could not be installed: the aarch64 test will fail"
else
  skip "the aarch64 single file under emulation" "$why_not; install qemu-user, libc6-arm64-cross and libgcc-s1-arm64-cross"
  export AUTOEXP_NO_QEMU=1
fi

# the SLURM test cluster, with accounting (sacct answers)
if bash tools/slurm_cluster.sh status >/dev/null 2>&1 && [ "$can_install" = 0 ]; then
  note "using the SLURM test cluster that is already running"
  export AUTOEXP_SLURM_TESTS=1
elif [ "$can_install" = 1 ]; then
  if ! bash tools/slurm_cluster.sh start --accounting; then
    note "the SLURM test cluster did not start: the real-SLURM tests will fail (see above)"
  fi
  export AUTOEXP_SLURM_TESTS=1
else
  skip "real-SLURM tests" "$why_not; start the test cluster as root: sudo bash tools/slurm_cluster.sh start --accounting"
  export AUTOEXP_SLURM_TESTS=0
fi

step "the single files (dist/autoexp, dist/autoexp-aarch64)"
"$deno" run -A tools/build_single_file.ts --target all
ok_or_fail "building the single files (tools/dev compile --target all)" $?
export AUTOEXP_SINGLE_FILE="$root/dist/autoexp"
export AUTOEXP_SINGLE_FILE_AARCH64="$root/dist/autoexp-aarch64"

step "tests (deno task test)"
run_deno_tests "tests" test

if [ "${AUTOEXP_SLURM_TESTS}" = 1 ]; then
  step "the SLURM tests again, on a cluster without accounting (sacct disabled)"
  if bash tools/slurm_cluster.sh start; then
    run_deno_tests "SLURM tests without accounting" test:slurm
  else
    ok_or_fail "switching the SLURM test cluster to no accounting" 1
  fi
  # leave the cluster as the README says: up, with accounting
  bash tools/slurm_cluster.sh start --accounting >/dev/null 2>&1 || true
fi

if [ -n "$strict" ] && [ "$skipped_parts" -gt 0 ]; then
  note "AUTOEXP_TEST_STRICT: $skipped_parts skipped part(s) count as failures"
  failed=$((failed + skipped_parts))
fi
note "took $(($(date +%s) - t0)) s"
if [ "$skipped" -gt 0 ]; then
  printf '\n%s passed, %s failed, %s skipped\n' "$passed" "$failed" "$skipped"
else
  printf '\n%s passed, %s failed\n' "$passed" "$failed"
fi
[ "$failed" -eq 0 ]
