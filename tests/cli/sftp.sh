# sftp.sh - sftp:// videos, end to end, against a private sshd on loopback.
#
# The sshd (the test's own host key, authorized key and config, on a free
# port, as the test's user) serves videos made with the ffmpeg program. Checked:
# extraction over SFTP equals the local one frame for frame (chapters, the MP4
# index at the end, audio interleaved), through ~/.ssh/config, an explicit key,
# and ssh-agent; an unknown or changed host key (even with StrictHostKeyChecking
# off in the config), a wrong client key and a missing file give their clear
# error at enqueue and at extraction, and no host key is ever added; a worker
# process opens one session for all its files and tasks and writes nothing of
# the video to its disk; a connection killed mid-transfer is re-opened and the
# read resumes; sshd killed and started again lets the task complete on retry;
# a stalled server fails the attempt within the stall timeout instead of
# hanging; a worker told to stop meanwhile hands the task back at once.
. "$SCANQ_TESTS/cli/common.sh"
command -v ffmpeg >/dev/null || fail "the ffmpeg program is needed"
[ -x /usr/sbin/sshd ] || fail "/usr/sbin/sshd is needed (Debian package openssh-server)"
. "$SCANQ_TESTS/cli/sshd.sh"

R="$T/remote" K="$T/keys"
mkdir -p "$R" "$K" "$T/home/.ssh" "$T/tasks"
export HOME="$T/home" # ~/.ssh/config and ~/.ssh/known_hosts are the test's
unset SSH_AUTH_SOCK
ME=$(id -un)
sshd_init "$T/sshd" || fail "cannot set up sshd"
S=$SSHD_DIR PORT=$SSHD_PORT KH=$SSHD_KNOWN_HOSTS
cp "$SSHD_KEY" "$K/id" && cp "$SSHD_KEY.pub" "$K/id.pub"
for k in "$S/otherkey" "$K/wrong"; do
	ssh-keygen -q -t ed25519 -N '' -C scanq-test -f "$k" || fail "ssh-keygen"
done
echo "[127.0.0.1]:$PORT $(cut -d' ' -f1,2 "$S/otherkey.pub")" >"$T/kh-changed"
: >"$T/kh-empty"

start_sshd() {
	sshd_start || fail "sshd did not start"
}
stop_sshd() {
	sshd_stop
}
accepted() {
	grep -c "Accepted publickey" "$S/log" || true
}
SESSIONS="" # of the workers started with setsid: killed whatever happens
cleanup() {
	stop_sshd
	for sid in $SESSIONS; do pkill -KILL -s "$sid" 2>/dev/null || true; done
	[ -z "${SSH_AGENT_PID:-}" ] || kill "$SSH_AGENT_PID" 2>/dev/null || true
}
trap cleanup EXIT
start_sshd

# --- videos: two chapters and a long one, MP4 index at the end, audio between
gen() { # NAME ARGS...
	_n=$1
	shift
	ffmpeg -nostdin -v error -y "$@" "$R/$_n" || fail "cannot make $_n"
}
gen a.mp4 -f lavfi -i "testsrc2=size=640x360:rate=30" -f lavfi -i "sine=f=440" -t 6 \
	-c:v libx264 -pix_fmt yuv420p -c:a aac -shortest
gen b.mp4 -f lavfi -i "testsrc=size=640x360:rate=30" -f lavfi -i "sine=f=660" -t 4 \
	-c:v libx264 -pix_fmt yuv420p -c:a aac -shortest
gen big.mp4 -f lavfi -i "testsrc2=size=960x540:rate=30,noise=alls=10:allf=t" -f lavfi \
	-i "sine=f=550" -t 15 -c:v libx264 -preset ultrafast -crf 26 -pix_fmt yuv420p -c:a aac \
	-shortest
echo "videos: $(cd "$R" && ls -l | awk 'NR > 1 { printf "%s %s B; ", $9, $5 }')"
URL="sftp://127.0.0.1:$PORT$R"

