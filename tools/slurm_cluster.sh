#!/usr/bin/env bash
# tools/slurm_cluster.sh — start/stop a real single-node SLURM test cluster for autoexp's
# end-to-end tests and CI (Debian 12, root, no systemd, no cgroups). See
# tools/slurm_cluster_README.md for the interface, the layout and the design choices.
#
#   tools/slurm_cluster.sh start [--accounting] [--clean]
#   tools/slurm_cluster.sh stop
#   tools/slurm_cluster.sh status
#   tools/slurm_cluster.sh restart-controller [--down-seconds N] [--kill]
#   tools/slurm_cluster.sh logs [N]
#   tools/slurm_cluster.sh packages PKG...
#
# Environment: AUTOEXP_SLURM_DIR (default /var/lib/autoexp-slurm-test), AUTOEXP_SLURM_TIMEOUT
# (seconds to wait for daemons, default 60), AUTOEXP_SLURM_DB_PORT (MariaDB TCP port on
# 127.0.0.1, default 3307).
set -euo pipefail
umask 022

DIR="${AUTOEXP_SLURM_DIR:-/var/lib/autoexp-slurm-test}"
TIMEOUT="${AUTOEXP_SLURM_TIMEOUT:-60}"
DB_PORT="${AUTOEXP_SLURM_DB_PORT:-3307}"
CLUSTER=local
ETC=/etc/slurm
SLURM_CONF_FILE="$ETC/slurm.conf"
DBD_CONF_FILE="$ETC/slurmdbd.conf"
STATE="$DIR/state"
SPOOL="$DIR/spool"
LOGD="$DIR/log"
RUND="$DIR/run"
DBDATA="$DIR/mysql"
DBRUN="$DIR/mysql-run"
DB_NAME=slurm_acct_db
DB_USER=slurm
HOST="$(hostname -s)"
BASE_PKGS=(slurmctld slurmd slurm-client munge)
ACCT_PKGS=(slurmdbd mariadb-server mariadb-client)
T0=$(date +%s.%N)
MADE_POLICY=0

# ---------------------------------------------------------------- output helpers
say() { printf '[slurm_cluster] %s\n' "$*"; }
elapsed() { awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

# fail MESSAGE [LOGFILE...]: print the message and the last 30 lines of each log, exit 1.
fail() {
  local msg="$1"
  shift
  printf '[slurm_cluster] ERROR: %s\n' "$msg" >&2
  local f
  for f in "$@"; do
    if [[ -s "$f" ]]; then
      printf -- '----- last 30 lines of %s -----\n' "$f" >&2
      tail -n 30 "$f" >&2
      printf -- '----- end of %s -----\n' "$f" >&2
    fi
  done
  exit 1
}

# ---------------------------------------------------------------- process helpers
# pid_of PIDFILE COMM: print the pid if the file names a live process whose comm is COMM.
pid_of() {
  local f="$1" comm="$2" pid
  [[ -s "$f" ]] || return 1
  pid="$(tr -dc '0-9' <"$f")"
  [[ -n "$pid" && -r "/proc/$pid/comm" ]] || return 1
  [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == "$comm" ]] || return 1
  printf '%s\n' "$pid"
}

# kill_wait PID NAME [SIGNAL]: signal, wait up to 20 s, then SIGKILL.
kill_wait() {
  local pid="$1" name="$2" sig="${3:-TERM}" i
  kill "-$sig" "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 200; i++)); do
    [[ -d "/proc/$pid" ]] || return 0
    # a zombie child of ours counts as gone
    [[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" == Z ]] && return 0
    sleep 0.1
  done
  say "$name: still alive after 20 s, sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    [[ -d "/proc/$pid" ]] || return 0
    sleep 0.1
  done
}

ctld_pid() { pid_of "$RUND/slurmctld.pid" slurmctld; }
slurmd_pid() { pid_of "$RUND/slurmd.pid" slurmd; }
dbd_pid() { pid_of "$RUND/slurmdbd.pid" slurmdbd; }
db_pid() { pid_of "$DBRUN/mariadb.pid" mariadbd; }
munge_pid() { pid_of "$RUND/munged.pid" munged; }

ctld_answers() { timeout 5 scontrol ping 2>/dev/null | grep -q 'is UP'; }
node_state() { timeout 10 sinfo --noheader --Node --nodes="$HOST" --format=%T 2>/dev/null | head -n 1; }
node_ready() {
  case "$(node_state)" in
  idle | mixed | allocated | completing) return 0 ;;
  *) return 1 ;;
  esac
}

