# hosts.sh - several hosts on one machine, nothing shared but Redis and a
# storage host.
#
# The storage host is a private sshd on loopback serving $STORE (videos and the
# output roots: output_root: sftp://...). Each worker "host" is a mount and UTS
# namespace of its own (unshare): its own host name, a private scratch tmpfs at
# the same path as every other host's, and an empty tmpfs over $STORE, so that
# it can reach the videos and outputs only over SFTP. Redis is the test's
# private one. Checked:
#   - a two-group acquisition runs through extract, reconstruct and both
#     stitches on two worker hosts; every record on the store vouches for
#     complete outputs; a reconstruct on the host that extracted its frames
#     fetched nothing (it used its scratch), on the other host it fetched them;
#   - again while one worker host is killed whole mid-run (every process in its
#     namespace): nothing lost, nothing run twice at once, no partial output on
#     the store, no temporary left once done;
#   - again while the storage sshd is killed mid-upload and started again: the
#     attempt fails, is retried and completes, no partial output;
#   - every host's scratch stayed under its cap (sampled inside the host while
#     it ran) although more passed through it, and a scratch disk too small
#     for one stage fails that attempt cleanly (its work folder removed,
#     nothing on the store);
#   - scanq-repair reads the outputs over SFTP: nothing to do when complete; a
#     record removed on the store is planned for re-injection.
. "$SCANQ_TESTS/cli/common.sh"
[ -x /usr/sbin/sshd ] || fail "/usr/sbin/sshd is needed (Debian package openssh-server)"
command -v unshare >/dev/null || fail "unshare is needed (util-linux)"
if [ "$(id -u)" -eq 0 ]; then NS="unshare -m -u"; else NS="unshare -r -m -u"; fi
$NS true 2>/dev/null || fail "cannot make mount namespaces here ($NS)"

. "$SCANQ_TESTS/cli/sshd.sh"
STORE="$T/store" SCRATCH="$T/scratch"
mkdir -p "$STORE/videos" "$T/home/.ssh" "$T/tasks" "$SCRATCH"
export HOME="$T/home"
unset SSH_AUTH_SOCK
# uploads reach the storage host at 8 MB/s (tests/cli/bin/slow-sftp-server), so
# that the large one of the sshd restart below can be caught under way
SSHD_SFTP_SERVER="$BIN/slow-sftp-server" sshd_init "$T/sshd" || fail "cannot set up sshd"
export SCANQ_SSH_KEY="$SSHD_KEY" SCANQ_SSH_KNOWN_HOSTS="$SSHD_KNOWN_HOSTS"
URL="sftp://127.0.0.1:$SSHD_PORT"
start_sshd() {
	sshd_start || fail "sshd did not start"
}
stop_sshd() {
	sshd_stop
}

