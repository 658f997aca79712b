/* proctree.h - whole process trees: every descendant of a backend, found and ended.
 *
 * A process group is not a tree: a descendant that calls setsid() or setpgid()
 * leaves it, and one whose parent exits (a double fork) is re-parented, to init
 * unless some ancestor is a child subreaper. So while a backend runs, the
 * process running it is a child subreaper (PR_SET_CHILD_SUBREAPER): every
 * descendant that detaches is re-parented to it instead of escaping, and its
 * tree is read from /proc (each process's parent and start time).
 *
 * The tree of a backend whose leader is L, seen from the process P running it:
 * every process whose chain of parents reaches L, and every process whose
 * chain reaches P through a child of P that P adopted during the run (started
 * no earlier than L, and not the leader of another run of P). P's own other
 * children (started before the run, such as an ssh ProxyCommand) are not in
 * it. Runs in several threads of one process at once would end each other's
 * adopted processes early; scanq runs one backend at a time per process.
 *
 * Why not a cgroup: it is exact, but needs a delegated, writable cgroup (a
 * systemd user slice, root), which a worker cannot count on; a subreaper needs
 * no privilege and no setup (Linux >= 3.4). Why not a PID namespace: creating
 * one unprivileged needs user namespaces, often disabled in containers. What a
 * subreaper cannot catch: a process that leaves the tree by other means (a
 * daemon started through systemd or at, a setuid helper), and a process stuck
 * in uninterruptible sleep, which SIGKILL ends only when it wakes. */
#ifndef SQ_PROCTREE_H
#define SQ_PROCTREE_H

#include <stddef.h>
#include <sys/types.h>

/* Before forking a backend: makes the calling process a child subreaper while
 * runs are in progress (counted across threads; a process that was one before
 * stays one). */
void sq_proctree_enter(void);

/* After the fork: leader is a run in progress (its tree is its own). */
void sq_proctree_started(pid_t leader);

/* After the leader is reaped (leader 0: the fork failed): ends what enter and
 * started began. */
void sq_proctree_leave(pid_t leader);

/* Sends sig to every process of leader's tree other than leader itself (the
 * caller signals the leader's group). Returns how many were signalled. */
int sq_proctree_signal(pid_t leader, int sig);

/* SIGKILLs every process of leader's tree other than leader, again and again
 * (a process forking meanwhile is caught next round), reaping those that are
 * the caller's children, until none is left or timeout_ms has passed; leader
 * must still be unreaped (its start time anchors the tree). Returns how many
 * are left: 0 when the tree is gone. */
int sq_proctree_kill(pid_t leader, long long timeout_ms);

/* For a supervisor (a child subreaper) whose worker died: SIGKILLs every
 * descendant of the calling process except the children in keep[] and their
 * descendants, reaping its own, as sq_proctree_kill does. Returns how many are
 * left. */
int sq_proctree_kill_strays(const pid_t *keep, size_t nkeep, long long timeout_ms);

#endif