# ---------------------------------------------------------------- configuration
# The full slurm.conf for a mode ("plain" or "accounting") on stdout.
gen_slurm_conf() {
  local mode="$1"
  cat <<EOF
# Written by autoexp tools/slurm_cluster.sh ($mode): a single-node test cluster. Do not edit;
# the script rewrites it.
ClusterName=$CLUSTER
SlurmctldHost=$HOST(127.0.0.1)
AuthType=auth/munge
CryptoType=crypto/munge
MpiDefault=none
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
# Start jobs fast. slurmctld's background thread runs the main scheduler at most once a
# second after an event (submit, job end), and backfill now runs every second (default 30 s),
# so a submitted job is RUNNING within ~0.1-1 s. batch_sched_delay=0 (default 3 s) and
# sched_interval=2 (default 60 s) keep event-less rescheduling (throttled arrays,
# dependencies) quick too.
SchedulerParameters=batch_sched_delay=0,sched_interval=2,bf_interval=1,bf_resolution=1,default_queue_depth=1000
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
PreemptType=preempt/none
PriorityType=priority/basic
# Let the node advertise more CPUs/memory than the machine has.
SlurmdParameters=config_overrides
ReturnToService=2
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$STATE
SlurmdSpoolDir=$SPOOL
SlurmctldPidFile=$RUND/slurmctld.pid
SlurmdPidFile=$RUND/slurmd.pid
SlurmctldLogFile=$LOGD/slurmctld.log
SlurmdLogFile=$LOGD/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
MinJobAge=600
MaxArraySize=10001
MaxJobCount=20000
KillWait=5
MessageTimeout=10
InactiveLimit=0
Waittime=0
SlurmctldTimeout=120
SlurmdTimeout=300
EOF
  if [[ "$mode" == accounting ]]; then
    cat <<EOF
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=30
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort=6819
AccountingStoreFlags=job_comment
EOF
  else
    cat <<EOF
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
EOF
  fi
  cat <<EOF
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=16 RealMemory=16000 State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
EOF
}

gen_dbd_conf() {
  cat <<EOF
# Written by autoexp tools/slurm_cluster.sh. Do not edit; the script rewrites it.
AuthType=auth/munge
DbdHost=localhost
DbdPort=6819
SlurmUser=root
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$DB_PORT
StorageUser=$DB_USER
StoragePass=$(db_pass)
StorageLoc=$DB_NAME
LogFile=$LOGD/slurmdbd.log
PidFile=$RUND/slurmdbd.pid
DebugLevel=info
EOF
}

db_pass() {
  if [[ ! -s "$DIR/db.pass" ]]; then
    (umask 077 && od -An -N12 -tx1 /dev/urandom | tr -d ' \n' >"$DIR/db.pass")
  fi
  cat "$DIR/db.pass"
}

sha_of() { sha256sum | cut -c1-64; }

# write_if_changed FILE MODE CONTENT: returns 0 if the file was (re)written.
write_if_changed() {
  local f="$1" mode="$2" content="$3"
  if [[ -f "$f" ]] && [[ "$(cat "$f")" == "$content" ]]; then
    chmod "$mode" "$f"
    return 1
  fi
  mkdir -p "$(dirname "$f")"
  printf '%s\n' "$content" >"$f.tmp.$$"
  chmod "$mode" "$f.tmp.$$"
  mv -f "$f.tmp.$$" "$f"
  return 0
}

make_dirs() {
  mkdir -p "$DIR" "$STATE" "$SPOOL" "$LOGD" "$RUND"
  chmod 755 "$DIR"
}

