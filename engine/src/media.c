/* The media module: the publishing pipeline upload -> transcode -> review (flywheel/media.h).
 * Invariants (media_check):
 *  - The notes in the pipeline are items base .. base + n, in submission order. done[s] is
 *    how many of them have finished stage s: done[REVIEW] <= done[TRANSCODE] <= done[UPLOAD]
 *    <= n, so stage s's queue is items done[s] .. done[s - 1] (done[-1] = n) and its head is
 *    item done[s], which has rem[s] > 0 units still to do when started, 0 when not.
 *  - Released items (done[REVIEW]) are dropped from the front once they are half the array.
 * Draws nothing; the capacities are the run's (cell 0's configuration: the knobs are RUN). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "flywheel/media.h"

#define MEDIA_DAY_SERIES(X)                                                                       \
    X(submitted, "notes", "notes that entered the upload queue on the day")                        \
    X(released, "notes", "notes that left review on the day (published)")                           \
    X(queue_upload, "notes", "notes waiting in the upload stage at the day's end")                  \
    X(queue_transcode, "notes", "notes waiting in the transcode stage at the day's end")            \
    X(queue_review, "notes", "notes waiting in the review stage at the day's end")                  \
    X(queue_upload_max, "notes", "most notes waiting in the upload stage after any tick of the day") \
    X(queue_transcode_max, "notes", "most notes waiting in the transcode stage after any tick of the day") \
    X(queue_review_max, "notes", "most notes waiting in the review stage after any tick of the day") \
    X(delay_p50, "ticks", "median publish delay (release tick - submission tick) of the day's releases; -1: none") \
    X(delay_p99, "ticks", "99th percentile (nearest rank) of that delay; -1: none")                 \
    X(delay_max, "ticks", "longest delay of the day's releases; -1: none")                          \
    X(delay_image_p50, "ticks", "median delay of the day's image notes; -1: none")                  \
    X(delay_video_p50, "ticks", "median delay of the day's video notes; -1: none")

FW_DECLARE_SERIES(MEDIA_DAY_SERIES);

typedef struct fw_media {
    uint32_t cap[FW_MEDIA__STAGES];       /* units per tick; 0 = unlimited */
    uint32_t units[2][FW_MEDIA__STAGES];  /* [format][stage] */
    uint8_t *fmt;                         /* [cap_items] */
    int32_t *tick;                        /* [cap_items] submission tick */
    size_t n, cap_items;                  /* items held (released ones at the front included) */
    size_t done[FW_MEDIA__STAGES];
    uint32_t rem[FW_MEDIA__STAGES];
    /* The day's figures. */
    int64_t submitted, released, qmax[FW_MEDIA__STAGES];
    int32_t *delay[2];                    /* the day's delays per format */
    size_t n_delay[2], cap_delay[2];
    int32_t *scratch;
    size_t cap_scratch;
} fw_media;

static int media_cfg_on(const fw_engine_cfg *c)
{
    return c->media.upload_capacity > 0 || c->media.transcode_capacity > 0 || c->media.review_capacity > 0;
}

static int media_wanted(const fw_catalog *cat, const fw_engine_cfg *cfgs, uint32_t n_cells)
{
    (void)cat;
    return n_cells > 0 && media_cfg_on(&cfgs[0]);
}

static fw_err media_create(fw_engine *e, const fw_catalog *cat, void **state)
{
    (void)cat;
    fw_media *m = *state;
    const fw_engine_cfg *c = fw_cfg(e, 0);
    m->cap[FW_MEDIA_UPLOAD] = c->media.upload_capacity;
    m->cap[FW_MEDIA_TRANSCODE] = c->media.transcode_capacity;
    m->cap[FW_MEDIA_REVIEW] = c->media.review_capacity;
    for (int s = 0; s < FW_MEDIA__STAGES; s++)
        m->units[FW_FORMAT_IMAGE][s] = 1;
    m->units[FW_FORMAT_VIDEO][FW_MEDIA_UPLOAD] = c->media.video_upload_units;
    m->units[FW_FORMAT_VIDEO][FW_MEDIA_TRANSCODE] = c->media.video_transcode_units;
    m->units[FW_FORMAT_VIDEO][FW_MEDIA_REVIEW] = c->media.video_review_units;
    /* The arrays grow with realloc; the engine frees whatever they hold. */
    if (!fw_alloc(e, &m->fmt, 0, sizeof *m->fmt) || !fw_alloc(e, &m->tick, 0, sizeof *m->tick) ||
        !fw_alloc(e, &m->delay[0], 0, sizeof *m->delay[0]) || !fw_alloc(e, &m->delay[1], 0, sizeof *m->delay[1]) ||
        !fw_alloc(e, &m->scratch, 0, sizeof *m->scratch))
        return FW_ERR_NOMEM;
    m->cap_items = m->cap_delay[0] = m->cap_delay[1] = m->cap_scratch = 1;
    return FW_OK;
}

int fw_media_on(const fw_engine *e)
{
    return e != NULL && fw_mod(e, FW_MOD_MEDIA) != NULL;
}

