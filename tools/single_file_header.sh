#!/bin/sh
# autoexp @VERSION@ for Linux @ARCH@: one self-contained executable file.
#
# This file is a short POSIX sh script followed by a gzip'd tar of the Deno runtime (@DENO@) and
# autoexp's program. The first start unpacks it once into
#   ${AUTOEXP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/autoexp}/@VERSION@-@ID@/
# (one process unpacks under a mkdir lock while concurrent ones wait, then an atomic rename);
# every later start is one stat and an exec. Needs only sh, tail, gzip, tar and mkdir/mv/rm.
# Built by tools/build_single_file.ts; see docs/single-file.md.
#
# AUTOEXP_CACHE_DIR   where to unpack (default: $XDG_CACHE_HOME/autoexp or ~/.cache/autoexp)
# AUTOEXP_DENO_DIR    Deno's caches (default: $TMPDIR/autoexp-$USER-<id>, node-local)
# AUTOEXP_EMULATOR    run the runtime under this command (e.g. "qemu-aarch64 -L /usr/aarch64-linux-gnu"
#                     to try an aarch64 file on x86_64)
self=$0
case $self in
/*) ;;
*) self=$(pwd)/$self ;;
esac
base=${AUTOEXP_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/autoexp}
dir=$base/@VERSION@-@ID@

autoexp_fail() {
  echo "autoexp: $*" >&2
  exit 2
}

autoexp_unpack() {
  if [ -z "${AUTOEXP_EMULATOR:-}" ]; then
    m=$(uname -m)
    [ "$m" = "@ARCH@" ] || autoexp_fail "this file is autoexp for Linux @ARCH@, and this machine is $(uname -s) $m: use the file built for $m (tools/dev compile --target ...)"
  fi
  mkdir -p "$base" 2>/dev/null || autoexp_fail "cannot create the cache directory $base (set AUTOEXP_CACHE_DIR to a writable directory)"
  # The lock only saves work (one process unpacks, the others wait); correctness comes from the
  # rename: each unpacker fills its own directory and renames it into place, and a rename onto a
  # directory that exists fails (mv -T), so whatever two unpackers do, the result is complete.
  lock=$dir.lock
  host=$(uname -n)
  waited=0
  while [ ! -f "$dir/.complete" ]; do
    if mkdir "$lock" 2>/dev/null; then
      { echo "$host $$" >"$lock/owner"; } 2>/dev/null
      if [ ! -f "$dir/.complete" ]; then
        tmp=$base/.unpack-@ID@-$host-$$
        rm -rf "$tmp"
        if ! mkdir "$tmp" ||
          ! tail -c +@OFFSET@ "$self" | gzip -dc | tar -xf - -C "$tmp" ||
          ! : >"$tmp/.complete"; then
          rm -rf "$tmp" "$lock"
          autoexp_fail "could not unpack $self into $tmp (disk full or not writable? set AUTOEXP_CACHE_DIR)"
        fi
        # a directory without .complete (left by an interrupted older scheme): replace it
        [ -d "$dir" ] && [ ! -f "$dir/.complete" ] && rm -rf "$dir"
        mv -T "$tmp" "$dir" 2>/dev/null || rm -rf "$tmp"
        [ -f "$dir/.complete" ] || {
          rm -rf "$lock"
          autoexp_fail "could not move the unpacked files into $dir (needs GNU mv -T)"
        }
      fi
      rm -rf "$lock"
      continue
    fi
    # Another process is unpacking. Its lock is stale when its owner on this host is gone, or
    # when it is older than 10 minutes (an owner on another host that died).
    lhost='' lpid=''
    { read -r lhost lpid <"$lock/owner"; } 2>/dev/null
    if [ -n "$lpid" ] && [ "$lhost" = "$host" ] && ! kill -0 "$lpid" 2>/dev/null; then
      rm -rf "$lock"
      continue
    fi
    if [ "$waited" -ge 60 ] && [ -n "$(find "$lock" -maxdepth 0 -mmin +10 2>/dev/null)" ]; then
      rm -rf "$lock"
      continue
    fi
    [ "$waited" -ge 900 ] && autoexp_fail "waited 15 minutes for another process to unpack into $dir (remove $lock if no autoexp is starting)"
    [ "$waited" = 5 ] && echo "autoexp: waiting for another process unpacking into $dir" >&2
    sleep 1
    waited=$((waited + 1))
  done
}

[ -f "$dir/.complete" ] || autoexp_unpack
case ${1:-} in
run-entry | local-exec) js=$dir/autoexp-job.js ;;
*) js=$dir/autoexp.js ;;
esac
# Deno's own caches (V8 code cache: faster starts) go to node-local storage: they are SQLite files,
# which must not be shared between nodes. An unwritable place only costs the cache.
export AUTOEXP_SELF="$self" DENO_NO_UPDATE_CHECK=1 DENO_NO_PACKAGE_JSON=1 \
  DENO_DIR="${AUTOEXP_DENO_DIR:-${TMPDIR:-/tmp}/autoexp-${USER:-${LOGNAME:-user}}-@ID@}"
# shellcheck disable=SC2086 # AUTOEXP_EMULATOR is a command with arguments
exec ${AUTOEXP_EMULATOR:-} "$dir/deno" run -A --no-config --no-lock --cached-only --quiet "$js" "$@"
exit 126
