/* The notify part: users read their daily digest (the engine's notify module,
 * flywheel/notify.h). At a user's first session of the day the arrive step asks the engine
 * for the user's digest (as the live cell configures it); each listed note is opened with the
 * user's true open probability (fw_behaviour_p_open), drawn from the user's FW_RNG_DIGEST
 * stream of the day, and an open is logged as a note event (FW_EV_OPEN: the engine and the
 * reach part count it as a read; the feed's counters do not). A note read from the digest
 * neither drifts interests nor plants purchase intent.
 * A warm-up (world.warmup_days) sends digests as any day, so day 0's digest lists the warm-up's
 * last day's notes.
 * Runs only when some cell sends digests (engine.notify.digest_size > 0). */
#include <math.h>
#include <stdlib.h>

#include "driver/counters.h"
#include "driver/part.h"
#include "flywheel/notify.h"
#include "model/rng.h"

#define NOTIFY_COUNTERS(X)                                                                     \
    X(digests, "digests", "daily digests users saw (non-empty, at their first session of the day)") \
    X(digest_notes, "notes", "notes listed in the digests seen")                               \
    X(digest_opens, "notes", "notes opened from a digest")

FW_DECLARE_COUNTERS(NOTIFY_COUNTERS);

static const fw_rate_desc rates[] = {
    {"digest_open_rate", "digest_opens", "digest_notes", 1.0, "1", "notes opened from digests / notes listed"},
};

typedef struct notify_state {
    gsl_rng **rng;              /* [n_threads]: FW_RNG_DIGEST, sought per (user, day) */
    uint32_t *seen_day;         /* [n_users]: day + warmup_days + 1 of the user's last digest (their own) */
} notify_state;

#define COUNT(k) (ss->row[p->base + C_##k])

static int notify_active(const fw_sim *S)
{
    for (uint32_t c = 0; c < S->n_cells; c++)
        if (S->cell_engine[c].notify.digest_size > 0)
            return 1;
    return 0;
}

static int notify_arrive(fw_session *ss, fw_part_inst *p)
{
    notify_state *st = p->state;
    uint32_t u = ss->user;
    /* Days counted from the first one simulated, from 1: a warm-up's days are 2^32 - W .. and
     * day + 1 alone would make its last one 0, the mark of a user who never had a digest. */
    uint32_t mark = ss->day + ss->S->sc->world.warmup_days + 1;
    if (st->seen_day[u] == mark)
        return 0;
    st->seen_day[u] = mark;
    uint32_t digest[FW_NOTIFY_MAX_DIGEST];
    uint32_t n = fw_notify_digest(ss->engine, u, ss->cell, digest, FW_NOTIFY_MAX_DIGEST);
    if (n == 0)
        return 0;
    gsl_rng *r = st->rng[ss->slot];
    fw_rng_seek(r, ss->seed, FW_RNG_DIGEST, u, ss->day);
    COUNT(digests)++;
    COUNT(digest_notes) += n;
    for (uint32_t i = 0; i < n; i++)
        if (gsl_rng_uniform(r) < fw_behaviour_p_open(ss->m, ss->w, u, digest[i])) {
            if (fw_recbuf_event(ss->rec, u, digest[i], ss->tick, FW_EV_OPEN))
                return -1;
            COUNT(digest_opens)++;
        }
    return 0;
}

static void notify_summary(const fw_sim *S, const fw_part_inst *p, const uint64_t *totals, double days, FILE *out)
{
    fprintf(out, "  %-12s %9s %9s %9s %9s\n", "digest", "digests", "notes", "opens", "open rate");
    for (uint32_t a = 0; a < S->n_arms; a++) {
        const uint64_t *c = &totals[(size_t)a * S->n_counters + p->base];
        double rate = c[C_digest_notes] ? (double)c[C_digest_opens] / (double)c[C_digest_notes] : NAN;
        char r[16];
        fprintf(out, "  %-12s %9.0f %9.0f %9.0f %9s\n", S->sc->arms[a].name, c[C_digests] / days,
                c[C_digest_notes] / days, c[C_digest_opens] / days, fw_pct_text(r, sizeof r, rate, 2));
    }
}

static fw_err notify_create(fw_sim *S, fw_part_inst *p)
{
    notify_state *st = p->state;
    if (!(st->rng = fw_sim_thread_rngs(S, FW_RNG_DIGEST)) ||
        !(st->seen_day = fw_sim_calloc(S, S->w.n_users, sizeof *st->seen_day)))
        return FW_ERR_NOMEM;
    return FW_OK;
}

/* Each user's last digest day. Skipped: the streams (sought per (user, day)). */
static void notify_snap(fw_sim *S, fw_part_inst *p, fw_snap *s)
{
    notify_state *st = p->state;
    fw_snap_array(s, st->seen_day, S->w.n_users, sizeof *st->seen_day);
}

const fw_part fw_notify_part = {
    .name = "notify",
    FW_PART_COUNTERS_AND_RATES,
    .state_size = sizeof(notify_state),
    .active = notify_active,
    .create = notify_create,
    .session_arrive = notify_arrive,
    .summary = notify_summary,
    .snap = notify_snap,
};
