/* media_write.c - scaling, JPEG encoding and writing on a thread of their own.
 *
 * The decoding thread hands each output frame (a reference, not a copy) to a
 * small bounded queue; one writer thread takes them in order and runs
 * media_jpeg.c on them, so decoding goes on while a picture is scaled, encoded
 * and written. The queue is short on purpose: every entry pins a decoded
 * picture, and memory must not grow with the video. The first failure (a full
 * disk) is kept; the decoding thread sees it at its next push and stops. */
#include "media/media_internal.h"

#include <string.h>

#include "base/banned.h"

static void *writer_main(void *arg)
{
	struct sq_media_writer *w = arg;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		struct sq_err err = {0};
		AVFrame *f;
		long long seq;
		int rc;

		while (w->n == 0 && !w->closing && !w->stop)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->stop || w->failed || w->n == 0)
			break;
		f = w->q[w->head].frame;
		seq = w->q[w->head].seq;
		pthread_mutex_unlock(&w->mu);
		rc = sq_media_jpeg_write(w->jpeg, f, seq, &err);
		pthread_mutex_lock(&w->mu);
		av_frame_free(&w->q[w->head].frame);
		w->head = (w->head + 1) % SQ_MEDIA_WRITE_QUEUE;
		w->n--;
		if (rc < 0) {
			w->failed = 1;
			w->err = err;
		} else {
			w->done++;
		}
		pthread_cond_broadcast(&w->cv);
	}
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

int sq_media_writer_start(struct sq_media_writer *w, struct sq_media_jpeg *jpeg, struct sq_err *err)
{
	memset(w, 0, sizeof(*w));
	w->jpeg = jpeg;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
		pthread_cond_destroy(&w->cv);
		pthread_mutex_destroy(&w->mu);
		return sq_error(err, SQ_ERR_IO, "cannot start the frame writer thread");
	}
	w->started = 1;
	return 0;
}

int sq_media_writer_push(struct sq_media_writer *w, const AVFrame *frame, long long seq,
			 struct sq_err *err)
{
	AVFrame *ref = av_frame_clone(frame);
	int rc = 0;

	if (!ref)
		return sq_error(err, SQ_ERR_MEDIA, "out of memory holding a frame");
	pthread_mutex_lock(&w->mu);
	while (w->n == SQ_MEDIA_WRITE_QUEUE && !w->failed)
		pthread_cond_wait(&w->cv, &w->mu);
	if (w->failed) {
		if (err)
			*err = w->err;
		rc = -1;
		av_frame_free(&ref);
	} else {
		w->q[(w->head + w->n) % SQ_MEDIA_WRITE_QUEUE].frame = ref;
		w->q[(w->head + w->n) % SQ_MEDIA_WRITE_QUEUE].seq = seq;
		w->n++;
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return rc;
}

size_t sq_media_writer_done(struct sq_media_writer *w)
{
	size_t done;

	pthread_mutex_lock(&w->mu);
	done = w->done;
	pthread_mutex_unlock(&w->mu);
	return done;
}

/* Ends the thread: after what is queued (drain) or at once, dropping it. */
static int stop_thread(struct sq_media_writer *w, int drain, struct sq_err *err)
{
	int rc = 0;

	if (!w->started)
		return 0;
	pthread_mutex_lock(&w->mu);
	w->closing = 1;
	w->stop = !drain;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	w->started = 0;
	if (w->failed) {
		if (err)
			*err = w->err;
		rc = -1;
	}
	for (; w->n > 0; w->n--) {
		av_frame_free(&w->q[w->head].frame);
		w->head = (w->head + 1) % SQ_MEDIA_WRITE_QUEUE;
	}
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	return rc;
}

int sq_media_writer_finish(struct sq_media_writer *w, struct sq_err *err)
{
	return stop_thread(w, 1, err);
}

void sq_media_writer_abort(struct sq_media_writer *w)
{
	stop_thread(w, 0, NULL);
}
