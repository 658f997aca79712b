# tests/lib.sh - shell helpers for scanq tests (sourced, POSIX sh).
#
# sq_redis_start DIR [redis-server args...]: private redis-server on DIR/redis.sock,
#   AOF on, no TCP port; waits until it answers PING.
# sq_redis_stop DIR: stops it (SHUTDOWN NOSAVE keeps the AOF as written).

sq_redis_start() {
	_dir=$1; shift
	redis-server --port 0 --unixsocket "$_dir/redis.sock" --unixsocketperm 700 \
		--dir "$_dir" --daemonize yes --pidfile "$_dir/redis.pid" \
		--logfile "$_dir/redis.log" --appendonly yes --save '' "$@" >/dev/null
	_i=0
	until redis-cli -s "$_dir/redis.sock" ping >/dev/null 2>&1; do
		_i=$((_i + 1))
		if [ $_i -gt 100 ]; then
			echo "redis-server did not start; log:" >&2
			cat "$_dir/redis.log" >&2
			return 1
		fi
		sleep 0.05
	done
}

sq_redis_stop() {
	_dir=$1
	[ -f "$_dir/redis.pid" ] || return 0
	_pid=$(cat "$_dir/redis.pid")
	redis-cli -s "$_dir/redis.sock" shutdown nosave >/dev/null 2>&1 || kill "$_pid" 2>/dev/null || true
	_i=0
	while kill -0 "$_pid" 2>/dev/null && [ $_i -lt 100 ]; do
		_i=$((_i + 1))
		sleep 0.05
	done
	rm -f "$_dir/redis.pid"
}
