# edgebench slice runner (POSIX sh: Android mksh + toybox, dash, bash).
#
#   sh slice.sh SLICE_FILE
#
# Runs a slice of a session's plan in one device call: every run still goes through driver.sh (a fresh
# runner process, its own run folder and state files), one after the other, with the protocol's
# cool-down between runs decided here from the thermal readings (the host's rule: see bench/cooldown.py).
# Each finished run is reported on stdout as a frame the host reads while the next run is already
# going; its folder is then removed (or marked .keep). Contract: android_harness/PROTOCOL.md, "Slices".
#
# SLICE_FILE is written by the host (targets/slice_protocol.py) and sourced here: settings, then
# eb_baseline and eb_run lines with every word quoted.
#
# stdout frames (one header line each, then the bytes it announces):
#   @@edgebench-slice start INDEX
#   @@edgebench-slice cooldown INDEX
#   @@edgebench-slice run INDEX EXIT_CODE WALL_CS TAR_BYTES LOG_BYTES   + tar of out/ + driver output
#   @@edgebench-slice log LOG_BYTES                                     + logcat since the slice began
#   @@edgebench-slice end RUNS

SLICE_VERSION=1.1.0
[ $# -eq 1 ] || { echo "slice.sh: usage: sh slice.sh SLICE_FILE" >&2; exit 2; }
[ -r "$1" ] || { echo "slice.sh: no readable slice file '$1'" >&2; exit 2; }
SLICE_FILE=$1

EB_DRIVER=                 # driver.sh on this device
EB_OUTPUT=tar              # tar: out/ is sent in the frame; dir: left in the run folder for the host
EB_KEEP=0                  # 1: mark run folders .keep instead of removing them
EB_COOLDOWN=none           # none | fixed | auto
EB_COOLDOWN_S=0            # fixed: seconds (sleep's argument)
EB_COOLDOWN_MIN_S=0        # auto: always wait this long (seconds, sleep's argument)
EB_COOLDOWN_MAX_CS=0       # auto: never longer than this (centiseconds)
EB_COOL_FIRST=0            # 1: the device measured just before this slice: cool down before the first run too
EB_MARGIN_MC=2000          # auto: a zone is cool within this many millidegrees of its baseline
EB_LOGCAT=1                # 1: send the device log of the slice at the end
EB_TOKEN=0                 # this slice's name in its device-log marks: run N is "slice-TOKEN-N"
EB_WAIT_GO=0               # 1: before each run after the first, read a line from stdin (the host is done)
EB_INDEX=0
EB_BASELINES=

if [ -n "${KSH_VERSION:-}" ]; then
  line() { print -r -- "$1"; }
else
  line() { printf '%s\n' "$1"; }
fi

HAVE_DUMPSYS=
command -v dumpsys >/dev/null 2>&1 && HAVE_DUMPSYS=1
CR=$(printf '\r')

# uptime_cs -> UPTIME_CS: CLOCK_BOOTTIME in centiseconds (/proc/uptime always has two decimals)
uptime_cs() {
  read -r u _ </proc/uptime
  UPTIME_CS=${u%.*}${u#*.}
  UPTIME_CS=${UPTIME_CS#0}
  case $UPTIME_CS in ''|*[!0-9]*) UPTIME_CS=0 ;; esac
}

# eb_baseline ZONE MILLIDEGREES: a zone's temperature before the session (auto cool-down's target)
eb_baseline() {
  EB_BASELINES="$EB_BASELINES $1=$2"
}

# zones_cool -> 0 when every baseline zone is within the margin of its baseline (or unreadable)
zones_cool() {
  for pair in $EB_BASELINES; do
    zone=${pair%%=*}
    base=${pair#*=}
    t=
    read -r t 2>/dev/null </sys/class/thermal/$zone/temp
    case $t in ''|*[!0-9-]*) continue ;; esac
    [ "$t" -gt $((base + EB_MARGIN_MC)) ] && return 1
  done
  return 0
}

# thermal_ok -> 0 when the framework's thermal status is 0, or the device has none
thermal_ok() {
  [ -n "$HAVE_DUMPSYS" ] || return 0
  ts=$(dumpsys thermalservice 2>/dev/null | grep -m1 'Thermal Status:')
  ts=${ts##*:}
  ts=${ts%"$CR"}
  ts=${ts# }
  case $ts in ''|0) return 0 ;; esac
  return 1
}

cool_down() {
  case $EB_COOLDOWN in
    none) return 0 ;;
    fixed) [ "$EB_COOLDOWN_S" != 0 ] && sleep "$EB_COOLDOWN_S"; return 0 ;;
  esac
  uptime_cs
  start=$UPTIME_CS
  [ "$EB_COOLDOWN_MIN_S" != 0 ] && sleep "$EB_COOLDOWN_MIN_S"
  while :; do
    uptime_cs
    [ $((UPTIME_CS - start)) -ge "$EB_COOLDOWN_MAX_CS" ] && return 0
    zones_cool && thermal_ok && return 0
    sleep 2
  done
}

NL='
'
# sizes_of TAR LOG -> TAR_BYTES LOG_BYTES (0 for a file that does not exist or is empty): one wc for both,
# its lines cut by the shell (a here-document would be a temporary file, made on every run by mksh)
sizes_of() {
  TAR_BYTES=0 LOG_BYTES=0
  tar_file=$1 log_file_=$2
  set --
  [ -s "$tar_file" ] && set -- "$tar_file"
  [ -s "$log_file_" ] && set -- "$@" "$log_file_"
  [ $# -gt 0 ] || return 0
  sizes=$(wc -c "$@" 2>/dev/null)$NL
  while [ -n "$sizes" ]; do
    l=${sizes%%"$NL"*}
    sizes=${sizes#*"$NL"}
    l=${l#"${l%%[! ]*}"}
    case ${l#* } in
      "$tar_file") TAR_BYTES=${l%% *} ;;
      "$log_file_") LOG_BYTES=${l%% *} ;;
    esac
  done
  case $TAR_BYTES$LOG_BYTES in *[!0-9]*) TAR_BYTES=0 LOG_BYTES=0 ;; esac
}

# eb_run RUN_DIR VAR=VALUE... -- RUNNER_ARGS...
# Forks per run beyond the driver's own: the subshell, tar, wc, cat and one rm. The run's tar and driver
# output go to two files of the slice, rewritten in place by every run: a new file costs far more than
# rewriting one on some storage (about 1 ms of CPU each on this project's CI host).
EB_PARENT=
RUN_TAR=$SLICE_FILE.run.tar
RUN_LOG=$SLICE_FILE.run.log
eb_run() {
  EB_INDEX=$((EB_INDEX + 1))
  run_dir=$1
  shift
  if [ "$EB_INDEX" -gt 1 ] && [ "$EB_WAIT_GO" = 1 ]; then
    IFS= read -r go || exit 0  # the host hung up: it is gone or stopping, nothing more to run
  fi
  if [ "$EB_INDEX" -gt 1 ] || [ "$EB_COOL_FIRST" = 1 ]; then
    if [ "$EB_COOLDOWN" != none ]; then
      line "@@edgebench-slice cooldown $EB_INDEX"
      cool_down
    fi
  fi
  # Left by a killed earlier attempt: its results were never stored (.tar and .log: slice.sh before 1.1.0).
  if [ -e "$run_dir" ] || [ -e "$run_dir.tar" ] || [ -e "$run_dir.log" ]; then rm -rf "$run_dir" "$run_dir.tar" "$run_dir.log"; fi
  if [ "${run_dir%/*}" != "$EB_PARENT" ]; then EB_PARENT=${run_dir%/*}; mkdir -p "$EB_PARENT"; fi
  line "@@edgebench-slice start $EB_INDEX"
  uptime_cs
  started=$UPTIME_CS
  (
    while [ $# -gt 0 ] && [ "$1" != -- ]; do export "$1"; shift; done
    shift
    # The run's mark in the device log, where the host cuts the slice's log into each run's window: the
    # driver's "workload start ... run ID" line names it, unless the run brings an id of its own (a battery
    # run's energy window), and then one log line of its own says it.
    mark=slice-$EB_TOKEN-$EB_INDEX
    if [ -z "${EDGEBENCH_RUN_ID:-}" ]; then
      EDGEBENCH_RUN_ID=$mark
      export EDGEBENCH_RUN_ID
    elif command -v log >/dev/null 2>&1; then
      log -t edgebench-slice "run $mark" >/dev/null 2>&1
    fi
    exec sh "$EB_DRIVER" "$run_dir" -- "$@"
  ) >"$RUN_LOG" 2>&1 </dev/null
  rc=$?
  uptime_cs
  wall=$((UPTIME_CS - started))
  if [ "$EB_OUTPUT" = tar ]; then
    : >"$RUN_TAR"  # no out/ (the driver failed early): no tar, not the last run's
    (cd "$run_dir/out" && tar cf "$RUN_TAR" .) 2>/dev/null
  fi
  sizes_of "$RUN_TAR" "$RUN_LOG"
  line "@@edgebench-slice run $EB_INDEX $rc $wall $TAR_BYTES $LOG_BYTES"
  if [ "$EB_OUTPUT" = tar ]; then
    [ $((TAR_BYTES + LOG_BYTES)) -gt 0 ] && cat "$RUN_TAR" "$RUN_LOG" 2>/dev/null
    if [ "$EB_KEEP" = 1 ]; then
      : >"$run_dir/.keep"
    else
      rm -rf "$run_dir"
    fi
  else
    [ "$LOG_BYTES" -gt 0 ] && cat "$RUN_LOG" 2>/dev/null  # dir: the host copies out/ and removes the folder
  fi
}

SLICE_START_EPOCH=$(date +%s 2>/dev/null)
. "$SLICE_FILE"
if [ "$EB_LOGCAT" = 1 ] && command -v logcat >/dev/null 2>&1 && [ -n "$SLICE_START_EPOCH" ]; then
  log_file=$SLICE_FILE.log
  logcat -d -v threadtime -T "$SLICE_START_EPOCH.000" >"$log_file" 2>/dev/null
  sizes_of "" "$log_file"
  line "@@edgebench-slice log $LOG_BYTES"
  [ "$LOG_BYTES" -gt 0 ] && cat "$log_file" 2>/dev/null
  rm -f "$log_file"
fi
rm -f "$SLICE_FILE" "$RUN_TAR" "$RUN_LOG"
line "@@edgebench-slice end $EB_INDEX"
exit 0
