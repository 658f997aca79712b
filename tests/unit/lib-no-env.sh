#!/bin/sh
# lib-no-env.sh LIBDIR - fails if lib/ reads or changes the environment.
#
# Settings reach lib/ in option structs that the programs fill from their flags
# and SCANQ_* variables (lib/base/options.h); lib/ itself calls no getenv,
# setenv, unsetenv, putenv or clearenv. (A backend still inherits the worker's
# environment: proc.c hands `environ` to execvpe, which reads nothing from it.)
set -eu
lib=${1:?usage: lib-no-env.sh LIBDIR}
[ -d "$lib/base" ] || { echo "not the lib folder: $lib" >&2; exit 2; }
found=$(grep -rnE '\b(secure_)?getenv[[:space:]]*\(|\b(set|unset|put|clear)env[[:space:]]*\(' \
	--include='*.c' --include='*.h' "$lib" || true)
if [ -n "$found" ]; then
	echo "lib/ must not touch the environment (pass an option instead):" >&2
	echo "$found" >&2
	exit 1
fi
echo "lib/ touches no environment variable"
