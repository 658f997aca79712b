# status.sh - scanq-status on its own: --once and --json output, options and exit
# codes, an unreachable Redis, and the live view in a real terminal (tmux): it
# draws, quits on q, Ctrl-C and SIGTERM, keeps retrying without Redis, and
# always gives the terminal back as it found it.
. "$SCANQ_TESTS/cli/common.sh"

# --- once / json / options ---
scanq-status --help >"$T/help.txt" || fail "--help exit $?"
grep -q "^usage: scanq-status" "$T/help.txt" || fail "--help text"

set +e
scanq-status --bogus >/dev/null 2>"$T/err.txt"; rc=$?
[ $rc = 2 ] || fail "bad option: exit $rc, expected 2"
grep -q "^scanq-status: unknown option '--bogus'" "$T/err.txt" || fail "bad option: $(cat "$T/err.txt")"
scanq-status --interval soon --once >/dev/null 2>&1; rc=$?
[ $rc = 2 ] || fail "bad interval: exit $rc, expected 2"
scanq-status --acq 'no/slash' --once >/dev/null 2>&1; rc=$?
[ $rc = 2 ] || fail "bad acquisition name: exit $rc, expected 2"
scanq-status --once extra >/dev/null 2>&1; rc=$?
[ $rc = 2 ] || fail "stray argument: exit $rc, expected 2"
scanq-status --redis 'http://x' --once >/dev/null 2>&1; rc=$?
[ $rc = 2 ] || fail "bad url: exit $rc, expected 2"
timeout 20 scanq-status --redis unix:///nonexistent --once >"$T/out.txt" 2>"$T/err.txt"; rc=$?
[ $rc = 1 ] || fail "unreachable redis: exit $rc, expected 1"
grep -q "^scanq-status: .*nonexistent" "$T/err.txt" || fail "unreachable redis: $(cat "$T/err.txt")"
[ -s "$T/out.txt" ] && fail "unreachable redis printed a view"
SCANQ_REDIS=unix:///nonexistent timeout 20 scanq-status --json >/dev/null 2>&1; rc=$?
[ $rc = 1 ] || fail "SCANQ_REDIS not used: exit $rc, expected 1"
set -e

scanq-status --once --json >"$T/empty.json" || fail "--json on an empty redis"
python3 -m json.tool "$T/empty.json" >/dev/null || fail "--json is not JSON: $(cat "$T/empty.json")"
grep -q '"acquisitions"' "$T/empty.json" || fail "--json has no acquisitions"
# stdout is not a terminal: the view once, like --once
timeout 20 scanq-status >"$T/view.txt" || fail "view to a file: exit $?"
grep -q "^no acquisitions" "$T/view.txt" || fail "empty view: $(cat "$T/view.txt")"
grep -q "^workers: none registered" "$T/view.txt" || fail "empty view workers"

# the prefix separates deployments (P acqs is the registry status reads)
rcli sadd "site1:acqs" demo >/dev/null
SCANQ_PREFIX=site1: scanq-status --once >"$T/view.txt"
grep -q "^demo  0 tasks in 0 groups" "$T/view.txt" || fail "SCANQ_PREFIX: $(cat "$T/view.txt")"
scanq-status --once --prefix site2: >"$T/view.txt"
grep -q "^no acquisitions" "$T/view.txt" || fail "--prefix: $(cat "$T/view.txt")"
scanq-status --once --json --prefix site1: --acq demo | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert [a["name"] for a in d["acquisitions"]] == ["demo"], d
' || fail "--json --acq"

# --- a job no live worker can take says why; a SIGKILLed worker leaves the view ---
make_videos "$T/survey" 1 1
write_acq "$T/tasks" big "$T/out"
sed -i 's/^  timeout: 2m$/  timeout: 2m\n  min_vram_mib: 20000/' "$T/tasks/acquisition.yaml"
grep -q "min_vram_mib: 20000" "$T/tasks/acquisition.yaml" || fail "test setup: no min_vram_mib"
write_task "$T/tasks" g1 t1 "$T/survey/videos/auv1-ch01.mp4"
scanq-enqueue "$T/tasks" >/dev/null || fail "enqueue"
scanq-worker -n 1 --lease 2s 2>"$T/worker.log" &
POOL=$!
want="waiting: t1 (reconstruct) needs 20000 MiB VRAM; no live worker has it"
wait_for 60 sh -c "scanq-status --once | grep -qF '$want'" ||
	fail "no reason for the job nobody can take: $(scanq-status --once)"
[ "$(status_json | jq -r '.acquisitions[] | select(.name == "big") | .blocked[0].reason')" = \
	"needs 20000 MiB VRAM; no live worker has it" ] || fail "--json has no reason"
# killed without a word: its supervisor stopped first, so nobody cleans up
kill -STOP $POOL
pids=$(status_json | jq -r '.workers[].pid')
[ -n "$pids" ] || fail "the worker never registered"
for pid in $pids; do kill -KILL "$pid"; done
kill -KILL $POOL
wait $POOL 2>/dev/null || true
sleep 3 # its lease (2 s), and a second
[ "$(status_json | jq '.workers | length')" = 0 ] ||
	fail "a SIGKILLed worker is still shown past its lease: $(scanq-status --once)"

