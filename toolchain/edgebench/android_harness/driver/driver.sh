# edgebench device driver (POSIX sh: Android mksh + toybox, dash, bash).
#
#   sh driver.sh RUN_DIR -- RUNNER_ARGS...
#
# Records the device state, starts the sampler, runs the runner (pinned with
# taskset when EDGEBENCH_CPU_MASK is set), stops the sampler and writes
# RUN_DIR/out/manifest.json. Exit code: the runner's (2 for the driver's own
# usage errors). Contract and file formats: android_harness/PROTOCOL.md.
#
# Environment:
#   EDGEBENCH_SYSROOT    prefix for every /sys and /proc read (default empty)
#   EDGEBENCH_CPU_MASK   hex CPU mask for taskset (optional, e.g. f0 or 0xf0)
#   EDGEBENCH_SAMPLE_MS  sampler interval in ms (default 1000)
#   EDGEBENCH_BIN_DIR    where edgebench_runner/edgebench_sampler are (default RUN_DIR/bin)
#   EDGEBENCH_IDLE_S     battery profiling: idle seconds before and after the workload (default 0),
#                        phase marks in RUN_DIR/out/phases.txt
#   EDGEBENCH_WINDOW_PROP, EDGEBENCH_RUN_ID  a property set to "RUN_ID start" / "RUN_ID end N" around
#                        the workload (the virtual device's energy books; phones ignore it)
#   EDGEBENCH_ENGINE     runner (default) or benchmark_model ($BIN/benchmark_model, output in
#                        RUN_DIR/out/benchmark_model.txt)
#
# Only builtins run per node (read < file); external commands run a fixed,
# small number of times per run (mkdir, date, taskset).

DRIVER_VERSION=1.2.0
STATE_FORMAT=1

die_usage() {
  echo "driver.sh: $1" >&2
  echo "usage: sh driver.sh RUN_DIR -- RUNNER_ARGS..." >&2
  exit 2
}

[ $# -ge 2 ] || die_usage "expected RUN_DIR, then --, then the runner's arguments"
RUN_DIR=$1
shift
[ "$1" = "--" ] || die_usage "expected -- after RUN_DIR, got '$1'"
shift
for a in "$@"; do
  case $a in
    --out|--out=*) die_usage "do not pass --out: the driver writes RUN_DIR/out/runner.jsonl" ;;
  esac
done

ENGINE=${EDGEBENCH_ENGINE:-runner}
IDLE_S=${EDGEBENCH_IDLE_S:-0}
WINDOW_PROP=${EDGEBENCH_WINDOW_PROP:-}
RUN_ID=${EDGEBENCH_RUN_ID:-run}
SYSROOT=${EDGEBENCH_SYSROOT:-}
MASK=${EDGEBENCH_CPU_MASK:-}
SAMPLE_MS=${EDGEBENCH_SAMPLE_MS:-1000}
BIN=${EDGEBENCH_BIN_DIR:-$RUN_DIR/bin}
OUT=$RUN_DIR/out
case $ENGINE in
  runner) PROGRAM=$BIN/edgebench_runner ;;
  benchmark_model) PROGRAM=$BIN/benchmark_model ;;
  *) die_usage "EDGEBENCH_ENGINE must be runner or benchmark_model, got '$ENGINE'" ;;
esac

case $SAMPLE_MS in
  ''|*[!0-9]*) die_usage "EDGEBENCH_SAMPLE_MS must be a whole number of ms, got '$SAMPLE_MS'" ;;
esac
case $IDLE_S in
  ''|*[!0-9]*) die_usage "EDGEBENCH_IDLE_S must be a whole number of seconds, got '$IDLE_S'" ;;