# --- worker hosts --------------------------------------------------------------
HOSTS=""
# host NAME CAP_TMPFS WORKER-ARGS...: starts worker host NAME in its own
# namespaces; its scratch is a tmpfs of CAP_TMPFS at $SCRATCH, sampled (du)
# into $T/NAME.du every 50 ms; its log is $T/NAME.log. With HIDE=DIR, DIR is
# hidden there too (an empty tmpfs: a filesystem not mounted on that host).
host() {
	_name=$1 _disk=$2
	shift 2
	: >"$T/$_name.du"
	setsid $NS sh -c '
		name=$1 disk=$2 store=$3 scratch=$4 du=$5 hide=$6
		shift 6
		hostname "$name" || exit 90
		mount -t tmpfs -o size=1m none "$store" || exit 91
		mount -t tmpfs -o "size=$disk" none "$scratch" || exit 92
		[ -z "$(ls -A "$store")" ] || exit 93
		[ -z "$hide" ] || mount -t tmpfs -o size=1m none "$hide" || exit 94
		(while :; do du -s -B1 "$scratch" | cut -f1 >>"$du"; sleep 0.05; done) &
		sampler=$!
		scanq-worker --scratch "$scratch" "$@"
		rc=$?
		kill $sampler
		find "$scratch" -type f >"$du.left" # what the host kept
		[ -z "$hide" ] || find "$hide" -mindepth 1 >"$du.hidden" # what it wrote there
		exit $rc
	' sh "$_name" "$_disk" "$STORE" "$SCRATCH" "$T/$_name.du" "${HIDE:-}" "$@" >"$T/$_name.log" 2>&1 &
	eval "HOST_$_name=$!"
	HOSTS="$HOSTS $!"
}
# kill_host NAME: every process in NAME's mount namespace, at once
kill_host() {
	eval "_pid=\$HOST_$1"
	_ns=$(readlink "/proc/$_pid/ns/mnt") || fail "host $1 is not running"
	for _p in /proc/[0-9]*; do
		[ "$(readlink "$_p/ns/mnt" 2>/dev/null)" = "$_ns" ] && kill -KILL "${_p#/proc/}" 2>/dev/null
	done
	wait "$_pid" 2>/dev/null || true
}
# wait_hosts SECONDS NAME...: the hosts' workers drained and exited 0 (with
# WANT_RC=1: exited 1, as --drain does when a job it ran was dead-lettered)
wait_hosts() {
	_limit=$1
	shift
	for _h in "$@"; do
		eval "_pid=\$HOST_$_h"
		timeout "$_limit" sh -c "while kill -0 $_pid 2>/dev/null; do sleep 0.2; done" ||
			fail "host $_h did not finish: $(tail -5 "$T/$_h.log")"
		_rc=0
		wait "$_pid" || _rc=$?
		[ "$_rc" = "${WANT_RC:-0}" ] || fail "host $_h exited $_rc: $(tail -20 "$T/$_h.log")"
	done
}
cleanup() {
	for _p in $HOSTS; do
		_ns=$(readlink "/proc/$_p/ns/mnt" 2>/dev/null) || continue
		for _q in /proc/[0-9]*; do
			[ "$(readlink "$_q/ns/mnt" 2>/dev/null)" = "$_ns" ] && kill -KILL "${_q#/proc/}" 2>/dev/null
		done
	done
	stop_sshd
	if [ -n "${SCANQ_TEST_KEEP:-}" ]; then # a folder to keep the logs in, for debugging
		mkdir -p "$SCANQ_TEST_KEEP" && cp "$T"/*.log "$T"/*.du "$T"/*.json "$T"/*.jpg "$T"/http.* "$SCANQ_TEST_KEEP/" 2>/dev/null; cp -r "$STORE/out" "$SCANQ_TEST_KEEP/out" 2>/dev/null
	fi
}
trap cleanup EXIT
start_sshd

# --- videos on the storage host; acquisitions with their outputs there -----------
make_videos "$T/synth" 2 2
cp "$T/synth/videos"/*.mp4 "$STORE/videos/"
# acq NAME: two groups (auv1, auv2) of two tasks, videos and output root on the
# storage host
acq() {
	write_acq "$T/tasks/$1" "$1" "$URL$STORE/out/$1"
	for v in 1 2; do
		for c in 1 2; do
			write_task "$T/tasks/$1" "auv$v" "auv$v-$c" "$URL$STORE/videos/auv$v-ch0$c.mp4"
		done
	done
	scanq-enqueue "$T/tasks/$1" >"$T/$1.enqueue" 2>&1 || fail "enqueue $1: $(cat "$T/$1.enqueue")"
}
# complete NAME: every stage done, every record vouching for whole outputs
complete() {
	_o="$STORE/out/$1"
	[ "$(stage_count "$1" extract done)" = 4 ] || fail "$1: extract not done 4 times"
	[ "$(stage_count "$1" reconstruct done)" = 4 ] || fail "$1: reconstruct not done 4 times"
	[ "$(stage_count "$1" stitch done)" = 3 ] || fail "$1: stitch not done 3 times"
	for v in 1 2; do
		for c in 1 2; do
			_d="$_o/auv$v/auv$v-$c"
			_n=$(jq '.frames | length' "$_d/frames.json") || fail "$_d: no frames.json"
			[ "$(ls "$_d/frames" | wc -l)" = "$_n" ] || fail "$_d: frames.json vouches for $_n frames, $(ls "$_d/frames" | wc -l) there"
			[ -f "$_d/reconstruct.json" ] || fail "$_d: no reconstruct.json"
			[ "$(sed -n 's/^element vertex //p' "$_d/reconstruction.ply")" = "$_n" ] ||
				fail "$_d: reconstruction.ply is not whole"
		done
		[ -f "$_o/auv$v/stitch.json" ] && [ -s "$_o/auv$v/stitch.ply" ] || fail "$1: auv$v not stitched"
	done
	[ -f "$_o/stitch.json" ] || fail "$1: acquisition not stitched"
	[ "$(sed -n 's/^element vertex //p' "$_o/stitch.ply")" = "$(cat "$_o"/auv*/auv*/frames.json | jq -s 'map(.frames | length) | add')" ] ||
		fail "$1: stitch.ply does not hold every frame's vertex"
	_left=$(find "$_o" -name '*.tmp.*' -o -name '*.old.*')
	[ -z "$_left" ] || fail "$1: temporaries left on the store: $_left"
}
# moved LOG JOB STAGE: "fetched,kept" bytes of the job's stage in a host's log
moved() {
	sed -n "s|.* $2 $3 store: sent [0-9]* bytes in [0-9]* files, fetched \\([0-9]*\\) bytes in [0-9]* files, read [0-9]* bytes of records, \\([0-9]*\\) bytes from this host's copies.*|\\1,\\2|p" "$1" | tail -1
}

