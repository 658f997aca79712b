/* hash.c - SHA-256 through libcrypto's one-shot EVP digest. */
#include "base/hash.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include "base/banned.h"

void sq_hash_sha256_hex(const void *data, size_t len, char hex_out[SQ_HASH_HEX_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL))
		abort(); /* only fails when libcrypto itself is broken */
	for (unsigned int i = 0; i < mdlen && i < 32; i++)
		snprintf(hex_out + 2 * i, 3, "%02x", md[i]);
	hex_out[SQ_HASH_HEX_LEN] = '\0';
}