# acq NAME: a task directory $T/tasks/NAME for acquisition NAME
acq() {
	write_acq "$T/tasks/$1" "$1" "$T/out/$1"
	sed -i "s|^extract:.*|extract: { fps: 2, width: 320, height: -1, quality: 3 }|" \
		"$T/tasks/$1/acquisition.yaml"
}
# same DIR REFDIR: the frames in DIR are REFDIR's, byte for byte
same() {
	[ -d "$1" ] || fail "no frames in $1"
	(cd "$2" && md5sum frame_*.jpg) >"$T/ref.md5"
	[ "$(ls "$1" | wc -l)" = "$(wc -l <"$T/ref.md5")" ] ||
		fail "$1: $(ls "$1" | wc -l) frames, the local extraction made $(wc -l <"$T/ref.md5")"
	(cd "$1" && md5sum -c --quiet "$T/ref.md5") >/dev/null 2>&1 || fail "$1: frames differ"
}
local_extract() { # NAME: scanq-worker --local of the task file (no SSH options given)
	scanq-worker --local "$T/tasks/$1/$1.yaml" --stage extract >"$T/$1.log" 2>&1
}

# --- references: the same videos extracted from the local files -----------------
acq ref
write_task "$T/tasks/ref" g ref "$R/a.mp4" "$R/b.mp4"
write_task "$T/tasks/ref" g refbig "$R/big.mp4"
write_task "$T/tasks/ref" g refbig3 "$R/big.mp4" "$R/big.mp4" "$R/big.mp4"
for t in ref refbig refbig3; do
	scanq-worker --local "$T/tasks/ref/$t.yaml" --stage extract 2>"$T/ref.log" || fail "$t"
done
REF="$T/out/ref/g/ref/frames" REFBIG="$T/out/ref/g/refbig/frames"
REFBIG3="$T/out/ref/g/refbig3/frames"

# --- ~/.ssh/config: host alias, port, user, key and known_hosts from it ----------
cat >"$HOME/.ssh/config" <<EOF
Host survey-store
	HostName 127.0.0.1
	Port $PORT
	User $ME
	IdentityFile $K/id
	UserKnownHostsFile $KH
EOF
acq viaconfig
write_task "$T/tasks/viaconfig" g viaconfig "sftp://survey-store$R/a.mp4" "sftp://survey-store$R/b.mp4"
scanq-enqueue --check "$T/tasks/viaconfig" >"$T/viaconfig.check" 2>&1 ||
	fail "--check through ~/.ssh/config: $(cat "$T/viaconfig.check")"
local_extract viaconfig || fail "--local through ~/.ssh/config: $(cat "$T/viaconfig.log")"
same "$T/out/viaconfig/g/viaconfig/frames" "$REF"
echo "~/.ssh/config: --check ok, 2 chapters equal the local extraction"
rm "$HOME/.ssh/config"

# --- ssh-agent holding the key, nothing else given -------------------------------
acq agent
write_task "$T/tasks/agent" g agent "$URL/a.mp4"
eval "$(ssh-agent -s -a "$T/agent.sock")" >/dev/null
ssh-add -q "$K/id" 2>/dev/null || fail "ssh-add"
rc=0
scanq-enqueue --check --ssh-known-hosts "$KH" "$T/tasks/agent" >"$T/agent.check" 2>&1 || rc=$?
kill "$SSH_AGENT_PID"
unset SSH_AUTH_SOCK SSH_AGENT_PID
[ $rc -eq 0 ] || fail "--check with ssh-agent: $(cat "$T/agent.check")"
echo "ssh-agent: --check ok"

