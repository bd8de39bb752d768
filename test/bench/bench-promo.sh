#!/usr/bin/env bash
# Benchmarks the promo coupon engine on generated data and prints one
# "name: value" line per figure:
#   decode floor (igzip -dc of the three files in parallel to /dev/null),
#   cold build of the shipped binary and of the ISA-L and no-cgo builds
#   (wall time, CPU, cores busy = CPU-s / wall-s, and peak RSS), the
#   shipped build's phase timeline (inflate and parse per file, spill
#   writes, join, index write: wall and CPU each), the machine's load
#   average beside the timed runs, warm start from the index, lookup cost,
#   and whether the built set equals expected-valid.txt.
#
# Environment: SCALE (default 0.1), PROFILE (real|dense, default real),
# RUNS (timed repetitions, best is reported, default 3), SEED (default 1),
# ISAL=0 skips the explicit cgo ISA-L build,
# GOBENCH=1 also runs the Go benchmarks of the package.
# Data goes to data/generated/<profile>-<scale>/ and is reused when present.
set -euo pipefail

SCALE=${SCALE:-0.1}
PROFILE=${PROFILE:-real}
RUNS=${RUNS:-3}
SEED=${SEED:-1}

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
DATA="data/generated/${PROFILE}-${SCALE}"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT


need_apt() { # command package
	command -v "$1" >/dev/null 2>&1 && return 0
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "installing $2" >&2
		(apt-get install -y "$2" >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1 && apt-get install -y "$2" >/dev/null 2>&1; }) || true
	fi
	command -v "$1" >/dev/null 2>&1
}
need_apt igzip isal || { echo "igzip is required for the decode floor (apt-get install isal)" >&2; exit 1; }
if [ ! -x /usr/bin/time ]; then
	need_apt /usr/bin/time time || { echo "/usr/bin/time is required (apt-get install time)" >&2; exit 1; }
fi