# --- two hosts, one acquisition -------------------------------------------------
acq two
CAP=65536 # 16 blocks of 4 KiB: less than what passes through each host's scratch
host a 4m --drain --lease 3s --scratch-max $CAP
host b 4m --drain --lease 3s --scratch-max $CAP
wait_hosts 90 a b
complete two
# a reconstruct where its frames were extracted used them; elsewhere fetched them
for v in 1 2; do
	for c in 1 2; do
		d="$STORE/out/two/auv$v/auv$v-$c"
		ex=$(jq -r .provenance.host "$d/frames.json")
		rc=$(jq -r .provenance.host "$d/reconstruct.json")
		m=$(moved "$T/$rc.log" "two/auv$v-$c" reconstruct)
		[ -n "$m" ] || fail "auv$v-$c: no store line in $rc's log"
		if [ "$ex" = "$rc" ]; then
			[ "${m%,*}" = 0 ] && [ "${m#*,}" -gt 0 ] || fail "auv$v-$c: extracted and reconstructed on $rc, yet fetched ($m)"
		else
			[ "${m%,*}" -gt 0 ] || fail "auv$v-$c: extracted on $ex, reconstructed on $rc without fetching ($m)"
		fi
	done
done
echo "two hosts: 4 tasks in 2 groups through both stitches; frames used from scratch where made"
# under the cap all along, although more than the cap went through
for h in a b; do
	max=$(sort -n "$T/$h.du" | tail -1)
	[ "$(wc -l <"$T/$h.du")" -gt 5 ] || fail "$h: too few scratch samples"
	[ "$max" -le $CAP ] || fail "$h: scratch reached $max bytes, over its cap of $CAP"
done
grep -q "evicted [0-9]* bytes of older copies" "$T/a.log" "$T/b.log" ||
	fail "nothing was ever evicted: the cap was not tested"
# the root on the storage host is the acquisition's: another cannot take it, nor a folder in it
[ "$(jq -r .acquisition "$STORE/out/two/.scanq-acquisition")" = two ] || fail "no ownership marker on the store"
for r in two two/auv1; do
	write_acq "$T/tasks/steal" steal "$URL$STORE/out/$r"
	write_task "$T/tasks/steal" g s1 "$URL$STORE/videos/auv1-ch01.mp4"
	scanq-enqueue "$T/tasks/steal" >"$T/steal.out" 2>&1 && fail "acquisition steal took $r's output root"
	grep -q "output root '$URL$STORE/out/$r' \(belongs to\|is inside '$URL$STORE/out/two', the output root of\) acquisition 'two'" "$T/steal.out" ||
		fail "no ownership message for $r: $(cat "$T/steal.out")"
done
echo "an output root on the storage host belongs to one acquisition"
echo "scratch stayed under its cap of $CAP bytes (at most $(cat "$T"/a.du "$T"/b.du | sort -n | tail -1)), evicting older copies"

# --- a worker host killed whole mid-run ---------------------------------------
SCANQ_RUNLOG="$T/runlog" SCANQ_MINI_SLEEP=1
export SCANQ_RUNLOG SCANQ_MINI_SLEEP
acq kill
host c 4m --drain --lease 3s
host d 4m --drain --lease 3s
# c is inside a reconstruct (a backend running, an upload soon): the host dies
wait_for 60 grep -q "kill/.* reconstruct running" "$T/c.log" || fail "c never reconstructed: $(tail -5 "$T/c.log")"
kill_host c
wait_hosts 90 d
complete kill
[ ! -s "$T/runlog.overlaps" ] || fail "a task ran twice at once: $(cat "$T/runlog.overlaps")"
grep -q "kill/.* reconstruct claimed (attempt 2" "$T/d.log" || fail "d did not take over c's reconstruct"
unset SCANQ_RUNLOG SCANQ_MINI_SLEEP
echo "host killed whole mid-reconstruct: the other host took its job over, nothing ran twice at once, no temporaries left"

