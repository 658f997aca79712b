#!/usr/bin/env python3
"""Embed lib/queue/lua/*.lua as C strings: lua_scripts.c + lua_scripts.h.

The helpers are, in this order: the job states of lib/queue/job_state.h (its
SQ_JOB_STATES list, turned into `local ST_<NAME> = '<name>'` and the set
JOB_STATES) and the task argument offsets of lib/queue/task_args.h
(`local TA_<NAME> = <offset>`, TA_COUNT), then the files of lua/lib/ in the order given on the command
line (a definition may only use those before it). Every other .lua is a
script.

Two forms of the same scripts:
- sq_lua_library: one Redis Functions library (Redis >= 7, FCALL), in which
  the helpers are built once at FUNCTION LOAD;
- sq_lua_<script>: each script alone for EVAL/EVALSHA (Redis 6.2, or a server
  refusing functions), with, prepended, only the top-level definitions of
  the helpers it uses (directly or through another helper), in their
  order: Redis runs the whole body, prelude included, on every call, so no call
  pays for building closures it never runs.
A definition is a top-level `local` statement with the comment lines just above
it, up to the next one. Usage: embed.py OUTDIR FILE.lua...
"""
import hashlib
import os
import re
import sys

IDENT = re.compile(r'[A-Za-z_][A-Za-z0-9_]*')
DEF = re.compile(r'^local\s+(?:function\s+([A-Za-z_][A-Za-z0-9_]*)|'
                 r'([A-Za-z_][A-Za-z0-9_, ]*?)\s*(?:=|$))')


def c_string(text):
    out = []
    for line in text.splitlines(True):
        esc = line.replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\n')
        out.append('\t"%s"' % esc)
    return '\n'.join(out) if out else '\t""'


def split_defs(common):
    """[(names, text)] for every top-level definition of the helpers. Its body is
    indented, so a line at column 0 is either a new `local`, a comment (kept
    with the definition below it), or the definition's closing `end`."""
    defs, pending = [], []
    for line in common.splitlines(True):
        m = DEF.match(line)
        if m:
            names = [m.group(1)] if m.group(1) else [n.strip() for n in m.group(2).split(',')]
            defs.append((names, [''.join(pending), line]))
            pending = []
        elif line.startswith('--') or pending:
            pending.append(line)
        elif defs:
            defs[-1][1].append(line)
    return [(names, ''.join(parts)) for names, parts in defs]


def code_words(text):
    """The identifiers of Lua text outside comments and string literals (a
    helper only named in a comment or a message is not needed)."""
    i, n = 0, len(text)
    code = []
    while i < n:
        c = text[i]
        if text.startswith('--', i):
            j = text.find('\n', i)
            i = n if j < 0 else j
        elif c in '\'"':
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == '\\' else 1
            code.append(' ')
            i = j + 1
        else:
            code.append(c)
            i += 1
    return IDENT.findall(''.join(code))


def prelude(defs, body):
    """The definitions body needs, transitively, in their original order."""
    owner = {}
    for i, (names, _) in enumerate(defs):
        for n in names:
            owner[n] = i
    want, todo = set(), [body]
    while todo:
        for word in code_words(todo.pop()):
            i = owner.get(word)
            if i is not None and i not in want:
                want.add(i)
                todo.append(defs[i][1])
    return ''.join(defs[i][1] for i in sorted(want))


def library(defs, scripts):
    """The scripts as one Redis Functions library (Redis >= 7): the helpers'
    definitions are built once, at FUNCTION LOAD, instead of on every call.
    ARGV and P are per-call upvalues the registered callbacks set. Returns
    (name, code); the name carries a hash of the code, so scanq builds with
    different scripts never call each other's."""
    parts = ['local ARGV, P\n']
    for names, text in defs:
        if names != ['P']:
            parts.append(text)
    for name, body in scripts:
        parts.append('\nlocal function script_%s()\n%s\nend\n' % (name, body))
    code = ''.join(parts)
    lib = 'scanq_' + hashlib.sha1(code.encode('utf-8')).hexdigest()[:12]
    for name, _ in scripts:
        code += ("redis.register_function('%s_%s', function(_, args)\n"
                 "\tARGV, P = args, args[1]\n\treturn script_%s()\nend)\n" % (lib, name, name))
    return lib, '#!lua name=%s\n%s' % (lib, code)


STATE = re.compile(r'X\(([A-Z_]+),\s*"([a-z_]+)"\)')


def states_lua(header):
    """The job states of job_state.h as Lua definitions."""
    states = STATE.findall(header)
    if not states:
        sys.exit('embed.py: no SQ_JOB_STATES entries in the job state header')
    out = ['-- job states, from lib/queue/job_state.h (SQ_JOB_STATES)\n']
    for name, text in states:
        out.append("local ST_%s = '%s'\n" % (name, text))
    out.append('-- every state a job may be in\n')
    out.append('local JOB_STATES = {%s}\n' % ', '.join('[ST_%s] = true' % n for n, _ in states))
    return ''.join(out)


ARG = re.compile(r'X\(([A-Z_]+)\)')


def task_args_lua(header):
    """The task argument offsets of task_args.h as Lua definitions."""
    names = ARG.findall(header[header.index('SQ_TASK_ARGS(X)'):])
    out = ['-- task argument offsets, from lib/queue/task_args.h (SQ_TASK_ARGS)\n']
    for i, name in enumerate(names):
        out.append('local TA_%s = %d\n' % (name, i))
    out.append('local TA_COUNT = %d\n' % len(names))
    return ''.join(out)


def main():
    outdir, paths = sys.argv[1], sys.argv[2:]
    helpers = []
    scripts = []
    for p in paths:
        name = os.path.splitext(os.path.basename(p))[0]
        with open(p, encoding='utf-8') as f:
            body = f.read()
        if p.endswith('.h'):
            helpers.insert(0, task_args_lua(body) if 'SQ_TASK_ARGS' in body
                           else states_lua(body))
        elif os.path.basename(os.path.dirname(p)) == 'lib':
            helpers.append(body)
        else:
            scripts.append((name, body))
    common = ''.join(helpers)
    defs = split_defs(common)
    lib, code = library(defs, scripts)
    with open(os.path.join(outdir, 'lua_scripts.h'), 'w') as h:
        h.write('/* generated by lib/queue/lua/embed.py - do not edit */\n')
        h.write('#ifndef SQ_LUA_SCRIPTS_H\n#define SQ_LUA_SCRIPTS_H\n')
        h.write('/* Redis Functions library holding every script as <name>_<script> */\n')
        h.write('#define SQ_LUA_LIBRARY_NAME "%s"\n' % lib)
        h.write('extern const char sq_lua_library[];\n')
        for name, _ in scripts:
            h.write('extern const char sq_lua_%s[];\n' % name)
        h.write('#endif\n')
    with open(os.path.join(outdir, 'lua_scripts.c'), 'w') as c:
        c.write('/* generated by lib/queue/lua/embed.py - do not edit */\n')
        c.write('#include "lua_scripts.h"\n')
        c.write('const char sq_lua_library[] =\n%s;\n' % c_string(code))
        for name, body in scripts:
            text = prelude(defs, body) + '\n' + body
            c.write('const char sq_lua_%s[] =\n%s;\n' % (name, c_string(text)))


if __name__ == '__main__':
    main()