fw_err fw_media_submit(fw_engine *e, uint8_t format, int32_t tick)
{
    fw_media *m = e != NULL ? fw_mod(e, FW_MOD_MEDIA) : NULL;
    if (m == NULL || format > FW_FORMAT_VIDEO)
        return FW_ERR_INVAL;
    if (m->n == m->cap_items) {
        size_t c1 = m->cap_items, c2 = m->cap_items;
        if (fw_grow((void **)&m->fmt, &c1, m->n + 1, sizeof *m->fmt, 1024) ||
            fw_grow((void **)&m->tick, &c2, m->n + 1, sizeof *m->tick, 1024))
            return FW_ERR_NOMEM;
        m->cap_items = c1 < c2 ? c1 : c2;
    }
    m->fmt[m->n] = format;
    m->tick[m->n] = tick;
    m->n++;
    m->submitted++;
    return FW_OK;
}

/* Keeps one released note's delay for the day's percentiles. */
static fw_err keep_delay(fw_media *m, int f, int32_t d)
{
    if (fw_grow((void **)&m->delay[f], &m->cap_delay[f], m->n_delay[f] + 1, sizeof *m->delay[f], 256))
        return FW_ERR_NOMEM;
    m->delay[f][m->n_delay[f]++] = d;
    return FW_OK;
}

fw_err fw_media_step(fw_engine *e, int32_t tick, uint32_t *n_released)
{
    fw_media *m = e != NULL ? fw_mod(e, FW_MOD_MEDIA) : NULL;
    if (m == NULL)
        return FW_ERR_INVAL;
    size_t before = m->done[FW_MEDIA_REVIEW];
    for (int s = 0; s < FW_MEDIA__STAGES; s++) {
        size_t end = s == 0 ? m->n : m->done[s - 1];
        uint64_t budget = m->cap[s];
        while (m->done[s] < end) {
            uint32_t need = m->rem[s] ? m->rem[s] : m->units[m->fmt[m->done[s]]][s];
            if (m->cap[s] == 0 || budget >= need) {
                budget -= m->cap[s] ? need : 0;
                m->rem[s] = 0;
                m->done[s]++;
            } else {
                m->rem[s] = need - (uint32_t)budget;   /* partly done: its progress is kept */
                break;
            }
        }
    }
    for (size_t i = before; i < m->done[FW_MEDIA_REVIEW]; i++) {
        fw_err rc = keep_delay(m, m->fmt[i], tick - m->tick[i]);
        if (rc != FW_OK)
            return rc;
    }
    uint64_t q[FW_MEDIA__STAGES];
    fw_media_queues(e, q);
    for (int s = 0; s < FW_MEDIA__STAGES; s++)
        if ((int64_t)q[s] > m->qmax[s])
            m->qmax[s] = (int64_t)q[s];
    size_t out = m->done[FW_MEDIA_REVIEW] - before;
    m->released += (int64_t)out;
    *n_released = (uint32_t)out;
    /* Drop released items once they are half the array (amortised O(1) per note). */
    size_t r = m->done[FW_MEDIA_REVIEW];
    if (r > 0 && 2 * r >= m->n) {
        memmove(m->fmt, m->fmt + r, (m->n - r) * sizeof *m->fmt);
        memmove(m->tick, m->tick + r, (m->n - r) * sizeof *m->tick);
        m->n -= r;
        for (int s = 0; s < FW_MEDIA__STAGES; s++)
            m->done[s] -= r;
    }
    return FW_OK;
}

