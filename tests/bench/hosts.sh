#!/bin/sh
# tests/bench/hosts.sh - the same acquisition with its outputs on an SFTP store
# against a local output_root, in the same run (run by hand; README.md).
#
# usage: tests/bench/hosts.sh [--build DIR] [--reps N] [--hosts H] [--procs P]
#                             [--vehicles V] [--chapters C] [--duration S]
#                             [--synth DIR] [--keep]
#
# A synthetic survey (scanq-synth, 960x540 30 fps) goes through extract (real,
# 3 fps at 518x294), reconstruct (tests/cli/bin/dense-reconstruct: reads
# every frame, writes a dense-sized ASCII PLY) and both stitches
# (tests/cli/bin/mini-stitch: concatenates them), with H worker "hosts" (a
# scanq-worker of P processes each, with a scratch folder of its own, so that
# with H > 1 a stage may run where its inputs were not made and fetch them),
# once with output_root a local folder and once with output_root
# sftp:// on a private sshd on loopback (same disk), alternating which goes
# first, N times. Prints each run's wall time (enqueue to the last job done),
# the medians and their ratio, and the bytes the SFTP runs moved per stage
# (from the workers' "store:" lines).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=build-rel reps=3 hosts=1 procs=2 vehicles=2 chapters=2 duration=20 keep=0 synth=""
while [ $# -gt 0 ]; do
	case $1 in
	--build) build=$2; shift ;;
	--reps) reps=$2; shift ;;
	--hosts) hosts=$2; shift ;;
	--procs) procs=$2; shift ;;
	--vehicles) vehicles=$2; shift ;;
	--chapters) chapters=$2; shift ;;
	--duration) duration=$2; shift ;;
	--synth) synth=$2; shift ;; # made there once, used again by later runs
	--keep) keep=1 ;;
	*) echo "usage: $0 [--build DIR] [--reps N] [--hosts H] [--procs P] [--vehicles V] [--chapters C] [--duration S] [--synth DIR] [--keep]" >&2; exit 2 ;;
	esac
	shift
done
build=$(cd "$build" && pwd)
for p in enqueue/scanq-enqueue worker/scanq-worker tests/synth/scanq-synth; do
	[ -x "$build/$p" ] || { echo "$build/$p missing: ninja -C $build $p" >&2; exit 2; }
done
export PATH="$build/enqueue:$build/worker:$build/status:$build/tests/synth:$PATH"

