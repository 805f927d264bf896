/* The media part: notes through the platform's publishing pipeline (flywheel/media.h).
 *  - Runs only when engine.media gives some stage a capacity (fw_media_on); then the driver
 *    hands each tick's publication to fw_media_hold_tick (S->media): the tick's written notes
 *    are copied into the hold and submitted (format from the note: world.video_share decides
 *    it), the pipeline runs its tick, and the notes it released -- the oldest in the hold --
 *    are published (world and engine, same id) with the release tick as created_tick.
 *  - A sponsored note released after its task closed is published without its task (the
 *    marketplace would refuse a late delivery) and counted in the summary: the matched
 *    creator writes one on each day the task is still matched, so a slow pipeline can
 *    release several.
 *  - The queues and delays are the engine's day series (/media/days); the summary says
 *    how many notes were still held at the end and how the backlog moved on the last day
 *    (a pipeline that cannot drain is reported, not hidden). Draws nothing.
 *  - A warm-up (world.warmup_days) runs the pipeline as any day (its ticks are signed, below 0
 *    then): day 0 starts with what the warm-up left in it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/part.h"
#include "flywheel/market.h"
#include "flywheel/media.h"
#include "parts/media.h"

typedef struct fw_media_hold {
    fw_pending_note *v;          /* [cap]: v[head .. n) held, in submission order */
    float *emb;                  /* [cap * dim] */
    size_t head, n, cap;
    uint64_t held_prev;          /* held at the start of the last day run */
    uint64_t held_start;         /* held at the start of the current day */
    uint64_t late_sponsored;     /* sponsored notes released after their task closed */
} fw_media_hold;

static int media_active(const fw_sim *S)
{
    return fw_media_on(S->engine);
}

/* Room for more notes at the end (dropping released ones from the front first). */
static fw_err hold_room(fw_media_hold *h, size_t more, size_t dim)
{
    if (h->head > 0 && h->n + more > h->cap) {
        memmove(h->v, h->v + h->head, (h->n - h->head) * sizeof *h->v);
        memmove(h->emb, h->emb + h->head * dim, (h->n - h->head) * dim * sizeof *h->emb);
        h->n -= h->head;
        h->head = 0;
    }
    if (h->n + more <= h->cap)
        return FW_OK;
    size_t cap = h->cap ? 2 * h->cap : 1024;
    while (cap < h->n + more)
        cap *= 2;
    fw_pending_note *v = realloc(h->v, cap * sizeof *v);
    if (!v)
        return FW_ERR_NOMEM;
    h->v = v;
    float *e = realloc(h->emb, cap * dim * sizeof *e);
    if (!e)
        return FW_ERR_NOMEM;
    h->emb = e;
    h->cap = cap;
    return FW_OK;
}

fw_err fw_media_hold_tick(fw_sim *S, uint32_t t)
{
    fw_media_hold *h = S->media;
    size_t dim = S->w.dim;
    fw_err rc;
    while (S->pend_done < S->n_pend && S->pend[S->pend_done].tick == (int32_t)t) {
        const fw_pending_note *p = &S->pend[S->pend_done];
        if ((rc = hold_room(h, 1, dim)) != FW_OK ||
            (rc = fw_media_submit(S->engine, p->note.info.format, S->abs_tick)) != FW_OK)
            return rc;
        h->v[h->n] = *p;
        memcpy(&h->emb[h->n * dim], &S->pend_emb[p->emb_at], dim * sizeof *h->emb);
        h->n++;
        S->pend_done++;
    }
    uint32_t n_out;
    if ((rc = fw_media_step(S->engine, S->abs_tick, &n_out)) != FW_OK)
        return rc;
    if (n_out > h->n - h->head)
        return FW_ERR_INTERNAL;   /* the pipeline released notes it was never given */
    for (uint32_t k = 0; k < n_out; k++, h->head++) {
        fw_pending_note *p = &h->v[h->head];
        p->note.info.created_tick = S->abs_tick;   /* published now: the platform's clock */
        /* A sponsored note released after its task closed (the delivery deadline passed
         * while it waited, or the creator's copy of another day delivered it first) is
         * published as a plain note: the marketplace would refuse the delivery. */
        fw_task_info ti;
        if (p->task != FW_NONE &&
            (fw_market_task(S->engine, p->task, &ti) != FW_OK || ti.status != FW_MTASK_MATCHED)) {
            p->task = FW_NONE;
            h->late_sponsored++;
        }
        if ((rc = fw_sim_publish(S, p, &h->emb[h->head * dim])) != FW_OK)
            return rc;
    }
    return FW_OK;
}

static fw_err media_day_start(fw_sim *S, fw_part_inst *p)
{
    (void)p;
    fw_media_hold *h = S->media;
    h->held_prev = h->held_start;
    h->held_start = h->n - h->head;
    return FW_OK;
}

/* ---- state snapshots (issue 21) ---------------------------------------------------------- */

_Static_assert(sizeof(fw_note_info) == 12 && sizeof(fw_new_note) == 84,
               "a held note gained a field: transfer it in held_snap");

/* Held note x, field by field: fw_pending_note and fw_note_info hold padding, which would make
 * two snapshots of one state differ. Its task goes unchecked: the release looks it up with
 * fw_market_task, which refuses an unknown one. tick, creator, seq and emb_at (its place in
 * the day's queue it was taken from) are not read once it is held: they go so that it is whole. */