esac
MASK_NUM=
MASK_HEX=
if [ -n "$MASK" ]; then
  MASK_HEX=${MASK#0x}
  MASK_HEX=${MASK_HEX#0X}
  case $MASK_HEX in
    ''|*[!0-9a-fA-F]*) die_usage "EDGEBENCH_CPU_MASK must be a hex mask like f0, got '$MASK'" ;;
  esac
  MASK_NUM=$((0x$MASK_HEX))
  [ "$MASK_NUM" -gt 0 ] || die_usage "EDGEBENCH_CPU_MASK selects no CPU: '$MASK'"
fi

mkdir -p "$OUT" || { echo "driver.sh: cannot create $OUT" >&2; exit 2; }

# ---------- reading nodes (builtins only) ----------

# read_node DEVICE_PATH -> NODE_STATUS (ok|err|missing), NODE_VALUE (first line)
read_node() {
  NODE_VALUE=
  if [ ! -e "$SYSROOT$1" ]; then
    NODE_STATUS=missing
    return
  fi
  if IFS= read -r NODE_VALUE 2>/dev/null <"$SYSROOT$1"; then
    NODE_STATUS=ok
  elif [ -n "$NODE_VALUE" ]; then
    NODE_STATUS=ok # last line without a newline
  else
    NODE_STATUS=err # unreadable, or nothing in it
  fi
}

# line TEXT: TEXT and a newline on stdout, raw. mksh (Android's sh) has no printf builtin: an
# external printf per sysfs node costs a fork+exec each, most of a run's fixed cost on a phone.
if [ -n "${KSH_VERSION:-}" ]; then
  line() { print -r -- "$1"; }
else
  line() { printf '%s\n' "$1"; }
fi
TAB='	'

# state_node DEVICE_PATH: one "STATUS<TAB>PATH<TAB>VALUE" line on stdout
state_node() {
  read_node "$1"
  line "$NODE_STATUS$TAB$1$TAB$NODE_VALUE"
}

state_meta() {
  line "meta$TAB$1$TAB$2"
}

HAVE_DUMPSYS=
command -v dumpsys >/dev/null 2>&1 && HAVE_DUMPSYS=1

# Selected CPUs: the mask's CPUs, or every cpuN when no mask.
CPUS=
for d in "$SYSROOT"/sys/devices/system/cpu/cpu[0-9]*; do
  [ -d "$d" ] || continue
  n=${d##*/cpu}
  case $n in ''|*[!0-9]*) continue ;; esac
  if [ -n "$MASK_NUM" ] && [ $(((MASK_NUM >> n) & 1)) -eq 0 ]; then
    continue
  fi
  CPUS="$CPUS $n"
done

SUPPLY_ATTRS="type status online present health capacity voltage_now current_now current_avg power_now temp charge_counter charge_full energy_now cycle_count technology"
CPU_ATTRS="scaling_cur_freq scaling_min_freq scaling_max_freq scaling_governor cpuinfo_min_freq cpuinfo_max_freq"

# write_state PHASE FILE
write_state() {
  {
    state_meta format "$STATE_FORMAT"
    state_meta phase "$1"
    state_meta driver_version "$DRIVER_VERSION"
    state_meta sysroot "$SYSROOT"
    state_meta cpu_mask "$MASK"
    state_meta cpus_selected "${CPUS# }"
    # Android's framework thermal status (0 = none ... 6 = shutdown), where dumpsys exists.
    if [ -n "$HAVE_DUMPSYS" ]; then
      TS=$(dumpsys thermalservice 2>/dev/null | grep -m1 'Thermal Status:')
      state_meta thermal_status "${TS##*: }"
    fi
    state_node /proc/uptime
    state_node /proc/loadavg
    for d in "$SYSROOT"/sys/class/power_supply/*; do
      [ -d "$d" ] || continue
      name=${d##*/}
      for a in $SUPPLY_ATTRS; do
        [ -e "$d/$a" ] && state_node "/sys/class/power_supply/$name/$a"
      done
    done
    for d in "$SYSROOT"/sys/class/thermal/thermal_zone*; do
      [ -d "$d" ] || continue
      name=${d##*/}
      state_node "/sys/class/thermal/$name/type"
      state_node "/sys/class/thermal/$name/temp"
    done
    for d in "$SYSROOT"/sys/class/thermal/cooling_device*; do
      [ -d "$d" ] || continue
      name=${d##*/}
      for a in type cur_state max_state; do
        [ -e "$d/$a" ] && state_node "/sys/class/thermal/$name/$a"
      done
    done
    for n in $CPUS; do
      c=/sys/devices/system/cpu/cpu$n
      [ -e "$SYSROOT$c/online" ] && state_node "$c/online"
      for a in $CPU_ATTRS; do
        # scaling_cur_freq is always listed (missing says "no cpufreq here")
        if [ "$a" = scaling_cur_freq ] || [ -e "$SYSROOT$c/cpufreq/$a" ]; then
          state_node "$c/cpufreq/$a"
        fi
      done
    done
  } >"$2"
}

# Nodes the sampler reads every interval (device paths, one per line).
write_sampled_nodes() {
  {
    for d in "$SYSROOT"/sys/class/power_supply/*; do
      [ -d "$d" ] || continue
      name=${d##*/}
      read_node "/sys/class/power_supply/$name/type"
      if [ "$NODE_VALUE" = Battery ]; then
        for a in status capacity voltage_now current_now current_avg power_now charge_counter temp; do
          [ -e "$d/$a" ] && echo "/sys/class/power_supply/$name/$a"
        done
      elif [ -e "$d/online" ]; then
        echo "/sys/class/power_supply/$name/online"
      fi
    done
    for d in "$SYSROOT"/sys/class/thermal/thermal_zone*; do
      [ -e "$d/temp" ] && echo "/sys/class/thermal/${d##*/}/temp"
    done
    for d in "$SYSROOT"/sys/class/thermal/cooling_device*; do
      [ -e "$d/cur_state" ] && echo "/sys/class/thermal/${d##*/}/cur_state"
    done
    # Each CPU's frequency and its ceiling in force (thermal mitigation lowers scaling_max_freq).
    for n in $CPUS; do
      for a in scaling_cur_freq scaling_max_freq; do
        f=/sys/devices/system/cpu/cpu$n/cpufreq/$a
        [ -e "$SYSROOT$f" ] && echo "$f"
      done
    done
    # ODPM power rails (Pixel 6+: one meter per iio device): cumulative uWs per rail, multi-line.
    for d in "$SYSROOT"/sys/bus/iio/devices/iio:device*; do
      [ -e "$d/energy_value" ] && echo "/sys/bus/iio/devices/${d##*/}/energy_value"
    done
  } >"$1"
}

# uptime_s -> UPTIME (first field of /proc/uptime: CLOCK_BOOTTIME seconds)
uptime_s() {
  read_node /proc/uptime
  UPTIME=${NODE_VALUE%% *}
  case $UPTIME in ''|*[!0-9.]*) UPTIME=null ;; esac
}