# --- the storage sshd killed mid-upload, started again ----------------------------
# one task whose cloud is large (tests/cli/bin/dense-reconstruct, 8 MB): its
# upload lasts about a second
SCANQ_TEST_ATTEMPTS=10 write_acq "$T/tasks/restart" restart "$URL$STORE/out/restart"
sed -i "s|mini-reconstruct|dense-reconstruct|" "$T/tasks/restart/acquisition.yaml"
write_task "$T/tasks/restart" auv1 r1 "$URL$STORE/videos/auv1-ch01.mp4"
scanq-enqueue "$T/tasks/restart" >"$T/restart.enqueue" 2>&1 || fail "enqueue restart: $(cat "$T/restart.enqueue")"
export SCANQ_BENCH_POINTS=100000
host e 64m --drain --lease 3s
unset SCANQ_BENCH_POINTS
# host_pids NAME COMM: the processes called COMM in host NAME
host_pids() {
	eval "_pid=\$HOST_$1"
	_ns=$(readlink "/proc/$_pid/ns/mnt")
	for _p in /proc/[0-9]*; do
		if [ "$(readlink "$_p/ns/mnt" 2>/dev/null)" = "$_ns" ] &&
			[ "$(cat "$_p/comm" 2>/dev/null)" = "$2" ]; then
			echo "${_p#/proc/}"
		fi
	done
}
uploading() { # the cloud on its way
	find "$STORE/out/restart" -name 'reconstruction.ply.tmp.*' 2>/dev/null | grep -q .
}
# freeze e's workers while the upload is under way, then take sshd away
# before they go on: the upload fails midway, and the attempt with it
end=$(($(date +%s) + 60))
while :; do
	[ "$(date +%s)" -lt "$end" ] || fail "no upload seen: $(tail -3 "$T/e.log")"
	uploading || { sleep 0.01; continue; }
	pids=$(host_pids e scanq-worker)
	# shellcheck disable=SC2086 # one pid per word
	kill -STOP $pids
	uploading && break
	# shellcheck disable=SC2086
	kill -CONT $pids
done
stop_sshd
# shellcheck disable=SC2086
kill -CONT $pids
wait_for 30 grep -q "restart/.* failed, will retry" "$T/e.log" || fail "no attempt failed without sshd"
start_sshd
wait_hosts 90 e
d="$STORE/out/restart/auv1/r1"
[ "$(stage_count restart reconstruct done)" = 1 ] && [ "$(stage_count restart stitch done)" = 1 ] ||
	fail "restart: not done: $(tail -3 "$T/e.log")"
n=$(sed -n 's/^element vertex //p' "$d/reconstruction.ply")
[ "$(sed '1,/^end_header$/d' "$d/reconstruction.ply" | wc -l)" = "$n" ] || fail "restart: the cloud is not whole"
cmp -s "$d/reconstruction.ply" "$STORE/out/restart/auv1/stitch.ply" || fail "restart: the stitch is not the cloud"
left=$(find "$STORE/out/restart" -name '*.tmp.*' -o -name '*.old.*')
[ -z "$left" ] || fail "restart: temporaries left on the store: $left"
grep -q "restart/r1 reconstruct failed, will retry: cannot write 'sftp://[^']*/reconstruction\.ply\.tmp\.[^']*': connection lost" "$T/e.log" ||
	fail "no upload failed when sshd went: $(grep -i fail "$T/e.log" | head -3)"
echo "sshd killed mid-upload: the attempt failed and was retried; no partial output"

# --- a scratch disk too small for one stage -----------------------------------------
SCANQ_TEST_ATTEMPTS=1 acq full
host f 8k --drain --lease 3s
WANT_RC=1 wait_hosts 60 f
grep -q "full/auv1-1 extract failed for good, dead-lettered: cannot write .*: no space left on device" "$T/f.log" ||
	fail "a full scratch disk did not fail the extract cleanly: $(grep -i fail "$T/f.log" | head -3)"
! grep -v "/work.max$" "$T/f.du.left" | grep -q . || fail "the failed attempt left files in scratch: $(cat "$T/f.du.left")"
left=$(find "$STORE/out/full" -name 'frame*' -o -name '*.tmp.*' -o -name '*.old.*')
[ -z "$left" ] || fail "a failed attempt left output on the store: $left"
echo "a full scratch disk fails the attempt cleanly: its work folder removed, nothing on the store"

