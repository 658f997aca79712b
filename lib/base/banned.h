/* banned.h - functions scanq code must not call.
 *
 * Included LAST (after system headers) by every lib/ and program .c, so a use of one
 * of these is a compile error naming the safer replacement. */
#ifndef SQ_BANNED_H
#define SQ_BANNED_H

#define SQ_BANNED(func) sorry_##func##_is_banned_in_scanq

#undef strcpy
#define strcpy(x, y) SQ_BANNED(strcpy) /* use snprintf or sq_strbuf */
#undef strcat
#define strcat(x, y) SQ_BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) SQ_BANNED(strncpy)
#undef sprintf
#define sprintf(...) SQ_BANNED(sprintf) /* use snprintf */
#undef vsprintf
#define vsprintf(...) SQ_BANNED(vsprintf)
#undef strtok
#define strtok(x, y) SQ_BANNED(strtok) /* use strtok_r or explicit parsing */
#undef gets
#define gets(x) SQ_BANNED(gets)
#undef atoi
#define atoi(x) SQ_BANNED(atoi) /* use strtol with end and range checks */

#endif