T=$(mktemp -d "${TMPDIR:-/tmp}/scanq-bench-hosts.XXXXXX")
. "$here/lib.sh"
. "$here/cli/sshd.sh"
cleanup() {
	sshd_stop
	sq_redis_stop "$T/redis" || true
	if [ $keep = 1 ]; then echo "kept $T" >&2; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$T/redis" "$T/home" "$T/store" "$T/local"
sq_redis_start "$T/redis"
export SCANQ_REDIS="unix://$T/redis/redis.sock" HOME="$T/home"
unset SSH_AUTH_SOCK
sshd_init "$T/sshd"
sshd_start
export SCANQ_SSH_KEY="$SSHD_KEY" SCANQ_SSH_KNOWN_HOSTS="$SSHD_KNOWN_HOSTS"
URL="sftp://127.0.0.1:$SSHD_PORT"

[ -n "$synth" ] || synth="$T/synth"
echo "the survey: $vehicles vehicles x $chapters chapters x $duration s, 960x540 30 fps; $hosts worker host(s) of $procs processes"
if ! ls "$synth/videos"/*.mp4 >/dev/null 2>&1; then
	scanq-synth --out "$synth" --vehicles "$vehicles" --chapters "$chapters" \
		--duration "$duration" --width 960 --height 540 --fps 30 --quiet
fi

# acq NAME ROOT: the survey as acquisition NAME with its outputs under ROOT
acq() {
	d="$T/tasks/$1"
	mkdir -p "$d"
	cat >"$d/acquisition.yaml" <<EOY
acquisition: $1
output_root: $2
extract: { fps: 3, width: 518, height: 294, quality: 4 }
reconstruct:
  backend: command
  command: [$here/cli/bin/dense-reconstruct, "{frames}", "{output}"]
stitch:
  backend: command
  command: [$here/cli/bin/mini-stitch, "{output}", "{inputs}"]
EOY
	for v in "$synth/videos"/*.mp4; do
		n=$(basename "$v" .mp4)
		printf 'group: %s\nname: %s\nvideos:\n  - %s\n' "${n%%-*}" "$n" "$v" >"$d/$n.yaml"
	done
	scanq-enqueue "$d" >/dev/null
}

now_ms() {
	date +%s%3N
}

# run KIND REP: one acquisition through every stage; prints its wall ms
run() {
	name="$1-$2"
	if [ "$1" = sftp ]; then root="$URL$T/store/$name"; else root="$T/local/$name"; fi
	t0=$(now_ms)
	acq "$name" "$root"
	pids=""
	h=1
	while [ $h -le "$hosts" ]; do
		scanq-worker --acq "$name" -n "$procs" --drain --scratch "$T/scratch-$h" \
			>"$T/$name.host$h.out" 2>&1 &
		pids="$pids $!"
		h=$((h + 1))
	done
	for p in $pids; do
		wait "$p" || { echo "run $name failed: $(tail -5 "$T/$name".host*.out)" >&2; exit 1; }
	done
	t1=$(now_ms)
	cat "$T/$name".host*.out >"$T/$name.log"
	if grep -q "failed" "$T/$name.log"; then
		echo "run $name had failures: $(grep failed "$T/$name.log" | head -3)" >&2
		exit 1
	fi
	echo $((t1 - t0))
}

median() {
	sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

: >"$T/local.ms"
: >"$T/sftp.ms"
i=1
while [ $i -le "$reps" ]; do
	if [ $((i % 2)) = 1 ]; then order="local sftp"; else order="sftp local"; fi
	for k in $order; do
		ms=$(run "$k" "$i")
		echo "$ms" >>"$T/$k.ms"
		printf 'rep %d %-5s %6.2f s\n' "$i" "$k" "$(echo "$ms" | awk '{ print $1 / 1000 }')"
	done
	i=$((i + 1))
done
l=$(median <"$T/local.ms")
s=$(median <"$T/sftp.ms")
awk -v l="$l" -v s="$s" 'BEGIN { printf "median: local %.2f s, sftp %.2f s, ratio %.3f (target <= 1.15)\n", l / 1000, s / 1000, s / l }'

echo "bytes the SFTP runs moved per stage (mean of $reps runs; sent = published and records written, fetched = inputs this host did not have, read = records read, kept = inputs used from this host's scratch):"
cat "$T"/sftp-*.log | sed -n "s/.* \(extract\|reconstruct\|stitch\) store: sent \([0-9]*\) bytes in \([0-9]*\) files, fetched \([0-9]*\) bytes in \([0-9]*\) files, read \([0-9]*\) bytes of records, \([0-9]*\) bytes from this host's copies.*/\1 \2 \3 \4 \5 \6 \7/p" |
	awk -v reps="$reps" '
	{ n[$1]++; sent[$1] += $2; sf[$1] += $3; fet[$1] += $4; ff[$1] += $5; rd[$1] += $6; kept[$1] += $7 }
	END {
		printf "  %-12s %5s %14s %14s %12s %14s\n", "stage", "jobs", "sent", "fetched", "read", "kept"
		split("extract reconstruct stitch", order, " ")
		for (i = 1; i <= 3; i++) {
			s = order[i]
			printf "  %-12s %5d %9.1f MB %3d f %9.1f MB %3d f %9.3f MB %11.1f MB\n", s, n[s] / reps,
			       sent[s] / reps / 1e6, sf[s] / reps, fet[s] / reps / 1e6, ff[s] / reps,
			       rd[s] / reps / 1e6, kept[s] / reps / 1e6
		}
	}'
