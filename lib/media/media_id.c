/* media_id.c - identities for provenance: the libav libraries this build runs
 * with, and a source video's identity (see struct sq_video_id). */
#include "media/media.h"
#include "base/hash.h"
#include "base/xalloc.h"
#include "media/sftp.h"

#include <errno.h>
#include <fcntl.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libswscale/swscale.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/banned.h"

static char version[128];
static pthread_once_t version_once = PTHREAD_ONCE_INIT;

static void v3(char *buf, size_t len, const char *name, unsigned v)
{
	snprintf(buf, len, "%s %u.%u.%u", name, v >> 16, (v >> 8) & 0xff, v & 0xff);
}

static void make_version(void)
{
	char f[40], c[40], s[40];

	v3(f, sizeof(f), "libavformat", avformat_version());
	v3(c, sizeof(c), "libavcodec", avcodec_version());
	v3(s, sizeof(s), "libswscale", swscale_version());
	snprintf(version, sizeof(version), "%s, %s, %s", f, c, s);
}

const char *sq_media_version(void)
{
	pthread_once(&version_once, make_version);
	return version;
}
