/* hash.h - content hashing (SHA-256 from OpenSSL's libcrypto, wrapped here once). */
#ifndef SQ_HASH_H
#define SQ_HASH_H

#include <stddef.h>

#define SQ_HASH_HEX_LEN 64

/* Writes the SHA-256 of data as 64 lowercase hex digits + NUL into hex_out. */
void sq_hash_sha256_hex(const void *data, size_t len, char hex_out[SQ_HASH_HEX_LEN + 1]);

#endif