# ---------------------------------------------------------------- packages
pkg_missing() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || printf '%s ' "$p"
  done
}

ensure_packages() {
  local missing
  missing="$(pkg_missing "$@")"
  missing="${missing% }"
  [[ -z "$missing" ]] && return 0
  local log="$LOGD/apt.log" updated=0
  # Keep package scripts from starting daemons (Docker-style policy); we start our own.
  local policy=/usr/sbin/policy-rc.d
  if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    MADE_POLICY=1
    trap 'if [[ $MADE_POLICY == 1 ]]; then rm -f /usr/sbin/policy-rc.d; fi' EXIT
  fi
  # shellcheck disable=SC2086
  if ! apt-cache show --no-all-versions $missing >/dev/null 2>&1; then
    say "apt-get update (package lists lack: $missing)"
    apt-get update >>"$log" 2>&1 || fail "apt-get update failed" "$log"
    updated=1
  fi
  say "apt-get install $missing"
  # shellcheck disable=SC2086
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing >>"$log" 2>&1; then
    [[ $updated == 1 ]] && fail "apt-get install failed" "$log"
    say "apt-get install failed; apt-get update and retry"
    apt-get update >>"$log" 2>&1 || fail "apt-get update failed" "$log"
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing >>"$log" 2>&1 ||
      fail "apt-get install failed" "$log"
  fi
  if [[ $MADE_POLICY == 1 ]]; then
    rm -f "$policy"
    MADE_POLICY=0
  fi
}

# ---------------------------------------------------------------- munge
munge_ok() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }

start_munge() {
  if munge_ok; then
    say "munge: already running"
    return 0
  fi
  if [[ ! -s /etc/munge/munge.key ]]; then
    say "munge: creating /etc/munge/munge.key"
    runuser -u munge -- mungekey --create --keyfile=/etc/munge/munge.key >>"$LOGD/munged.out" 2>&1 ||
      fail "could not create the munge key" "$LOGD/munged.out"
  fi
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge
  chmod 755 /run/munge
  say "munge: starting munged"
  runuser -u munge -- /usr/sbin/munged </dev/null >>"$LOGD/munged.out" 2>&1 ||
    fail "munged did not start" "$LOGD/munged.out" /var/log/munge/munged.log
  local i
  for ((i = 0; i < 100; i++)); do
    munge_ok && break
    sleep 0.1
  done
  munge_ok || fail "munge does not answer (munge -n | unmunge)" /var/log/munge/munged.log
  # Record it as ours so that `stop` stops it (and never a munged someone else started).
  cp /run/munge/munged.pid "$RUND/munged.pid" 2>/dev/null || true
}

stop_munge() {
  local pid
  if pid="$(munge_pid)"; then
    say "munge: stopping munged (pid $pid)"
    kill_wait "$pid" munged
  fi
  rm -f "$RUND/munged.pid"
}

# ---------------------------------------------------------------- mariadb + slurmdbd
mysql_root() { mariadb --no-defaults --socket="$DBRUN/mysqld.sock" -uroot "$@"; }

