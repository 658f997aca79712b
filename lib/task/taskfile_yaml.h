/* taskfile_yaml.h - what the schema walker (taskfile_schema.c) and the value
 * checkers (taskfile_check.c) share: a key of the schema, the state of one
 * file being read, and the YAML node helpers. Private to those two files. */
#ifndef SQ_TASKFILE_YAML_H
#define SQ_TASKFILE_YAML_H

#include "task/taskfile.h"
#include "task/taskfile_value.h"

#include <stddef.h>
#include <yaml.h>

enum type {
	T_SECTION, /* a map of further keys */
	T_NAME,
	T_PATH,
	T_VIDEOS,
	T_FPS,
	T_SIZE, /* integer in range, or -1 */
	T_INT,
	T_BACKEND,
	T_ARGV,
	T_DURATION,
	T_DONE_WHEN,
	T_BYTES,   /* integer, optionally with a k, M or G suffix (KiB, MiB, GiB) */
	T_CHOICE,  /* one word of `choices` */
	T_NUMBERS, /* a non-empty list of finite numbers */
};

#define UNBOUNDED (1LL << 40)

struct key {
	enum sq_tf_section sec; /* the map the key belongs to */
	const char *name;
	enum type type;
	int field;		    /* enum sq_tf_field; T_SECTION: the section it opens */
	long long min, max;	    /* T_INT, T_SIZE, T_DURATION (ms) */
	const char *const *choices; /* T_BACKEND: backends; T_ARGV, T_DONE_WHEN: placeholders */
};

struct ctx {
	yaml_document_t *doc;
	struct sq_tf_layer *l;
	struct sq_diags *d;
	char *base; /* absolute folder of the file: relative paths start here */
	int errors;
};

/* Where node n starts (1-based line and column). */
struct sq_tf_pos sq_tf_pos_of(const yaml_node_t *n);
/* 1 (the problem counted) when the file has had SQ_TASKFILE_MAX_DIAGS problems
 * reported already: one more need not be described. */
int sq_tf_muted(struct ctx *c);
/* Reports a problem at node n of the file being read. */
void sq_tf_bad(struct ctx *c, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A scalar's text, NULL for a list or map. */
const char *sq_tf_scalar(const yaml_node_t *n);
/* 1 if n is a plain (unquoted) scalar. */
int sq_tf_is_plain(const yaml_node_t *n);
/* YAML's null: an empty or ~/null plain scalar. */
int sq_tf_is_null(const yaml_node_t *n);
/* What the user wrote, for "got ...": numbers bare, text quoted (in buf). */
const char *sq_tf_describe(const yaml_node_t *n, char *buf, size_t len);

/* Numbers (taskfile_num.c). */
/* the largest numerator or denominator of a frame rate: 1000 times it still
 * fits a long long, and either part of the reduced ratio an int */
#define SQ_TF_FPS_PART_MAX 1000000000LL
/* 1 if s is a number in decimal notation (-12, 2.5, 1e-3, .5), else 0. */
int sq_tf_decimal_number(const char *s);
/* A decimal integer (optional '-', digits): 0, or -1 on anything else. */
int sq_tf_parse_ll(const char *s, long long *out);
/* A positive frame rate, "30000/1001", "3", "2.5": num/den, both at most
 * SQ_TF_FPS_PART_MAX (not reduced); -1 on anything else. */
int sq_tf_parse_rational(const char *s, long long *num, long long *den);
long long sq_tf_gcd(long long a, long long b);

/* "extract", "colmap", ... ("" for the top level). */
const char *sq_tf_section_name(enum sq_tf_section sec);

/* Checks node n as the value of key k (not a section) into v: 0, or -1 after
 * reporting why not. */
int sq_tf_check(struct ctx *c, const struct key *k, yaml_node_t *n, struct sq_tf_value *v);

#endif
