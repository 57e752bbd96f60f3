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
#   EDGEBENCH_POLICY     a variant policy's flat decision table (driver 1.3.0): the workload runs as
#                        EDGEBENCH_POLICY_SEGMENTS segments (default 1); before each, the driver reads
#                        the battery level, charging and thermal status, looks the row up and runs the
#                        runner on that row's model (RUNNER_ARGS then hold no --model); choices in
#                        RUN_DIR/out/policy.txt, outputs in runner.N.jsonl (see PROTOCOL.md)
#
# Only builtins run per node (read < file); external commands run a fixed,
# small number of times per run (mkdir, taskset, dumpsys; date where the shell has no EPOCHREALTIME).

DRIVER_VERSION=1.3.2
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
POLICY=${EDGEBENCH_POLICY:-}
POLICY_SEGMENTS=${EDGEBENCH_POLICY_SEGMENTS:-1}
for a in "$@"; do
  case $a in
    --out|--out=*) die_usage "do not pass --out: the driver writes RUN_DIR/out/runner.jsonl" ;;
    --model|--model=*)
      [ -n "$POLICY" ] && die_usage "do not pass --model with EDGEBENCH_POLICY: the policy's table names each segment's model" ;;
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
if [ -n "$POLICY" ]; then
  [ "$ENGINE" = runner ] || die_usage "EDGEBENCH_POLICY runs edgebench's runner only, got EDGEBENCH_ENGINE='$ENGINE'"
  case $POLICY_SEGMENTS in
    ''|*[!0-9]*|0) die_usage "EDGEBENCH_POLICY_SEGMENTS must be a whole number >= 1, got '$POLICY_SEGMENTS'" ;;
  esac
  [ -r "$POLICY" ] || die_usage "EDGEBENCH_POLICY names no readable file: '$POLICY'"
  # Rows: BATTERY_MIN_PCT BATTERY_MAX_PCT CHARGING(0|1) THERMAL_STATUS(0..6) MODEL_PATH; '#' comments.
  n=0
  while read -r lo hi ch th model rest; do
    n=$((n + 1))
    case $lo in ''|'#'*) continue ;; esac
    case "$lo.$hi.$th" in
      *[!0-9.]*|.*|*..*|*.) die_usage "$POLICY line $n: expected 'MIN_PCT MAX_PCT CHARGING THERMAL MODEL' (whole numbers), got '$lo $hi $ch $th $model'" ;;
    esac
    case $ch in 0|1) ;; *) die_usage "$POLICY line $n: CHARGING must be 0 or 1, got '$ch'" ;; esac
    [ -f "$model" ] || die_usage "$POLICY line $n: no model file '$model' on this device"
  done <"$POLICY"
fi
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

NL='
'
# thermal_status_line -> TS: "Thermal Status: N" from dumpsys thermalservice's first such line (cut by the
# shell: no grep, and no here-document, which mksh writes to a temporary file, a file made on every read)
thermal_status_line() {
  TS=$(dumpsys thermalservice 2>/dev/null)
  case $TS in
    *'Thermal Status:'*) TS=${TS#*'Thermal Status:'}; TS="Thermal Status:${TS%%"$NL"*}" ;;
    *) TS= ;;
  esac
}

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
      thermal_status_line
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
  # mksh (Android's sh) and bash 5 have the clock as a variable: no date process per run.
  EPOCH=${EPOCHREALTIME:-}
  EPOCH=${EPOCH%%[.,]*}
  [ -n "$EPOCH" ] || EPOCH=$(date +%s 2>/dev/null)
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
fi
# The state is read while the sampler starts up (driver 1.3.1): the wait below then usually finds its
# header already written instead of polling with a sleep per 10 ms, a fixed cost of every run.
write_state before "$OUT/state_before.txt"
if [ -n "$SAMPLER_PID" ]; then
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
RUNNER_OUT=runner  # runner.N under a policy: one output per segment
run_engine() {
  if [ "$ENGINE" = benchmark_model ]; then
    "$@" >"$OUT/benchmark_model.txt" 2>&1
  else
    "$@" --out "$OUT/$RUNNER_OUT.jsonl" >"$OUT/$RUNNER_OUT.stdout" 2>"$OUT/$RUNNER_OUT.stderr"
  fi
}

# run_workload ARGS...: the engine, pinned with taskset when a mask is set -> RUNNER_RC or DRIVER_ERROR
run_workload() {
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
}

# ---------- the device's state, for a policy (read as an app would) ----------

CR=
BATTERY_DIR=
if [ -n "$POLICY" ]; then  # runs without a policy pay nothing for it
  CR=$(printf '\r')
  for d in "$SYSROOT"/sys/class/power_supply/*; do
    [ -d "$d" ] || continue
    read_node "/sys/class/power_supply/${d##*/}/type"
    if [ "$NODE_VALUE" = Battery ]; then BATTERY_DIR=/sys/class/power_supply/${d##*/}; break; fi
  done
fi

# charging_of TEXT -> P_CHARGING 1|0, or empty when TEXT says neither: power_supply status words, or
# BatteryManager's status numbers in dumpsys battery (2 charging, 5 full, 3 discharging, 4 not charging)
charging_of() {
  case $1 in
    Charging|Full|2|5) P_CHARGING=1 ;;
    Discharging|'Not charging'|3|4) P_CHARGING=0 ;;
    *) P_CHARGING= ;;
  esac
}