start_mariadb() {
  if db_pid >/dev/null; then
    say "mariadb: already running"
    return 0
  fi
  mkdir -p "$DBDATA" "$DBRUN"
  chown mysql:mysql "$DBDATA" "$DBRUN"
  if [[ ! -d "$DBDATA/mysql" ]]; then
    say "mariadb: initialising $DBDATA"
    mariadb-install-db --no-defaults --user=mysql --datadir="$DBDATA" --skip-test-db \
      --auth-root-authentication-method=socket >>"$LOGD/mariadb-install.log" 2>&1 ||
      fail "mariadb-install-db failed" "$LOGD/mariadb-install.log"
  fi
  say "mariadb: starting on 127.0.0.1:$DB_PORT"
  touch "$LOGD/mariadb.log"
  chown mysql:mysql "$LOGD/mariadb.log"
  setsid mariadbd --no-defaults --user=mysql --datadir="$DBDATA" --socket="$DBRUN/mysqld.sock" \
    --pid-file="$DBRUN/mariadb.pid" --port="$DB_PORT" --bind-address=127.0.0.1 \
    --log-error="$LOGD/mariadb.log" --innodb-lock-wait-timeout=900 \
    --innodb-buffer-pool-size=256M </dev/null >>"$LOGD/mariadb.out" 2>&1 &
  local i deadline=$((SECONDS + TIMEOUT))
  for ((i = 0; SECONDS < deadline; i++)); do
    if mysql_root -e 'SELECT 1' >/dev/null 2>&1; then
      break
    fi
    if ((i > 10)) && ! db_pid >/dev/null; then
      fail "mariadb exited" "$LOGD/mariadb.log" "$LOGD/mariadb.out"
    fi
    sleep 0.2
  done
  mysql_root -e 'SELECT 1' >/dev/null 2>&1 || fail "mariadb did not come up" "$LOGD/mariadb.log"
  local pass
  pass="$(db_pass)"
  say "mariadb: database $DB_NAME, user $DB_USER"
  mysql_root <<EOF >>"$LOGD/mariadb.out" 2>&1 || fail "mariadb: creating the database failed" "$LOGD/mariadb.out"
CREATE DATABASE IF NOT EXISTS $DB_NAME;
CREATE USER IF NOT EXISTS '$DB_USER'@'localhost' IDENTIFIED BY '$pass';
CREATE USER IF NOT EXISTS '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$pass';
ALTER USER '$DB_USER'@'localhost' IDENTIFIED BY '$pass';
ALTER USER '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$pass';
GRANT ALL ON $DB_NAME.* TO '$DB_USER'@'localhost';
GRANT ALL ON $DB_NAME.* TO '$DB_USER'@'127.0.0.1';
FLUSH PRIVILEGES;
EOF
}

stop_mariadb() {
  local pid
  if pid="$(db_pid)"; then
    say "mariadb: stopping (pid $pid)"
    kill_wait "$pid" mariadbd
  fi
}

start_slurmdbd() {
  if write_if_changed "$DBD_CONF_FILE" 600 "$(gen_dbd_conf)"; then
    say "slurmdbd: wrote $DBD_CONF_FILE (mode 600)"
  fi
  if dbd_pid >/dev/null; then
    say "slurmdbd: already running"
  else
    say "slurmdbd: starting"
    slurmdbd </dev/null >>"$LOGD/slurmdbd.out" 2>&1 ||
      fail "slurmdbd did not start" "$LOGD/slurmdbd.out" "$LOGD/slurmdbd.log"
  fi
  local i deadline=$((SECONDS + TIMEOUT))
  for ((i = 0; SECONDS < deadline; i++)); do
    timeout 10 sacctmgr --noheader --parsable2 show cluster format=cluster >/dev/null 2>&1 && break
    dbd_pid >/dev/null || ((i < 4)) || fail "slurmdbd exited" "$LOGD/slurmdbd.log" "$LOGD/slurmdbd.out"
    sleep 0.5
  done
  timeout 10 sacctmgr --noheader --parsable2 show cluster format=cluster >/dev/null 2>&1 ||
    fail "slurmdbd does not answer sacctmgr" "$LOGD/slurmdbd.log"
  if ! sacctmgr --noheader --parsable2 show cluster format=cluster | grep -qx "$CLUSTER"; then
    say "sacctmgr: add cluster $CLUSTER, account default, user root"
    sacctmgr -i add cluster "$CLUSTER" >>"$LOGD/sacctmgr.log" 2>&1 ||
      fail "sacctmgr add cluster failed" "$LOGD/sacctmgr.log"
  fi
  if ! sacctmgr --noheader --parsable2 show account default format=account | grep -qx default; then
    sacctmgr -i add account default Cluster="$CLUSTER" Description=autoexp-tests Organization=autoexp \
      >>"$LOGD/sacctmgr.log" 2>&1 || fail "sacctmgr add account failed" "$LOGD/sacctmgr.log"
  fi
  if ! sacctmgr --noheader --parsable2 show assoc where user=root account=default format=user |
    grep -qx root; then
    sacctmgr -i add user root Account=default Cluster="$CLUSTER" >>"$LOGD/sacctmgr.log" 2>&1 ||
      fail "sacctmgr add user failed" "$LOGD/sacctmgr.log"
  fi
}