# --- clear errors at enqueue, and at extraction (pool worker, one attempt) -------
# bad CASE MESSAGE ENQUEUE-OPTIONS... -- WORKER-OPTIONS...
bad() {
	_c=$1 _msg=$2
	shift 2
	_eo=""
	while [ "$1" != -- ]; do
		_eo="$_eo $1"
		shift
	done
	shift
	SCANQ_TEST_ATTEMPTS=1 acq "bad-$_c"
	write_task "$T/tasks/bad-$_c" g "$_c" "$URL/a.mp4"
	rc=0
	[ "$_c" != missing ] || mv "$R/a.mp4" "$R/a.away"
	# shellcheck disable=SC2086 # options, one per word
	timeout 60 scanq-enqueue --check $_eo "$T/tasks/bad-$_c" >"$T/$_c.check" 2>&1 || rc=$?
	[ "$_c" != missing ] || mv "$R/a.away" "$R/a.mp4"
	[ $rc -eq 1 ] || fail "$_c: --check exited $rc: $(cat "$T/$_c.check")"
	grep -q "bad-$_c/$_c.yaml:[0-9]*:[0-9]*: cannot read '$URL/a.mp4': $_msg" "$T/$_c.check" ||
		fail "$_c: --check said: $(cat "$T/$_c.check")"
	# enqueued while all is well, then extracted with the fault
	scanq-enqueue --ssh-key "$K/id" --ssh-known-hosts "$KH" "$T/tasks/bad-$_c" >/dev/null ||
		fail "$_c: cannot enqueue"
	[ "$_c" != missing ] || mv "$R/a.mp4" "$R/a.away"
	rc=0
	timeout 60 scanq-worker --stage extract --acq "bad-$_c" --drain "$@" >"$T/$_c.pool" 2>&1 ||
		rc=$?
	[ "$_c" != missing ] || mv "$R/a.away" "$R/a.mp4"
	[ $rc -ne 124 ] || fail "$_c: the worker hung"
	grep -q "failed for good.*cannot read '$URL/a.mp4': $_msg" "$T/$_c.pool" ||
		fail "$_c: the worker said: $(cat "$T/$_c.pool")"
	[ ! -e "$T/out/bad-$_c/g/$_c/frames.json" ] || fail "$_c: frames.json written"
	echo "$_c: $(grep -o "cannot read.*" "$T/$_c.check")"
}
cp "$KH" "$T/kh.before"
cp "$T/kh-changed" "$T/kh-changed.before"
# a config that turns host key checking off changes nothing
printf 'Host *\n\tStrictHostKeyChecking no\n' >"$HOME/.ssh/config"
bad unknown-host "host key for '\[127.0.0.1\]:$PORT' is not in known_hosts '$T/kh-empty'" \
	--ssh-key "$K/id" --ssh-known-hosts "$T/kh-empty" -- \
	--ssh-key "$K/id" --ssh-known-hosts "$T/kh-empty"
rm "$HOME/.ssh/config"
bad changed-host "host key changed for '\[127.0.0.1\]:$PORT'" \
	--ssh-key "$K/id" --ssh-known-hosts "$T/kh-changed" -- \
	--ssh-key "$K/id" --ssh-known-hosts "$T/kh-changed"
bad wrong-key "authentication failed (publickey)" \
	--ssh-key "$K/wrong" --ssh-known-hosts "$KH" -- \
	--ssh-key "$K/wrong" --ssh-known-hosts "$KH"
bad missing "no such file" \
	--ssh-key "$K/id" --ssh-known-hosts "$KH" -- \
	--ssh-key "$K/id" --ssh-known-hosts "$KH"
[ ! -s "$T/kh-empty" ] && cmp -s "$T/kh-changed" "$T/kh-changed.before" &&
	cmp -s "$KH" "$T/kh.before" && [ ! -e "$HOME/.ssh/known_hosts" ] ||
	fail "a known_hosts file was written to"
echo "no host key was added anywhere"