# --- one bad entry does not kill the view ---
rcli lpush failed:big "not json at all" >/dev/null
scanq-status --once >"$T/view.txt" 2>"$T/err.txt" || fail "a non-JSON dead letter: exit $?: $(cat "$T/err.txt")"
grep -q "unreadable dead letter: 'not json at all'" "$T/view.txt" || fail "bad dead letter: $(cat "$T/view.txt")"
grep -q "warning: key 'failed:big' holds an entry that is not a dead letter" "$T/view.txt" ||
	fail "no warning for the bad dead letter: $(cat "$T/view.txt")"
scanq-status --once --json | jq -e '.acquisitions[0].dead_total == 1' >/dev/null ||
	fail "--json with a non-JSON dead letter"
rcli set delayed:big x >/dev/null
scanq-status --once >"$T/view.txt" 2>"$T/err.txt" || fail "a key of the wrong type: exit $?: $(cat "$T/err.txt")"
grep -q "warning: key 'delayed:big' is a string, not a zset" "$T/view.txt" ||
	fail "no warning for the key of the wrong type: $(cat "$T/view.txt")"
scanq-status --once --json >/dev/null || fail "--json with a key of the wrong type"
rcli flushall >/dev/null

# --- live, in a terminal ---
command -v tmux >/dev/null || fail "tmux is needed for the live-view check (apt-get install -y tmux)"
TS="$T/tmux.sock"
trap 'tmux -S "$TS" kill-server 2>/dev/null || true' EXIT

# live NAME ARGS...: runs scanq-status ARGS in a 100x30 tmux pane, recording the
# terminal modes before and after, its pid and exit status.
live() {
	_n=$1
	shift
	# the pane's shell shares the terminal's process group: it must outlive
	# the Ctrl-C meant for scanq-status (a trap, unlike '', is not inherited)
	cat >"$T/$_n.sh" <<EOF
trap : INT
stty -g >"$T/$_n.before"
sh -c 'echo \$\$ >"$T/$_n.pid"; exec scanq-status $*'
echo \$? >"$T/$_n.rc"
stty -g >"$T/$_n.after"
sleep 60
EOF
	tmux -S "$TS" new-session -d -s "$_n" -x 100 -y 30 \
		"env PATH='$PATH' SCANQ_REDIS='$SCANQ_REDIS' sh '$T/$_n.sh'"
}

# wait_for WHAT CMD...: up to 10 s for CMD to succeed.
wait_for() {
	_what=$1
	shift
	_i=0
	until "$@"; do
		_i=$((_i + 1))
		[ $_i -lt 100 ] || fail "live view: $_what"
		sleep 0.1
	done
}

pane() {
	tmux -S "$TS" capture-pane -p -t "$1"
}

pane_has() {
	pane "$1" | grep -q "$2"
}

pane_flag() {
	tmux -S "$TS" display -p -t "$1" "#{$2}"
}

# check_restored NAME: exited 0 and the terminal is as it was before
check_restored() {
	wait_for "$1 did not exit" test -s "$T/$1.rc"
	[ "$(cat "$T/$1.rc")" = 0 ] || fail "$1: exit $(cat "$T/$1.rc")"
	wait_for "$1: no stty after" test -s "$T/$1.after"
	[ "$(cat "$T/$1.before")" = "$(cat "$T/$1.after")" ] ||
		fail "$1: terminal modes not restored: $(cat "$T/$1.before") vs $(cat "$T/$1.after")"
	[ "$(pane_flag "$1" alternate_on)" = 0 ] || fail "$1: still on the alternate screen"
	[ "$(pane_flag "$1" cursor_flag)" = 1 ] || fail "$1: cursor left hidden"
}

rcli sadd acqs survey >/dev/null
live q --interval 1
wait_for "never drew" pane_has q "^workers: none registered"
pane_has q "^scanq-status  [0-9-]* [0-9:]*  every 1s  q quits  unix://" || fail "title: $(pane q)"
pane_has q "^survey  0 tasks" || fail "acquisition not shown: $(pane q)"
[ "$(pane_flag q alternate_on)" = 1 ] || fail "live view not on the alternate screen"
[ "$(pane_flag q cursor_flag)" = 0 ] || fail "cursor not hidden"
sleep 3
[ -e "$T/q.rc" ] && fail "live view exited by itself"
tmux -S "$TS" send-keys -t q q
check_restored q

live intr --interval 1
wait_for "never drew (intr)" pane_has intr "^workers:"
tmux -S "$TS" send-keys -t intr C-c
check_restored intr

live term --interval 1
wait_for "never drew (term)" pane_has term "^workers:"
kill -TERM "$(cat "$T/term.pid")"
check_restored term

# no Redis: the error is shown and retried, the view stays up until q
live nored --interval 500ms --redis unix:///nonexistent
wait_for "no error shown" pane_has nored "retrying every"
pane_has nored "nonexistent" || fail "error does not name the redis: $(pane nored)"
sleep 2
[ -e "$T/nored.rc" ] && fail "live view exited when redis was unreachable"
tmux -S "$TS" send-keys -t nored q
check_restored nored
echo "status ok"