stop_slurmdbd() {
  local pid
  if pid="$(dbd_pid)"; then
    say "slurmdbd: stopping (pid $pid)"
    kill_wait "$pid" slurmdbd
  fi
}

# ---------------------------------------------------------------- slurmctld + slurmd
# start_ctld CLEAN: CLEAN=1 starts with -c (discard saved jobs).
start_ctld() {
  local clean="$1" args=()
  if [[ "$clean" == 1 ]]; then
    args+=(-c)
    say "slurmctld: starting (clean state, -c)"
  else
    say "slurmctld: starting (recovering state from $STATE)"
  fi
  slurmctld "${args[@]}" </dev/null >>"$LOGD/slurmctld.out" 2>&1 ||
    fail "slurmctld did not start" "$LOGD/slurmctld.out" "$LOGD/slurmctld.log"
  sha_of <"$SLURM_CONF_FILE" >"$RUND/slurmctld.conf.sha"
  wait_ctld
}

wait_ctld() {
  local i deadline=$((SECONDS + TIMEOUT))
  for ((i = 0; SECONDS < deadline; i++)); do
    # The pid file appears right after slurmctld daemonizes; give it a second.
    if ((i > 5)) && ! ctld_pid >/dev/null; then
      fail "slurmctld exited" "$LOGD/slurmctld.log" "$LOGD/slurmctld.out"
    fi
    ctld_answers && return 0
    sleep 0.2
  done
  fail "slurmctld does not answer 'scontrol ping' after ${TIMEOUT}s" "$LOGD/slurmctld.log"
}

stop_ctld() {
  local sig="${1:-TERM}" pid
  if pid="$(ctld_pid)"; then
    say "slurmctld: stopping (SIG$sig, pid $pid)"
    kill_wait "$pid" slurmctld "$sig"
  fi
  rm -f "$RUND/slurmctld.conf.sha"
}

start_slurmd() {
  say "slurmd: starting"
  slurmd </dev/null >>"$LOGD/slurmd.out" 2>&1 ||
    fail "slurmd did not start" "$LOGD/slurmd.out" "$LOGD/slurmd.log"
  sha_of <"$SLURM_CONF_FILE" >"$RUND/slurmd.conf.sha"
}

stop_slurmd() {
  local pid
  if pid="$(slurmd_pid)"; then
    say "slurmd: stopping (pid $pid)"
    kill_wait "$pid" slurmd
  fi
  rm -f "$RUND/slurmd.conf.sha"
}

wait_node() {
  local i st resumed=0 deadline=$((SECONDS + TIMEOUT))
  for ((i = 0; SECONDS < deadline; i++)); do
    node_ready && {
      say "node $HOST: $(node_state)"
      return 0
    }
    st="$(node_state || true)"
    if [[ $resumed == 0 && $i -gt 6 && "$st" =~ drain|down ]] && slurmd_pid >/dev/null; then
      say "node $HOST is '$st': scontrol update state=resume"
      scontrol update nodename="$HOST" state=resume >/dev/null 2>&1 || true
      resumed=1
    fi
    slurmd_pid >/dev/null || ((i < 6)) || fail "slurmd exited" "$LOGD/slurmd.log" "$LOGD/slurmd.out"
    sleep 0.5
  done
  fail "node $HOST not idle after ${TIMEOUT}s (state: '$(node_state || true)')" \
    "$LOGD/slurmctld.log" "$LOGD/slurmd.log"
}

running_mode() {
  [[ -s "$RUND/mode" ]] && cat "$RUND/mode" || echo plain
}