static void held_snap(const fw_world *w, fw_pending_note *x, fw_snap *s)
{
    uint32_t topic = x->note.info.topic, format = x->note.info.format;
    fw_snap_tick(s, &x->tick, 0, "a held note's tick");
    fw_snap_index(s, &x->creator, w->n_creators, w->n_creators);
    fw_snap_u32(s, &x->seq);
    fw_snap_u32(s, &x->task);
    fw_snap_index(s, &x->note.info.creator, w->n_users, w->n_users);
    fw_snap_index(s, &topic, w->n_topics, w->n_topics);
    fw_snap_index(s, &format, FW_FORMAT_VIDEO + 1, FW_FORMAT_VIDEO + 1);
    fw_snap_tick(s, &x->note.info.created_tick, 0, "a held note's creation");
    fw_snap_f32(s, &x->note.quality);
    fw_snap_index(s, &x->note.product, w->n_products, FW_NONE);
    fw_snap_indexes(s, x->note.terms, FW_NOTE_TERMS, w->n_terms, FW_NONE);
    fw_snap_size(s, &x->emb_at);
    fw_snap_u8(s, &x->aigc);
    fw_snap_u8(s, &x->declared);
    if (!fw_snap_loading(s) || fw_snap_failed(s))
        return;
    /* Published, it becomes a note of the world, whose parts index creator rows by its author. */
    if (w->creator_of[x->note.info.creator] < 0) {
        fw_snap_fail(s, "a held note's author %u is no creator", x->note.info.creator);
        return;
    }
    x->note.info.topic = (uint16_t)topic;
    x->note.info.format = (uint8_t)format;
}

/* The held notes from the first not yet published (those before it are never read again), with
 * their embeddings; the backlog at the last two day starts (the summary's warning); the
 * sponsored notes published late.
 *  Skipped: head and cap (room: a loaded hold starts at its front); S->pend and its
 *  embeddings (the driver's queue of the day's notes, refilled at every day's start: by the
 *  day's end every note in it has been taken into the hold, each with its embedding, at the
 *  end of the tick it was written in). */
static void media_snap(fw_sim *S, fw_part_inst *p, fw_snap *s)
{
    fw_media_hold *h = p->state;
    size_t dim = S->w.dim;
    uint64_t held = h->n - h->head;
    fw_snap_u64(s, &held);
    if (fw_snap_loading(s) && !fw_snap_failed(s)) {
        /* Every held note is one the pipeline (loaded before the parts) holds: that bounds the
         * count before any room is made for it. */
        uint64_t q[FW_MEDIA__STAGES], in_pipe = 0;
        fw_media_queues(S->engine, q);
        for (int k = 0; k < FW_MEDIA__STAGES; k++)
            in_pipe += q[k];
        if (held != in_pipe)
            fw_snap_fail(s, "%llu notes held but %llu in the pipeline", (unsigned long long)held,
                         (unsigned long long)in_pipe);
        else if (held > 0 && hold_room(h, held, dim) != FW_OK)
            fw_snap_fail(s, "out of memory for %llu held notes", (unsigned long long)held);
        else
            h->n = h->head + held;
    }
    for (size_t i = h->head; i < h->n && !fw_snap_failed(s); i++)
        held_snap(&S->w, &h->v[i], s);
    if (h->n > h->head)
        fw_snap_array(s, &h->emb[h->head * dim], (h->n - h->head) * dim, sizeof *h->emb);
    fw_snap_u64(s, &h->held_prev);
    fw_snap_u64(s, &h->held_start);
    fw_snap_u64(s, &h->late_sponsored);
}

static void media_destroy(fw_sim *S, fw_part_inst *p)
{
    fw_media_hold *h = p->state;
    free(h->v);
    free(h->emb);
    if (S->media == h)
        S->media = NULL;
}

static fw_err media_create(fw_sim *S, fw_part_inst *p)
{
    S->media = p->state;
    return FW_OK;
}

static void media_summary(const fw_sim *S, const fw_part_inst *p, const uint64_t *totals, double days, FILE *out)
{
    (void)totals;
    (void)days;
    const fw_media_hold *h = p->state;
    uint64_t q[FW_MEDIA__STAGES], held = h->n - h->head;
    fw_media_queues(S->engine, q);
    fprintf(out, "  media pipeline: %llu notes still in it at the end (upload %llu, transcode %llu, review %llu)",
            (unsigned long long)held, (unsigned long long)q[FW_MEDIA_UPLOAD], (unsigned long long)q[FW_MEDIA_TRANSCODE],
            (unsigned long long)q[FW_MEDIA_REVIEW]);
    if (h->late_sponsored)
        fprintf(out, "; %llu sponsored notes released after their task closed (published as plain notes)",
                (unsigned long long)h->late_sponsored);
    if (held > h->held_start && h->held_start > h->held_prev)
        fprintf(out, "; WARNING: the backlog grew on each of the last two days (%llu -> %llu -> %llu): the capacity "
                     "is below the notes written and the pipeline cannot drain\n",
                (unsigned long long)h->held_prev, (unsigned long long)h->held_start, (unsigned long long)held);
    else
        fprintf(out, "\n");
}

const fw_part fw_media_part = {
    .name = "media",
    .active = media_active,
    .state_size = sizeof(fw_media_hold),
    .create = media_create,
    .destroy = media_destroy,
    .day_start = media_day_start,
    .snap = media_snap,
    .summary = media_summary,
};
