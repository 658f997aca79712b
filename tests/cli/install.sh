# install.sh - `meson install --destdir` lays out the programs, a man page for
# each and the worker's systemd unit; the unit passes `systemd-analyze verify`
# where systemd-analyze is available (its warnings count as failures: it exits
# 0 on most of them, so a bad unit is also shown to fail).
. "$SCANQ_TESTS/cli/common.sh"
D="$T/dest"
meson install -C "$SCANQ_BUILD" --no-rebuild --destdir "$D" >"$T/install.log" 2>&1 ||
	fail "meson install: $(tail -5 "$T/install.log")"
opt() {
	meson introspect "$SCANQ_BUILD" --buildoptions | jq -r --arg n "$1" '.[] | select(.name == $n) | .value'
}
prefix=$(opt prefix) bindir=$(opt bindir) mandir=$(opt mandir) unitdir=$(opt systemdunitdir)
case $bindir in /*) ;; *) bindir="$prefix/$bindir" ;; esac
case $mandir in /*) ;; *) mandir="$prefix/$mandir" ;; esac
[ -n "$unitdir" ] || unitdir="$prefix/lib/systemd/system"

for p in scanq-enqueue scanq-worker scanq-status scanq-repair scanq-ctl; do
	[ -x "$D$bindir/$p" ] || fail "$p not installed in $bindir"
	"$D$bindir/$p" --help >"$T/help" 2>&1 || fail "installed $p --help: $(cat "$T/help")"
	m="$D$mandir/man1/$p.1"
	[ -s "$m" ] || fail "no man page $mandir/man1/$p.1"
	grep -q "^\\.TH \"$p\" \"1\"" "$m" || fail "$p.1 is not a man page: $(head -3 "$m")"
	if command -v man >/dev/null; then
		MANWIDTH=80 man -l "$m" 2>/dev/null | grep -q "^NAME" || fail "$p.1 does not render"
	fi
done
echo "programs and man pages installed under $prefix"

u="$D$unitdir/scanq-worker@.service"
[ -s "$u" ] || fail "no unit $unitdir/scanq-worker@.service"
grep -qx "ExecStart=$bindir/scanq-worker \$SCANQ_WORKER_ARGS" "$u" || fail "the unit does not start $bindir/scanq-worker"
grep -qx "EnvironmentFile=/etc/scanq/%i.env" "$u" || fail "the unit does not read /etc/scanq/%i.env"
grep -qx "KillMode=mixed" "$u" || fail "the unit kills more than the supervisor on stop"
[ -s "$D$prefix/share/doc/scanq/scanq-worker.env.example" ] || fail "no example environment file"

if ! command -v systemd-analyze >/dev/null; then
	echo "systemd-analyze not here: the unit's syntax is not verified"
	exit 0
fi
# verify CHECKDIR UNITFILE: systemd-analyze's output on a copy whose program is
# the installed one in $D (it checks the program exists) and whose man page is
# found there
verify() {
	mkdir -p "$1"
	sed "s|^ExecStart=$bindir/|ExecStart=$D$bindir/|" "$2" >"$1/scanq-worker@.service"
	MANPATH="$D$mandir" systemd-analyze verify "$1/scanq-worker@.service" 2>&1
}
out=$(verify "$T/verify" "$u") || fail "systemd-analyze verify failed: $out"
[ -z "$out" ] || fail "systemd-analyze verify: $out"
sed 's/^KillMode=mixed/KillMode=softly/' "$u" >"$T/bad.service"
out=$(verify "$T/verify-bad" "$T/bad.service") || true
[ -n "$out" ] || fail "systemd-analyze verify says nothing about a bad KillMode: this check is blind"
echo "scanq-worker@.service passes systemd-analyze verify"
