#!/usr/bin/env bash
# Benchmarks the promo coupon engine on generated data and prints one
# "name: value" line per figure:
#   decode floor (igzip -dc of the three files in parallel to /dev/null),
#   cold build (wall time and peak RSS), warm start from the index, lookup
#   cost, and whether the built set equals expected-valid.txt.
#
# Environment: SCALE (default 0.1), PROFILE (real|dense, default real),
# RUNS (timed repetitions, best is reported, default 3), SEED (default 1),
# ISAL=0 skips the cgo ISA-L decoder (then igzip runs as a child process),
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
BIN="$WORK/coupons"

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

# The in-process ISA-L decoder (cgo, build tag isal) saves igzip's pipe;
# without its headers the engine runs igzip as a child process instead.
TAGS=""
if [ "${ISAL:-1}" = 1 ]; then
	if [ ! -f /usr/include/isa-l/igzip_lib.h ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		apt-get install -y libisal-dev >/dev/null 2>&1 || true
	fi
	if [ -f /usr/include/isa-l/igzip_lib.h ] && command -v cc >/dev/null 2>&1; then
		TAGS="-tags=isal"
	fi
fi
go build $TAGS -o "$BIN" ./modules/promo/internal/couponcli/cmd/coupons

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
best_floor=""
best_build=""
best_floor_cpu=""
best_build_cpu=""
peak_kb=0
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

	rm -f "$IDX"
	t0=$(now)
	/usr/bin/time -f "%M %U %S" -o "$WORK/rss" "$BIN" build --files "$FILES" --index "$IDX" >"$WORK/build.out" 2>"$WORK/build.err" || {
		cat "$WORK/build.err" >&2
		exit 1
	}
	t1=$(now)
	build=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
	kb=$(tail -1 "$WORK/rss" | awk '{ print $1 }')
	build_cpu=$(tail -1 "$WORK/rss" | awk '{ printf "%.3f", $2 + $3 }')
	[ "$kb" -gt "$peak_kb" ] && peak_kb=$kb
	echo "run: decode_floor_s $floor (cpu $floor_cpu) build_s $build (cpu $build_cpu) rss_kb $kb" >&2
	best_floor=$(awk -v a="$floor" -v b="${best_floor:-1e9}" 'BEGIN { print (a < b) ? a : b }')
	best_build=$(awk -v a="$build" -v b="${best_build:-1e9}" 'BEGIN { print (a < b) ? a : b }')
	best_floor_cpu=$(awk -v a="$floor_cpu" -v b="${best_floor_cpu:-1e9}" 'BEGIN { print (a < b) ? a : b }')
	best_build_cpu=$(awk -v a="$build_cpu" -v b="${best_build_cpu:-1e9}" 'BEGIN { print (a < b) ? a : b }')
done

echo "profile: $PROFILE"
echo "scale: $SCALE"
echo "runs: $RUNS (best reported)"
sed -n 's/.*(\([0-9]*\) lines.*with \([a-z]*\) in.*/lines: \1\ndecoder: \2/p' "$WORK/build.out"
printf 'decode_floor_s: %.2f\n' "$best_floor"
printf 'build_s: %.2f\n' "$best_build"
awk -v a="$best_build" -v b="$best_floor" 'BEGIN { printf "build_vs_decode_floor: %.2f\n", a / b }'
# CPU seconds (user+sys, children included) barely depend on other load on
# the machine, so their ratio is the steadier figure on a shared host.
printf 'decode_floor_cpu_s: %.2f\n' "$best_floor_cpu"
printf 'build_cpu_s: %.2f\n' "$best_build_cpu"
awk -v a="$best_build_cpu" -v b="$best_floor_cpu" 'BEGIN { printf "build_vs_decode_floor_cpu: %.2f\n", a / b }'
echo "peak_rss_mb: $((peak_kb / 1024))"
"$BIN" measure --files "$FILES" --index "$IDX" --expected "$DATA/expected-valid.txt"

if [ "${GOBENCH:-0}" = 1 ]; then
	go test $TAGS -run '^$' -bench . -benchmem ./modules/promo/internal/couponset/
fi