epoch_s() {
  EPOCH=$(date +%s 2>/dev/null)
  case $EPOCH in ''|*[!0-9]*) EPOCH=null ;; esac
}

# json_str VALUE -> JSON (quoted, with \ and " escaped)
json_str() {
  s=$1
  r=
  while :; do
    case $s in
      *[\\\"]*) ;;
      *) break ;;
    esac
    pre=${s%%[\\\"]*}
    rest=${s#"$pre"}
    ch=${rest%"${rest#?}"}
    r="$r$pre\\$ch"
    s=${rest#?}
  done
  JSON="\"$r$s\""
}

# ---------- the run ----------

uptime_s
START_UPTIME=$UPTIME
epoch_s
START_EPOCH=$EPOCH

write_state before "$OUT/state_before.txt"
write_sampled_nodes "$OUT/sampled_nodes.txt"

if [ -d "$RUN_DIR/lib" ]; then
  LD_LIBRARY_PATH=$RUN_DIR/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  export LD_LIBRARY_PATH
fi

SAMPLER_PID=
SAMPLER_STARTED=false
# Interrupted (host timeout, adb session closed): never leave the sampler running.
trap '[ -n "$SAMPLER_PID" ] && kill -TERM "$SAMPLER_PID" 2>/dev/null; exit 130' INT TERM HUP
if [ -x "$BIN/edgebench_sampler" ]; then
  "$BIN/edgebench_sampler" --interval-ms "$SAMPLE_MS" --out "$OUT/samples.jsonl" \
    --root "$SYSROOT" --files-from "$OUT/sampled_nodes.txt" \
    2>"$OUT/sampler.stderr" &
  SAMPLER_PID=$!
  SAMPLER_STARTED=true
  # The sampler writes its header only after installing its SIGTERM handler:
  # wait for it (<= ~2 s) so a very short run cannot kill it before it is ready.
  i=0
  while [ ! -s "$OUT/samples.jsonl" ] && [ $i -lt 200 ] && kill -0 "$SAMPLER_PID" 2>/dev/null; do
    sleep 0.01 2>/dev/null || sleep 1
    i=$((i + 1))
  done
else
  echo "driver.sh: no sampler at $BIN/edgebench_sampler; running without samples" >&2
fi

# Battery profiling: idle windows before and after the workload, with the sampler running, and
# phase marks (CLOCK_BOOTTIME seconds from /proc/uptime, the sampler's clock) in phases.txt.
phase() {
  uptime_s
  line "$1 $UPTIME" >>"$OUT/phases.txt"
}
idle() {
  [ "$IDLE_S" = 0 ] && return
  sleep "$IDLE_S"
}
# A device that keeps energy books per window (the virtual device) is told where the workload
# starts and ends; a phone ignores the debug property.
# The device log (logcat) gets the workload's start and end, as an app's own log lines would; the
# run's log window (logcat.txt) then shows where the workload sits among the system's lines.
devlog() {
  command -v log >/dev/null 2>&1 && log -t edgebench-driver "$1" >/dev/null 2>&1
  return 0
}
window_mark() {
  [ -n "$WINDOW_PROP" ] && setprop "$WINDOW_PROP" "$1" 2>/dev/null
  return 0
}

# The engine: edgebench's runner (default), or the official benchmark_model binary, whose text
# output (stdout and stderr together, as a user would capture it) the host parses.
run_engine() {
  if [ "$ENGINE" = benchmark_model ]; then
    "$@" >"$OUT/benchmark_model.txt" 2>&1
  else
    "$@" --out "$OUT/runner.jsonl" >"$OUT/runner.stdout" 2>"$OUT/runner.stderr"
  fi
}

TASKSET_USED=false
DRIVER_ERROR=
RUNNER_RC=
if [ "$IDLE_S" != 0 ]; then
  phase idle_pre_start
  idle
fi
phase workload_start
window_mark "$RUN_ID start"
devlog "workload start: engine $ENGINE${RUN_ID:+, run $RUN_ID}"
if [ -n "$MASK" ]; then
  if command -v taskset >/dev/null 2>&1; then
    TASKSET_USED=true
    run_engine taskset "$MASK_HEX" "$PROGRAM" "$@"
    RUNNER_RC=$?
  else
    DRIVER_ERROR="EDGEBENCH_CPU_MASK is set but no taskset command exists on this device"
  fi
else
  run_engine "$PROGRAM" "$@"
  RUNNER_RC=$?
fi

phase workload_end
devlog "workload end: exit ${RUNNER_RC:-none}${DRIVER_ERROR:+ ($DRIVER_ERROR)}"
if [ -n "$WINDOW_PROP" ]; then
  INFERENCES=$(grep -cE '"type":"(run|warmup)"' "$OUT/runner.jsonl" 2>/dev/null)
  window_mark "$RUN_ID end ${INFERENCES:-0}"
fi
if [ "$IDLE_S" != 0 ]; then
  idle
  phase idle_post_end
fi

SAMPLER_RC=null
if [ -n "$SAMPLER_PID" ]; then
  kill -TERM "$SAMPLER_PID" 2>/dev/null
  wait "$SAMPLER_PID"
  SAMPLER_RC=$?
  SAMPLER_PID=
fi
trap - INT TERM HUP

write_state after "$OUT/state_after.txt"
uptime_s
END_UPTIME=$UPTIME
epoch_s
END_EPOCH=$EPOCH

if [ -n "$KSH_VERSION" ]; then SHELL_HINT=ksh; elif [ -n "$BASH_VERSION" ]; then SHELL_HINT=bash; else SHELL_HINT=sh; fi

# ---------- manifest ----------
{
  line "{"
  line "  \"schema\": 1,"
  line "  \"type\": \"manifest\","
  line "  \"driver_version\": \"$DRIVER_VERSION\","
  line "  \"engine\": \"$ENGINE\","
  json_str "$RUN_DIR"; line "  \"run_dir\": $JSON,"
  json_str "$SYSROOT"; line "  \"sysroot\": $JSON,"
  json_str "$MASK"; line "  \"cpu_mask\": $JSON,"
  line "  \"taskset_used\": $TASKSET_USED,"
  line "  \"sample_ms\": $SAMPLE_MS,"
  json_str "$SHELL_HINT"; line "  \"shell\": $JSON,"
  line "  \"start_uptime_s\": $START_UPTIME,"
  line "  \"end_uptime_s\": $END_UPTIME,"
  line "  \"start_epoch_s\": $START_EPOCH,"
  line "  \"end_epoch_s\": $END_EPOCH,"
  line "  \"runner_exit_code\": ${RUNNER_RC:-null},"
  line "  \"sampler_started\": $SAMPLER_STARTED,"
  line "  \"sampler_exit_code\": $SAMPLER_RC,"
  if [ -n "$DRIVER_ERROR" ]; then json_str "$DRIVER_ERROR"; else JSON=null; fi
  line "  \"driver_error\": $JSON,"
  line "  \"files\": {"
  if [ "$ENGINE" = benchmark_model ]; then ENGINE_FILES=benchmark_model.txt
  else ENGINE_FILES="runner.jsonl runner.stdout runner.stderr"; fi
  entries=
  for f in $ENGINE_FILES phases.txt samples.jsonl sampler.stderr sampled_nodes.txt state_before.txt state_after.txt; do
    if [ -f "$OUT/$f" ]; then e=true; else e=false; fi
    if [ -s "$OUT/$f" ]; then ne=true; else ne=false; fi
    entry="    \"$f\": {\"exists\": $e, \"nonempty\": $ne}"
    if [ -n "$entries" ]; then entries="$entries,
$entry"; else entries=$entry; fi
  done
  line "$entries"
  line "  }"
  line "}"
} >"$OUT/manifest.json.tmp" && mv "$OUT/manifest.json.tmp" "$OUT/manifest.json"

if [ -n "$DRIVER_ERROR" ]; then
  echo "driver.sh: $DRIVER_ERROR" >&2
  exit 2
fi
exit "$RUNNER_RC"