# --- a local output root on a host that does not mount it -----------------------------
# A local output_root must be a shared filesystem mounted at the same path on
# every host. On a host where it is not mounted the worker fails the job, saying
# so, and writes nothing under the bare mount point.
mkdir -p "$T/shared"
SCANQ_TEST_ATTEMPTS=1 write_acq "$T/tasks/nfs" nfs "$T/shared/nfs"
write_task "$T/tasks/nfs" g n1 "$URL$STORE/videos/auv1-ch01.mp4"
scanq-enqueue "$T/tasks/nfs" >"$T/nfs.enqueue" 2>&1 || fail "enqueue nfs: $(cat "$T/nfs.enqueue")"
HIDE="$T/shared" host g 4m --drain --stage extract
WANT_RC=1 wait_hosts 60 g
grep -q "nfs/n1 extract failed for good, dead-lettered: cannot use the output root on this host (a local output_root must be a shared filesystem mounted at the same path on every host): output root '$T/shared/nfs' is not there" "$T/g.log" ||
	fail "a host without the shared filesystem did not say so: $(grep -i fail "$T/g.log" | head -2)"
[ ! -s "$T/g.du.hidden" ] || fail "the host wrote under the bare mount point: $(cat "$T/g.du.hidden")"
[ ! -e "$T/shared/nfs/g" ] || fail "outputs appeared in the shared root: $(ls -A "$T/shared/nfs")"
echo "a local output root not mounted on a host: the job fails saying so, nothing written under the mount point"

# --- scanq-repair reads the outputs over SFTP ----------------------------------------
# (from a host of its own, where the storage folder is not visible)
repair_two() {
	$NS sh -c 'mount -t tmpfs -o size=1m none "$1" && scanq-repair "$2"' sh "$STORE" "$T/tasks/two"
}
repair_two >"$T/repair1.out" 2>&1 || fail "scanq-repair: $(cat "$T/repair1.out")"
grep -q "^0 to re-inject, 0 to mark done, .* 7 up to date" "$T/repair1.out" ||
	fail "scanq-repair found work in a complete acquisition: $(cat "$T/repair1.out")"
rm "$STORE/out/two/auv1/auv1-1/reconstruct.json"
repair_two >"$T/repair2.out" 2>&1 || fail "scanq-repair: $(cat "$T/repair2.out")"
grep -q "reinject *two/auv1-1 *at reconstruct *(reconstruct.json missing)" "$T/repair2.out" ||
	fail "scanq-repair missed a record removed on the store: $(cat "$T/repair2.out")"
echo "scanq-repair reads records over SFTP: complete, then a removed record found"

# --- scanq-ctl show and the web console read the outputs over SFTP ------------------
# (from a host of its own again)
$NS sh -c 'mount -t tmpfs -o size=1m none "$1" && scanq-ctl --json show two/auv1-2' sh "$STORE" \
	>"$T/show.json" 2>&1 || fail "scanq-ctl show: $(cat "$T/show.json")"
jq -e '.disk.local and .disk.records.reconstruct != null and .disk.records.extract != null and
	(.disk.logs.reconstruct | length) > 0 and .disk.ply == "reconstruction.ply" and
	(.disk.thumbnails | length) > 0' "$T/show.json" >/dev/null ||
	fail "scanq-ctl show did not read the outputs over SFTP: $(jq -c .disk "$T/show.json")"
$NS sh -c '
	mount -t tmpfs -o size=1m none "$1" || exit 1
	scanq-status --http 127.0.0.1:0 >"$2/http.out" 2>"$2/http.err" &
	pid=$!
	i=0
	until grep -q "console on" "$2/http.out"; do
		i=$((i + 1)); [ $i -lt 100 ] || exit 2; sleep 0.1
	done
	url=$(sed -n "s/.*console on \(http[^ ]*\) .*/\1/p" "$2/http.out")
	curl -sS --fail "${url}api/file?acq=two&jid=auv1-2&path=frames/frame_000001.jpg" >"$2/frame.jpg" &&
	curl -sS --fail "${url}api/file?acq=two&jid=%40group%3Aauv1&path=stitch.json" >"$2/stitch.json" &&
	curl -sS --fail "${url}api/show?acq=two&target=auv2-1" >"$2/show2.json"
	rc=$?
	kill $pid
	exit $rc
' sh "$STORE" "$T" || fail "the web console did not serve the outputs over SFTP: $(cat "$T/http.err")"
cmp -s "$T/frame.jpg" "$STORE/out/two/auv1/auv1-2/frames/frame_000001.jpg" || fail "the console served another frame"
cmp -s "$T/stitch.json" "$STORE/out/two/auv1/stitch.json" || fail "the console served another stitch.json"
jq -e '.disk.records.reconstruct != null' "$T/show2.json" >/dev/null || fail "the console's job page read no record"
echo "scanq-ctl show and the web console read records, logs and files over SFTP"
