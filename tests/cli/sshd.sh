# tests/cli/sshd.sh - a private sshd on loopback, the storage host of tests and
# benchmarks (sourced, POSIX sh).
#
# sshd_init DIR: a host key, a client key DIR/id (authorized), a config on a
#   free port and DIR/known_hosts holding the host key; sets SSHD_DIR,
#   SSHD_PORT, SSHD_KEY, SSHD_KNOWN_HOSTS. SSHD_SFTP_SERVER, when set, is the
#   sftp subsystem's command (default internal-sftp).
# sshd_start: starts it in a session of its own (log in DIR/log), waits until
#   it listens; sets SSHD_PID.
# sshd_stop: kills it and every per-connection process under it, at once.
# sshd_tree PID: the processes below PID (sshd's per-connection ones), deepest
#   first.
SSHD_BIN=${SSHD_BIN:-/usr/sbin/sshd}

sshd_init() {
	SSHD_DIR=$1
	mkdir -p "$SSHD_DIR"
	ssh-keygen -q -t ed25519 -N '' -C scanq-test -f "$SSHD_DIR/hostkey" || return 1
	ssh-keygen -q -t ed25519 -N '' -C scanq-test -f "$SSHD_DIR/id" || return 1
	cp "$SSHD_DIR/id.pub" "$SSHD_DIR/authorized_keys"
	SSHD_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	cat >"$SSHD_DIR/config" <<EOF
Port $SSHD_PORT
ListenAddress 127.0.0.1
HostKey $SSHD_DIR/hostkey
PidFile none
AuthorizedKeysFile $SSHD_DIR/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
MaxStartups 100
Subsystem sftp ${SSHD_SFTP_SERVER:-internal-sftp}
LogLevel VERBOSE
EOF
	[ "$(id -u)" -ne 0 ] || mkdir -p /run/sshd # privilege separation
	SSHD_KEY="$SSHD_DIR/id"
	SSHD_KNOWN_HOSTS="$SSHD_DIR/known_hosts"
	echo "[127.0.0.1]:$SSHD_PORT $(cut -d' ' -f1,2 "$SSHD_DIR/hostkey.pub")" >"$SSHD_KNOWN_HOSTS"
}

sshd_start() {
	_n=$(grep -c "Server listening" "$SSHD_DIR/log" 2>/dev/null || true)
	setsid "$SSHD_BIN" -D -e -f "$SSHD_DIR/config" 2>>"$SSHD_DIR/log" &
	SSHD_PID=$!
	_i=0
	until [ "$(grep -c "Server listening" "$SSHD_DIR/log" 2>/dev/null)" -gt "${_n:-0}" ]; do
		_i=$((_i + 1))
		if [ $_i -gt 200 ]; then
			echo "sshd did not start: $(tail -5 "$SSHD_DIR/log")" >&2
			return 1
		fi
		sleep 0.05
	done
}

# sshd_tree PID: PID's descendants, deepest first
sshd_tree() (
	for _c in $(pgrep -P "$1" || true); do
		sshd_tree "$_c"
		echo "$_c"
	done
)

sshd_stop() {
	[ -n "${SSHD_PID:-}" ] || return 0
	# shellcheck disable=SC2046 # one pid per word
	kill -KILL "$SSHD_PID" $(sshd_tree "$SSHD_PID") 2>/dev/null || true
	wait "$SSHD_PID" 2>/dev/null || true
	SSHD_PID=""
}
