/* version.h - which scanq this is, for records and --version. */
#ifndef SQ_VERSION_H
#define SQ_VERSION_H

/* "0.1.0 (v0.1.0-57-gabc1234)": the project version and, when the build came
 * from a git checkout, what `git describe --always --dirty` said at build
 * time. Static storage. */
const char *sq_version(void);

#endif
