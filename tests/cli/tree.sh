# tree.sh - a backend's whole process tree ends with its attempt: after a timeout
# and after a cancel (a worker told to stop hands the job back), nothing the
# backend started is left, even what left its process group (setsid) or was
# re-parented (a double fork).
. "$SCANQ_TESTS/cli/common.sh"

make_videos "$T/survey" 1 1
# the backend (given {output}: <outdir>/<tmp>/reconstruction.ply): a setsid
# child (a) and a double-forked setsid grandchild (b), each writing its pid to
# $T/pids/<task>/, then it sleeps until it is stopped
mkdir -p "$T/tasks" "$T/pids"
cat >"$T/backend.sh" <<EOS
#!/bin/sh
d="$T/pids/\$(basename "\$(dirname "\$(dirname "\$1")")")"
mkdir -p "\$d"
setsid sleep 1000 & echo \$! >"\$d/a.pid"
( setsid sleep 1000 & echo \$! >"\$d/b.pid" )
sleep 1000
EOS
chmod +x "$T/backend.sh"
cat >"$T/tasks/acquisition.yaml" <<EOY
acquisition: tree
output_root: $T/out
extract: { fps: 2, width: 160, height: -1, quality: 5 }
reconstruct:
  backend: command
  command: [$T/backend.sh, "{output}"]
  timeout: 3s
stitch: { backend: builtin }
retry: { max_attempts: 1, backoff: 100ms }
EOY
write_task "$T/tasks" g timeout "$T/survey/videos/auv1-ch01.mp4"
scanq-enqueue "$T/tasks" >/dev/null || fail "enqueue"
scanq-worker --stage extract --drain 2>"$T/x.log" || fail "extract: $(cat "$T/x.log")"

# all_gone TASK: no process whose pid the backend of TASK wrote is left
all_gone() {
	_n=0 _left=""
	for _f in "$T/pids/$1"/*.pid; do
		[ -s "$_f" ] || continue
		_n=$((_n + 1))
		if kill -0 "$(cat "$_f")" 2>/dev/null; then
			kill -KILL "$(cat "$_f")" # its own session: run-test would not end it
			_left="$_left $(basename "$_f" .pid)"
		fi
	done
	[ -z "$_left" ] || fail "$1: outlived the backend:$_left"
	[ $_n = 2 ] || fail "$1: the backend wrote $_n pid files, expected 2"
}

# 1: the backend's timeout
rc=0
scanq-worker --stage reconstruct --drain 2>"$T/w1.log" || rc=$?
grep -q "timed out after 3 s" "$T/w1.log" || fail "no timeout: $(cat "$T/w1.log")"
all_gone timeout
echo "timeout: the whole tree is gone"

# 2: a cancel: the worker is stopped twice while the backend runs, so the job is
# handed back at once and the backend cancelled
write_task "$T/tasks" g cancel "$T/survey/videos/auv1-ch01.mp4"
sed -i 's/timeout: 3s/timeout: 10m/' "$T/tasks/acquisition.yaml"
scanq-enqueue "$T/tasks" >/dev/null || fail "enqueue 2"
scanq-worker --stage extract --drain 2>"$T/x2.log" || fail "extract 2: $(cat "$T/x2.log")"
scanq-worker --stage reconstruct --acq tree 2>"$T/w2.log" &
W=$!
wait_for 60 test -s "$T/pids/cancel/b.pid" ||
	fail "the backend did not start: $(cat "$T/w2.log")"
kill -TERM $W
sleep 0.5
kill -TERM $W
wait $W || fail "worker exit after two signals"
grep -q "handed back" "$T/w2.log" || fail "not handed back: $(cat "$T/w2.log")"
all_gone cancel
echo "cancel: the whole tree is gone"