# Three builds of the coupon engine are timed against the same floor:
#   shipped  the server binary as `make build` (and so the Dockerfile) makes
#            it, run as `minikart coupons build`: build_vs_decode_floor;
#   isal     the cgo ISA-L decoder (build tag isal) explicitly:
#            build_vs_decode_floor_isal (the same binary as shipped where
#            libisal-dev is installed, which the Dockerfile does);
#   nocgo    a build without ISA-L, what ships where its headers are
#            missing (igzip as a child process when installed, else pure Go):
#            build_vs_decode_floor_nocgo.
if [ "${ISAL:-1}" = 1 ] && [ ! -f /usr/include/isa-l/igzip_lib.h ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	apt-get install -y libisal-dev >/dev/null 2>&1 || true
fi
TAGS=""
make -s build BIN="$WORK/minikart" >&2
cat >"$WORK/shipped" <<SH
#!/bin/sh
exec "$WORK/minikart" coupons "\$@"
SH
chmod +x "$WORK/shipped"
VARIANTS="shipped"
if [ "${ISAL:-1}" = 1 ] && [ -f /usr/include/isa-l/igzip_lib.h ] && command -v cc >/dev/null 2>&1; then
	go build -tags=isal -o "$WORK/isal" ./modules/promo/internal/couponcli/cmd/coupons
	VARIANTS="$VARIANTS isal"
	TAGS="-tags=isal"
fi
CGO_ENABLED=0 go build -o "$WORK/nocgo" ./modules/promo/internal/couponcli/cmd/coupons
VARIANTS="$VARIANTS nocgo"
BIN="$WORK/nocgo"

FILES="$DATA/couponbase1.gz,$DATA/couponbase2.gz,$DATA/couponbase3.gz"
if [ -f "$DATA/expected-valid.txt" ] && [ -f "$DATA/couponbase1.gz" ] && [ -f "$DATA/couponbase2.gz" ] && [ -f "$DATA/couponbase3.gz" ]; then
	echo "reusing $DATA" >&2
else
	"$BIN" generate --profile "$PROFILE" --scale "$SCALE" --out "$DATA" --seed "$SEED" >&2
fi
IDX="$DATA/coupons.idx"

# Read the files once so every run starts from the page cache.
cat "$DATA"/couponbase*.gz >/dev/null

now() { date +%s.%N; }
minimum() { awk -v a="$1" -v b="${2:-1e9}" 'BEGIN { print (a < b) ? a : b }'; }
best_floor=""
best_floor_cpu=""
declare -A best_build best_build_cpu best_busy decoder peak_kb peak_anon_kb
best_floor_busy=""
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
# anon_peak PID samples the anonymous memory (RssAnon: the heap, buffers and
# stacks, not the binary's pages mapped from the page cache, which RSS also
# counts) of PID's child every 50 ms until PID ends, and prints the largest.
# Shell built-ins only (it waits by reading a FIFO nobody writes), so that
# sampling costs the timed build next to nothing.
mkfifo "$WORK/tick"
exec 9<>"$WORK/tick"
anon_peak() {
	local max=0 child="" k v _
	while kill -0 "$1" 2>/dev/null; do
		if [ -z "$child" ]; then
			# The file has no final newline, so read fails even when it
			# reads the pid.
			read -r child _ <"/proc/$1/task/$1/children" 2>/dev/null || true
		fi
		if [ -n "$child" ]; then
			while read -r k v _; do
				if [ "$k" = RssAnon: ]; then
					[ "$v" -gt "$max" ] && max=$v
					break
				fi
			done 2>/dev/null <"/proc/$child/status" || true
		fi
		read -rt 0.05 -u 9 _ || true
	done
	echo "$max"
}
# Each run times the floor, then every variant, so that all of them see the
# same machine.
for _ in $(seq "$RUNS"); do
	t0=$(now)
	/usr/bin/time -f "%U %S" -o "$WORK/floorcpu" bash -c '
		for f in "$@"; do igzip -dc "$f" >/dev/null & done
		fail=0
		for job in $(jobs -p); do wait "$job" || fail=1; done
		exit $fail' floor "$DATA"/couponbase1.gz "$DATA"/couponbase2.gz "$DATA"/couponbase3.gz
	t1=$(now)
	floor=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
	floor_cpu=$(awk '{ printf "%.3f", $1 + $2 }' "$WORK/floorcpu")
	floor_busy=$(awk -v c="$floor_cpu" -v w="$floor" 'BEGIN { printf "%.2f", c / w }')
	[ "$(minimum "$floor" "$best_floor")" = "$floor" ] && best_floor_busy=$floor_busy
	best_floor=$(minimum "$floor" "$best_floor")
	best_floor_cpu=$(minimum "$floor_cpu" "$best_floor_cpu")
	line="run (load $(cut -d' ' -f1 /proc/loadavg)): decode_floor_s $floor (cpu $floor_cpu, busy $floor_busy)"
	for v in $VARIANTS; do
		rm -f "$IDX"
		t0=$(now)
		/usr/bin/time -f "%M %U %S" -o "$WORK/rss" "$WORK/$v" build --timeline --files "$FILES" --index "$IDX" >"$WORK/build.out" 2>"$WORK/build.err" &
		pid=$!
		anon=$(anon_peak "$pid")
		wait "$pid" || {
			cat "$WORK/build.err" >&2
			exit 1
		}
		t1=$(now)
		build=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
		kb=$(tail -1 "$WORK/rss" | awk '{ print $1 }')
		build_cpu=$(tail -1 "$WORK/rss" | awk '{ printf "%.3f", $2 + $3 }')
		[ "$kb" -gt "${peak_kb[$v]:-0}" ] && peak_kb[$v]=$kb
		[ "$anon" -gt "${peak_anon_kb[$v]:-0}" ] && peak_anon_kb[$v]=$anon
		busy=$(awk -v c="$build_cpu" -v w="$build" 'BEGIN { printf "%.2f", c / w }')
		# The fastest run's cores busy and timeline are the ones reported.
		if [ "$(minimum "$build" "${best_build[$v]:-}")" = "$build" ]; then
			best_busy[$v]=$busy
			cp "$WORK/build.out" "$WORK/best-$v.out"
		fi
		best_build[$v]=$(minimum "$build" "${best_build[$v]:-}")
		best_build_cpu[$v]=$(minimum "$build_cpu" "${best_build_cpu[$v]:-}")
		decoder[$v]=$(sed -n 's/.* with \([a-z]*\) in .*/\1/p' "$WORK/build.out")
		lines=$(sed -n 's/.*(\([0-9]*\) lines.*/\1/p' "$WORK/build.out")
		line="$line $v ${build}s (cpu $build_cpu, busy $busy, ${decoder[$v]}, rss_kb $kb, anon_kb $anon)"
	done
	echo "$line" >&2
done

echo "profile: $PROFILE"
echo "scale: $SCALE"
echo "runs: $RUNS (best reported; ratios from runs interleaved with the floor)"
echo "load_avg_before: $load_before"
echo "load_avg_after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "lines: $lines"
printf 'decode_floor_s: %.2f\n' "$best_floor"
# CPU seconds (user+sys, children included) barely depend on other load on
# the machine, so their ratio is the steadier figure on a shared host.
printf 'decode_floor_cpu_s: %.2f\n' "$best_floor_cpu"
echo "decode_floor_cores_busy: $best_floor_busy"
for v in $VARIANTS; do
	suffix="_$v"
	[ "$v" = shipped ] && suffix=""
	echo "decoder$suffix: ${decoder[$v]}"
	printf 'build_s%s: %.2f\n' "$suffix" "${best_build[$v]}"
	awk -v a="${best_build[$v]}" -v b="$best_floor" -v s="$suffix" 'BEGIN { printf "build_vs_decode_floor%s: %.2f\n", s, a / b }'
	printf 'build_cpu_s%s: %.2f\n' "$suffix" "${best_build_cpu[$v]}"
	awk -v a="${best_build_cpu[$v]}" -v b="$best_floor_cpu" -v s="$suffix" 'BEGIN { printf "build_vs_decode_floor_cpu%s: %.2f\n", s, a / b }'
	# CPU-s over wall-s of the fastest run: 2.00 keeps both cores of this
	# machine busy all the way.
	echo "build_cores_busy$suffix: ${best_busy[$v]}"
	echo "peak_rss_mb$suffix: $((${peak_kb[$v]} / 1024))"
	echo "peak_anon_mb$suffix: $((${peak_anon_kb[$v]:-0} / 1024))"
	# A build must fit a container's budget: 64 MB of anonymous memory.
	[ "${peak_anon_kb[$v]:-0}" -le $((64 * 1024)) ] && within=true || within=false
	echo "peak_anon_within_64mb$suffix: $within"
done
# The shipped build's fastest run, phase by phase: one "phase_<name>_wall_s"
# (from its first step to its last) and "phase_<name>_cpu_s" line each,
# then the table as the build printed it (busy: the wall time of the
# phase's own steps, so a parser waiting for a spill write shows busy >
# cpu).
awk '$5 != "" && $1 ~ /^[0-9.]+$/ {
	name = $5; for (i = 6; i <= NF; i++) name = name "_" $i
	sub(/\.gz$/, "", name); gsub(/[^A-Za-z0-9]+/, "_", name)
	printf "phase_%s_wall_s: %.2f\n", name, $2 - $1
	printf "phase_%s_cpu_s: %.2f\n", name, $4
}' "$WORK/best-shipped.out"
echo "timeline (shipped, fastest run):"
sed -n '/start_s/,$p' "$WORK/best-shipped.out" | sed 's/^/  /'
# The server binary holds the whole application: its resident size doing
# nothing is the anchor for peak_rss_mb.
/usr/bin/time -f "%M" -o "$WORK/idle" "$WORK/shipped" help >/dev/null 2>&1 || true
echo "idle_rss_mb: $(($(tail -1 "$WORK/idle") / 1024))"
MEASURE="$WORK/nocgo"
[ -x "$WORK/isal" ] && MEASURE="$WORK/isal"
"$MEASURE" measure --files "$FILES" --index "$IDX" --expected "$DATA/expected-valid.txt"

if [ "${GOBENCH:-0}" = 1 ]; then
	go test $TAGS -run '^$' -bench . -benchmem ./modules/promo/internal/couponset/
fi