# --- a pool worker: one session for every file and task, nothing on its disk ------
export SCANQ_SSH_KEY="$K/id" SCANQ_SSH_KNOWN_HOSTS="$KH"
acq pool
write_task "$T/tasks/pool" g p1 "$URL/a.mp4" "$URL/b.mp4"
write_task "$T/tasks/pool" g p2 "$URL/a.mp4" "$URL/b.mp4"
write_task "$T/tasks/pool" g p3 "$URL/big.mp4"
scanq-enqueue "$T/tasks/pool" >/dev/null || fail "cannot enqueue the pool tasks"
# sample SID: sizes and names of the files written under $T (the server's side
# aside) and of every regular file the session's processes hold open
sample() {
	find "$T" \( -path "$R" -o -path "$S" -o -path "$T/redis" -o -path "$T/disk.seen" \) \
		-prune -o -type f \
		-newer "$T/mark" -printf '%s %p\n' 2>/dev/null || true
	for p in $(pgrep -s "$1" 2>/dev/null || true); do
		for fd in /proc/"$p"/fd/*; do
			[ -f "$fd" ] && echo "$(stat -L -c %s "$fd" 2>/dev/null) $(readlink "$fd")"
		done
	done 2>/dev/null || true
}
touch "$T/mark"
sleep 1 # a whole second older than anything the run writes
n0=$(accepted)
mkdir -p "$T/wtmp" # a temporary file would land in the sample's sight
TMPDIR="$T/wtmp" setsid scanq-worker --stage extract --acq pool -n 1 --drain >"$T/pool.log" 2>&1 &
POOL=$!
SESSIONS="$SESSIONS $POOL"
while kill -0 $POOL 2>/dev/null; do
	sample $POOL >>"$T/disk.seen"
	sleep 0.2
done
wait $POOL || fail "pool worker failed: $(cat "$T/pool.log")"
SESSIONS=""
[ "$(stage_count pool extract done)" = 3 ] || fail "pool: not 3 done: $(cat "$T/pool.log")"
conns=$(($(accepted) - n0))
[ $conns -eq 1 ] || fail "the worker opened $conns sessions for 5 files in 3 tasks, want 1"
same "$T/out/pool/g/p1/frames" "$REF"
same "$T/out/pool/g/p2/frames" "$REF"
same "$T/out/pool/g/p3/frames" "$REFBIG"
frame=$(find "$T/out/pool" -name 'frame_*.jpg' -printf '%s\n' | sort -n | tail -1)
big=$(sort -n "$T/disk.seen" | tail -1)
[ "${big%% *}" -le "$frame" ] || fail "the worker had a file of ${big%% *} bytes, more than a frame ($frame): $big"
echo "pool: 3 tasks, 5 files, 1 session; largest file on the worker's side: $big (a frame: <= $frame B)"

# --- a connection killed mid-transfer: re-opened, the read resumes ---------------
# The extracting process is stopped at its first frame while its connection
# dies, so the kill lands mid-transfer: the task reads big.mp4 three times
# over (three chapters, three files open on one session), seconds of work.
BIG3="$URL/big.mp4 $URL/big.mp4 $URL/big.mp4"
acq resume
# shellcheck disable=SC2086 # one argument per chapter
write_task "$T/tasks/resume" g resume $BIG3
# first_frame OUT: the pid extracting into OUT's work folder
# (extract.tmp.HOST-PID/frames), once a frame is there
first_frame() {
	_end=$(($(date +%s) + 60))
	until ls -d "$1"/extract.tmp.*/frames/frame_000001.jpg >/dev/null 2>&1; do
		[ "$(date +%s)" -lt "$_end" ] || fail "extraction into $1 never started"
		sleep 0.02
	done
	_f=$(ls -d "$1"/extract.tmp.* | head -1)
	echo "${_f##*-}"
}
# pause_at_first_frame OUT: stops the process extracting into OUT once it has
# written a frame; sets WPID
pause_at_first_frame() {
	WPID=$(first_frame "$1")
	[ -n "$WPID" ] && kill -STOP "$WPID" || fail "no extracting process for $1"
}
n0=$(accepted)
local_extract resume &
LOCAL=$!
pause_at_first_frame "$T/out/resume/g/resume"
# shellcheck disable=SC2046
kill -KILL $(sshd_tree "$SSHD_PID")
sleep 0.5
kill -CONT "$WPID"
wait $LOCAL || fail "resume: extraction failed: $(cat "$T/resume.log")"
same "$T/out/resume/g/resume/frames" "$REFBIG3"
conns=$(($(accepted) - n0))
[ $conns -eq 2 ] || fail "resume: $conns sessions, want 2 (the first, one reconnection)"
echo "connection killed mid-transfer: reconnected once, frames equal the local extraction"