void fw_media_queues(const fw_engine *e, uint64_t *q)
{
    const fw_media *m = e != NULL ? fw_mod(e, FW_MOD_MEDIA) : NULL;
    for (int s = 0; s < FW_MEDIA__STAGES; s++)
        q[s] = m ? (s == 0 ? m->n : m->done[s - 1]) - m->done[s] : 0;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* The nearest-rank percentile p (0..100] of sorted v[0..n); -1 when n is 0. */
static int64_t pct(const int32_t *v, size_t n, double p)
{
    if (n == 0)
        return -1;
    size_t k = (size_t)((p / 100.0) * (double)n + 0.999999999);   /* ceil(p n / 100) */
    k = k < 1 ? 1 : k > n ? n : k;
    return v[k - 1];
}

static fw_err media_end_day(fw_engine *e, void *state, fw_engine_ctx *ctx, uint32_t day, int64_t *series)
{
    (void)ctx;
    (void)day;
    fw_media *m = state;
    uint64_t q[FW_MEDIA__STAGES];
    fw_media_queues(e, q);
    series[SER_submitted] = m->submitted;
    series[SER_released] = m->released;
    series[SER_queue_upload] = (int64_t)q[FW_MEDIA_UPLOAD];
    series[SER_queue_transcode] = (int64_t)q[FW_MEDIA_TRANSCODE];
    series[SER_queue_review] = (int64_t)q[FW_MEDIA_REVIEW];
    series[SER_queue_upload_max] = m->qmax[FW_MEDIA_UPLOAD];
    series[SER_queue_transcode_max] = m->qmax[FW_MEDIA_TRANSCODE];
    series[SER_queue_review_max] = m->qmax[FW_MEDIA_REVIEW];
    for (int f = 0; f < 2; f++)
        qsort(m->delay[f], m->n_delay[f], sizeof *m->delay[f], cmp_i32);
    series[SER_delay_image_p50] = pct(m->delay[FW_FORMAT_IMAGE], m->n_delay[FW_FORMAT_IMAGE], 50);
    series[SER_delay_video_p50] = pct(m->delay[FW_FORMAT_VIDEO], m->n_delay[FW_FORMAT_VIDEO], 50);
    size_t n = m->n_delay[0] + m->n_delay[1];
    if (fw_grow((void **)&m->scratch, &m->cap_scratch, n ? n : 1, sizeof *m->scratch, 256))
        return FW_ERR_NOMEM;
    memcpy(m->scratch, m->delay[0], m->n_delay[0] * sizeof *m->scratch);
    memcpy(m->scratch + m->n_delay[0], m->delay[1], m->n_delay[1] * sizeof *m->scratch);
    qsort(m->scratch, n, sizeof *m->scratch, cmp_i32);
    series[SER_delay_p50] = pct(m->scratch, n, 50);
    series[SER_delay_p99] = pct(m->scratch, n, 99);
    series[SER_delay_max] = n ? m->scratch[n - 1] : -1;
    m->submitted = m->released = 0;
    m->n_delay[0] = m->n_delay[1] = 0;
    for (int s = 0; s < FW_MEDIA__STAGES; s++)
        m->qmax[s] = (int64_t)q[s];
    return FW_OK;
}

static fw_err media_check(const fw_engine *e, const void *state, char *why, size_t cap)
{
    (void)e;
    const fw_media *m = state;
    size_t hi = m->n;
    for (int s = 0; s < FW_MEDIA__STAGES; s++) {
        if (m->done[s] > hi) {
            snprintf(why, cap, "media: stage %d has finished %zu notes, more than the %zu before it", s, m->done[s], hi);
            return FW_ERR_INTERNAL;
        }
        if (m->rem[s] > 0 && (m->done[s] == hi || m->rem[s] > m->units[m->fmt[m->done[s]]][s])) {
            snprintf(why, cap, "media: stage %d's head has %u units left of a note that needs fewer or is gone", s,
                     m->rem[s]);
            return FW_ERR_INTERNAL;
        }
        hi = m->done[s];
    }
    return FW_OK;
}

/* ---- state snapshots (issue 21) ---------------------------------------------------------- */

/* The notes still in the pipeline, from the first not released (format and submission tick;
 * released ones are never read again, so where the array's front was last dropped does not
 * show), each stage's progress (done, counted from that note, and its head's units left) and
 * the queue maxima the next day starts from.
 *  Skipped: cap and units (the run's configuration, set at create); submitted, released and
 *  the day's delays (emptied by every day end, which a snapshot follows); scratch (the day
 *  end's, filled before it is read). */
static void media_snap(fw_engine *e, void *state, fw_snap *s)
{
    (void)e;
    fw_media *m = state;
    int loading = fw_snap_loading(s);
    size_t r = loading ? 0 : m->done[FW_MEDIA_REVIEW];   /* loading: a new state holds no note */
    uint8_t *fmt = m->fmt + r;
    int32_t *tick = m->tick + r;
    size_t n = m->n - r, n_tick = n, cap_fmt = m->cap_items - r, cap_tick = cap_fmt;
    fw_snap_vec(s, (void **)&fmt, &n, &cap_fmt, sizeof *fmt, SIZE_MAX);
    fw_snap_vec(s, (void **)&tick, &n_tick, &cap_tick, sizeof *tick, n);
    if (loading) {   /* even on a failure: a grown array has moved, and the engine frees it */
        m->fmt = fmt;
        m->tick = tick;
        m->cap_items = cap_fmt < cap_tick ? cap_fmt : cap_tick;
    }
    size_t done[FW_MEDIA__STAGES];
    for (int st = 0; st < FW_MEDIA__STAGES; st++) {
        done[st] = m->done[st] - r;
        fw_snap_size(s, &done[st]);
    }
    fw_snap_array(s, m->rem, FW_MEDIA__STAGES, sizeof *m->rem);
    fw_snap_array(s, m->qmax, FW_MEDIA__STAGES, sizeof *m->qmax);
    if (!loading || fw_snap_failed(s))
        return;
    if (n_tick != n) {
        fw_snap_fail(s, "%zu notes' formats but %zu submission ticks", n, n_tick);
        return;
    }
    for (size_t i = 0; i < n; i++)
        if (fmt[i] > FW_FORMAT_VIDEO) {   /* indexes units; media_check checks the rest */
            fw_snap_fail(s, "note %zu in the pipeline has format %u", i, fmt[i]);
            return;
        }
    m->n = n;
    memcpy(m->done, done, sizeof done);
}

const fw_engine_module fw_media_module = {
    .name = "media",
    .wanted = media_wanted,
    .state_size = sizeof(fw_media),
    .create = media_create,
    .end_day = media_end_day,
    .check = media_check,
    .snap = media_snap,
    FW_MODULE_SERIES("the publishing pipeline (upload, transcode, review): queues and publish delays"),
};