# policy_state -> P_LEVEL (%), P_CHARGING (0|1), P_THERMAL (0..6), P_BATTERY_SOURCE, P_THERMAL_SOURCE.
# P_LEVEL or P_CHARGING stay empty when neither sysfs nor dumpsys battery tells them.
policy_state() {
  P_LEVEL= P_CHARGING= P_BATTERY_SOURCE=sysfs P_THERMAL=0 P_THERMAL_SOURCE=none
  if [ -n "$BATTERY_DIR" ]; then
    read_node "$BATTERY_DIR/capacity"
    case $NODE_VALUE in ''|*[!0-9]*) ;; *) P_LEVEL=$NODE_VALUE ;; esac
    read_node "$BATTERY_DIR/status"
    charging_of "$NODE_VALUE"
  fi
  if { [ -z "$P_LEVEL" ] || [ -z "$P_CHARGING" ]; } && [ -n "$HAVE_DUMPSYS" ]; then
    P_BATTERY_SOURCE=dumpsys
    level= scale=100 status=
    while IFS= read -r l; do
      l=${l%"$CR"}
      l=${l#"${l%%[! ]*}"}
      case $l in
        'level: '*) level=${l#level: } ;;
        'scale: '*) scale=${l#scale: } ;;
        'status: '*) status=${l#status: } ;;
      esac
    done <<DUMPSYS_BATTERY
$(dumpsys battery 2>/dev/null)
DUMPSYS_BATTERY
    case "$level.$scale" in
      .*|*.|*[!0-9.]*) P_LEVEL= ;;
      *) [ "$scale" -gt 0 ] && P_LEVEL=$((level * 100 / scale)) ;;
    esac
    charging_of "$status"
  fi
  # Android's framework thermal status (PowerManager.getCurrentThermalStatus) where the device has
  # one; without it (Android < 10) status 0, as an app there must assume, and policy.txt says "none".
  if [ -n "$HAVE_DUMPSYS" ]; then
    thermal_status_line
    TS=${TS##*:}
    TS=${TS%"$CR"}
    TS=${TS# }
    case $TS in [0-6]) P_THERMAL=$TS P_THERMAL_SOURCE=dumpsys ;; esac
  fi
}

# policy_lookup -> P_MODEL: the model of the table's row for the state (empty: no row)
policy_lookup() {
  P_MODEL=
  while read -r lo hi ch th model rest; do
    case $lo in ''|'#'*) continue ;; esac
    if [ "$P_LEVEL" -ge "$lo" ] && [ "$P_LEVEL" -lt "$hi" ] && [ "$ch" = "$P_CHARGING" ] && [ "$th" = "$P_THERMAL" ]; then
      P_MODEL=$model
      return 0
    fi
  done <"$POLICY"
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
SEGMENTS_RUN=0
if [ -z "$POLICY" ]; then
  run_workload "$@"
else
  # One segment per decision: read the state, look its row up, run that row's model. A failed segment
  # ends the workload. policy.txt, one tab-separated line per segment:
  # SEGMENT UPTIME_S LEVEL_PCT CHARGING THERMAL_STATUS BATTERY_SOURCE THERMAL_SOURCE MODEL
  while [ "$SEGMENTS_RUN" -lt "$POLICY_SEGMENTS" ]; do
    policy_state
    if [ -z "$P_LEVEL" ] || [ -z "$P_CHARGING" ]; then
      DRIVER_ERROR="cannot read the battery level and charging state for the policy: neither ${BATTERY_DIR:-a Battery power_supply}/capacity and status (sysfs) nor dumpsys battery gave them (level '$P_LEVEL', charging '$P_CHARGING')"
      break
    fi
    policy_lookup
    if [ -z "$P_MODEL" ]; then
      DRIVER_ERROR="the policy table $POLICY has no row for battery $P_LEVEL %, charging $P_CHARGING, thermal status $P_THERMAL"
      break
    fi
    uptime_s
    line "$SEGMENTS_RUN$TAB$UPTIME$TAB$P_LEVEL$TAB$P_CHARGING$TAB$P_THERMAL$TAB$P_BATTERY_SOURCE$TAB$P_THERMAL_SOURCE$TAB$P_MODEL" >>"$OUT/policy.txt"
    phase "segment_${SEGMENTS_RUN}_start"
    RUNNER_OUT=runner.$SEGMENTS_RUN
    run_workload --model "$P_MODEL" "$@"
    phase "segment_${SEGMENTS_RUN}_end"
    SEGMENTS_RUN=$((SEGMENTS_RUN + 1))
    [ -n "$DRIVER_ERROR" ] && break
    [ "$RUNNER_RC" = 0 ] || break
  done
fi

phase workload_end
devlog "workload end: exit ${RUNNER_RC:-none}${DRIVER_ERROR:+ ($DRIVER_ERROR)}"
if [ -n "$WINDOW_PROP" ]; then
  INFERENCES=0
  for f in "$OUT"/runner.jsonl "$OUT"/runner.[0-9]*.jsonl; do  # one grep per segment, not per node
    [ -f "$f" ] || continue
    n=$(grep -cE '"type":"(run|warmup)"' "$f" 2>/dev/null)
    INFERENCES=$((INFERENCES + ${n:-0}))
  done
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
  if [ -n "$POLICY" ]; then json_str "$POLICY"; else JSON=null; fi
  line "  \"policy\": $JSON,"
  line "  \"policy_segments_run\": $SEGMENTS_RUN,"
  line "  \"files\": {"
  if [ "$ENGINE" = benchmark_model ]; then ENGINE_FILES=benchmark_model.txt
  elif [ -n "$POLICY" ]; then
    ENGINE_FILES=policy.txt
    i=0
    while [ $i -lt "$SEGMENTS_RUN" ]; do
      ENGINE_FILES="$ENGINE_FILES runner.$i.jsonl runner.$i.stdout runner.$i.stderr"
      i=$((i + 1))
    done
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