# --- sshd killed and started again: the task completes on retry ------------------
SCANQ_TEST_ATTEMPTS=10 acq restart
# shellcheck disable=SC2086 # one argument per chapter
write_task "$T/tasks/restart" g restart $BIG3
scanq-enqueue "$T/tasks/restart" >/dev/null || fail "cannot enqueue restart"
setsid scanq-worker --stage extract --acq restart -n 1 --drain >"$T/restart.log" 2>&1 &
POOL=$!
SESSIONS="$SESSIONS $POOL"
pause_at_first_frame "$T/out/restart/g/restart"
stop_sshd
kill -CONT "$WPID"
sleep 1
start_sshd
timeout 120 sh -c "while kill -0 $POOL 2>/dev/null; do sleep 0.2; done" || fail "restart: pool hung"
wait $POOL || fail "restart: pool failed: $(cat "$T/restart.log")"
SESSIONS=""
grep -q "failed, will retry: cannot read '$URL/big.mp4': connection lost" "$T/restart.log" ||
	fail "restart: no failed attempt for the lost connection: $(cat "$T/restart.log")"
[ "$(stage_count restart extract done)" = 1 ] || fail "restart: not done: $(cat "$T/restart.log")"
same "$T/out/restart/g/restart/frames" "$REFBIG3"
echo "sshd restarted: $(grep -c "failed, will retry" "$T/restart.log") failed attempts, then done, frames equal; first: $(grep -o "failed, will retry.*" "$T/restart.log" | head -1)"

# --- a server that goes silent: the attempt fails within the stall timeout --------
acq stall
# shellcheck disable=SC2086 # one argument per chapter
write_task "$T/tasks/stall" g stall $BIG3
export SCANQ_STALL_TIMEOUT_MS=2000
local_extract stall &
LOCAL=$!
pause_at_first_frame "$T/out/stall/g/stall"
server=$(sshd_tree "$SSHD_PID")
# shellcheck disable=SC2086
kill -STOP $server
t0=$(date +%s)
kill -CONT "$WPID"
rc=0
wait $LOCAL || rc=$?
took=$(($(date +%s) - t0))
# shellcheck disable=SC2086
kill -CONT $server 2>/dev/null || true
unset SCANQ_STALL_TIMEOUT_MS
[ $rc -ne 0 ] || fail "stall: extraction succeeded against a stopped server"
grep -q "cannot read '$URL/big.mp4': no data for 2000 ms (stalled)" "$T/stall.log" ||
	fail "stall: $(cat "$T/stall.log")"
[ $took -le 15 ] || fail "stall: took $took s to give up, the timeout is 2 s"
[ ! -e "$T/out/stall/g/stall/frames.json" ] || fail "stall: frames.json written"
echo "stalled server: gave up after ${took}s: $(grep -o "cannot read.*" "$T/stall.log")"

# --- a worker told to stop while its read waits on a silent server: it hands
# the task back at once, not after the (default, 30 s) stall timeout
acq cancel
# shellcheck disable=SC2086 # one argument per chapter
write_task "$T/tasks/cancel" g cancel $BIG3
scanq-enqueue "$T/tasks/cancel" >/dev/null || fail "cannot enqueue cancel"
setsid scanq-worker --stage extract --acq cancel -n 1 --grace 1s >"$T/cancel.log" 2>&1 &
POOL=$!
SESSIONS="$SESSIONS $POOL"
pause_at_first_frame "$T/out/cancel/g/cancel"
server=$(sshd_tree "$SSHD_PID")
# shellcheck disable=SC2086
kill -STOP $server
kill -CONT "$WPID"
sleep 1
t0=$(date +%s)
kill -TERM $POOL
rc=0
wait $POOL || rc=$?
SESSIONS=""
took=$(($(date +%s) - t0))
# shellcheck disable=SC2086
kill -CONT $server 2>/dev/null || true
[ $rc -eq 0 ] || fail "cancel: worker exited $rc: $(cat "$T/cancel.log")"
grep -q "handed back" "$T/cancel.log" || fail "cancel: not handed back: $(cat "$T/cancel.log")"
[ $took -le 8 ] || fail "cancel: the worker took $took s to stop (grace 1 s)"
echo "stop while the server is silent: handed back after ${took}s"
echo "sftp: ok"