# The cluster is up in MODE with exactly the configuration this script would write.
up_as() {
  local mode="$1" want
  ctld_pid >/dev/null && slurmd_pid >/dev/null || return 1
  want="$(gen_slurm_conf "$mode" | sha_of)"
  [[ -f "$SLURM_CONF_FILE" && "$(sha_of <"$SLURM_CONF_FILE")" == "$want" ]] || return 1
  [[ "$(cat "$RUND/slurmctld.conf.sha" 2>/dev/null)" == "$want" ]] || return 1
  [[ "$(cat "$RUND/slurmd.conf.sha" 2>/dev/null)" == "$want" ]] || return 1
  if [[ "$mode" == accounting ]]; then
    dbd_pid >/dev/null && db_pid >/dev/null || return 1
  fi
  munge_ok && ctld_answers && node_ready
}

# ---------------------------------------------------------------- commands
cmd_start() {
  local mode=plain clean=0
  while (($#)); do
    case "$1" in
    --accounting) mode=accounting ;;
    --clean) clean=1 ;;
    *) fail "start: unknown option '$1' (use --accounting, --clean)" ;;
    esac
    shift
  done
  if [[ $clean == 0 ]] && command -v slurmctld >/dev/null && up_as "$mode"; then
    say "already up ($mode) on $HOST; nothing to do"
    return 0
  fi
  make_dirs
  local pkgs=("${BASE_PKGS[@]}")
  [[ "$mode" == accounting ]] && pkgs+=("${ACCT_PKGS[@]}")
  ensure_packages "${pkgs[@]}"

  if [[ $clean == 1 ]]; then
    say "--clean: stopping everything and wiping $STATE, $SPOOL and the accounting database"
    cmd_stop
    rm -rf "$STATE" "$SPOOL" "$DBDATA"
    make_dirs
  fi

  local conf
  conf="$(gen_slurm_conf "$mode")"
  if write_if_changed "$SLURM_CONF_FILE" 644 "$conf"; then
    say "wrote $SLURM_CONF_FILE ($mode, host $HOST, dir $DIR)"
  fi
  printf '%s\n' "$mode" >"$RUND/mode"
  local want
  want="$(printf '%s\n' "$conf" | sha_of)"

  start_munge
  if [[ "$mode" == accounting ]]; then
    start_mariadb
    start_slurmdbd
  else
    stop_slurmdbd
    stop_mariadb
  fi

  # slurmctld: restart (keeping its state) if it runs with another configuration.
  if ctld_pid >/dev/null; then
    if [[ "$(cat "$RUND/slurmctld.conf.sha" 2>/dev/null)" != "$want" ]]; then
      say "slurmctld: configuration changed; restarting it (state kept)"
      stop_ctld TERM
      start_ctld 0
    else
      say "slurmctld: already running"
      wait_ctld
    fi
  else
    # A clean start (-c) only on the first start or after --clean; otherwise recover the
    # saved state so that job ids keep increasing (and match the accounting database).
    if [[ -e "$STATE/job_state" ]]; then start_ctld 0; else start_ctld 1; fi
  fi

  if slurmd_pid >/dev/null; then
    if [[ "$(cat "$RUND/slurmd.conf.sha" 2>/dev/null)" != "$want" ]]; then
      say "slurmd: configuration changed; restarting it"
      stop_slurmd
      start_slurmd
    else
      say "slurmd: already running"
    fi
  else
    start_slurmd
  fi
  wait_node
  say "up ($mode) in $(elapsed)s: SlurmctldHost $HOST, partition debug, logs in $LOGD"
}

cancel_all_jobs() {
  ctld_answers || return 0
  local ids
  ids="$(timeout 10 squeue --noheader --format=%A --states=PENDING,RUNNING,SUSPENDED,CONFIGURING,REQUEUED,RESIZING,COMPLETING 2>/dev/null | sort -u | tr '\n' ' ')"
  [[ -n "${ids// /}" ]] || return 0
  say "scancel: $(wc -w <<<"$ids") job(s) still queued or running"
  # shellcheck disable=SC2086
  scancel $ids >/dev/null 2>&1 || true
  local i
  for ((i = 0; i < 40; i++)); do
    [[ -z "$(timeout 10 squeue --noheader --format=%A --states=RUNNING,COMPLETING 2>/dev/null)" ]] && return 0
    sleep 0.5
  done
}

cmd_stop() {
  (($# == 0)) || fail "stop takes no options"
  if ctld_pid >/dev/null; then cancel_all_jobs; fi
  stop_slurmd
  stop_ctld TERM
  stop_slurmdbd
  stop_mariadb
  stop_munge
  say "stopped"
}

cmd_status() {
  (($# == 0)) || fail "status takes no options"
  local mode
  mode="$(running_mode)"
  if ctld_pid >/dev/null && slurmd_pid >/dev/null && ctld_answers; then
    local acct="without accounting"
    if [[ "$mode" == accounting ]]; then
      if dbd_pid >/dev/null && db_pid >/dev/null; then
        acct="with accounting"
      else
        acct="with accounting configured but slurmdbd/mariadb down"
      fi
    fi
    say "up, $acct; node $HOST: $(node_state); dir $DIR"
    return 0
  fi
  local parts=()
  ctld_pid >/dev/null && parts+=(slurmctld)
  slurmd_pid >/dev/null && parts+=(slurmd)
  dbd_pid >/dev/null && parts+=(slurmdbd)
  db_pid >/dev/null && parts+=(mariadb)
  munge_pid >/dev/null && parts+=(munged)
  if ((${#parts[@]})); then
    say "down (still running: ${parts[*]})"
  else
    say "down"
  fi
  return 3
}

cmd_restart_controller() {
  local down=5 sig=TERM
  while (($#)); do
    case "$1" in
    --down-seconds)
      [[ $# -ge 2 && "$2" =~ ^[0-9]+([.][0-9]+)?$ ]] || fail "--down-seconds needs a number"
      down="$2"
      shift
      ;;
    --down-seconds=*) down="${1#*=}" ;;
    --kill) sig=KILL ;;
    *) fail "restart-controller: unknown option '$1' (use --down-seconds N, --kill)" ;;
    esac
    shift
  done
  ctld_pid >/dev/null || fail "slurmctld is not running (start the cluster first)"
  stop_ctld "$sig"
  say "slurmctld: down for ${down}s"
  sleep "$down"
  start_ctld 0
  wait_node
  say "slurmctld: back after $(elapsed)s"
}

cmd_logs() {
  local n="${1:-30}" f
  for f in "$LOGD"/slurmctld.log "$LOGD"/slurmd.log "$LOGD"/slurmdbd.log "$LOGD"/mariadb.log \
    /var/log/munge/munged.log; do
    [[ -s "$f" ]] || continue
    printf -- '----- last %s lines of %s -----\n' "$n" "$f"
    tail -n "$n" "$f"
  done
}

usage() {
  cat <<'EOF'
usage: tools/slurm_cluster.sh COMMAND
  start [--accounting] [--clean]   install (if needed) and start a single-node SLURM cluster
  stop                             cancel jobs, stop the daemons this script started
  status                           exit 0 if up (prints with/without accounting), 3 if down
  restart-controller [--down-seconds N] [--kill]
                                   stop slurmctld, wait N s (default 5), start it again
                                   without -c (jobs recovered)
  logs [N]                         last N (30) lines of each daemon log
  packages PKG...                  install Debian packages the way start does (tools/test.sh uses it)
Environment: AUTOEXP_SLURM_DIR (/var/lib/autoexp-slurm-test), AUTOEXP_SLURM_TIMEOUT (60),
AUTOEXP_SLURM_DB_PORT (3307)
EOF
}

main() {
  local cmd="${1:-}"
  (($#)) && shift
  case "$cmd" in
  start | stop | restart-controller | packages)
    [[ $EUID -eq 0 ]] || fail "must run as root"
    ;;
  esac
  case "$cmd" in
  start) cmd_start "$@" ;;
  stop) cmd_stop "$@" ;;
  status) cmd_status "$@" ;;
  restart-controller) cmd_restart_controller "$@" ;;
  logs) cmd_logs "$@" ;;
  packages)
    make_dirs
    ensure_packages "$@"
    ;;
  -h | --help | help) usage ;;
  *)
    usage >&2
    exit 2
    ;;
  esac
}

main "$@"
