/* The notes part: creators post notes.
 *  - Day start: each creator posts Poisson(their rate) notes today at uniform ticks (stream
 *    FW_RNG_POSTING of the creator and day; the words from FW_RNG_TEXT), queued for the
 *    driver to publish at the ticks' barriers (fw_sim_queue_note). A creator who adopted the
 *    AIGC tool (parts/aigc.h) posts at a higher rate, and their notes are AI-generated.
 *  - Tick end: the notes the driver published at the barrier (every part's: the market's
 *    sponsored notes too) counted by their creator's arm and in the creator's per-user
 *    counts. */
#include <stdlib.h>

#include <gsl/gsl_randist.h>

#include "driver/part.h"
#include "model/rng.h"
#include "parts/aigc.h"

static const fw_counter_desc counters[] = {
    {"new_notes", "notes", "notes published on the day by creators in the arm"},
};
enum { C_new_notes };

typedef struct notes_state {
    gsl_rng *rng, *text_rng;     /* FW_RNG_POSTING, FW_RNG_TEXT: sought before every use */
    size_t counted;              /* the day's published notes counted so far */
    fw_aigc_tool aigc;           /* issue 20: the AIGC tool (off unless some arm adopts it) */
} notes_state;

/* The factor on creator c's base posting rate from the creators' response to what their notes
 * earn, and 0 for a creator who left for good (issue 18, sim/parts/living.c); exactly 1 when
 * the living part is off. */
static double creator_response(const fw_sim *S, uint32_t c)
{
    return S->creator_drive ? S->creator_drive[c] : 1.0;
}

/* Today's new notes: each creator posts Poisson(rate) notes at uniform ticks. */
static fw_err notes_day_start(fw_sim *S, fw_part_inst *p)
{
    notes_state *st = p->state;
    fw_world *w = &S->w;
    gsl_rng *r = st->rng;
    st->counted = 0;
    for (uint32_t c = 0; c < w->n_creators; c++) {
        fw_rng_seek(r, S->sc->seed, FW_RNG_POSTING, w->creator_user[c], S->day);
        int adopted = fw_aigc_adopted(&st->aigc, S, c);   /* issue 20: cheaper notes */
        unsigned k = gsl_ran_poisson(r, w->creator_rate[c] * (adopted ? S->sc->world.aigc_rate_boost : 1.0) *
                                            creator_response(S, c));   /* issue 18: creators respond */
        for (unsigned j = 0; j < k; j++) {
            float *emb;
            fw_pending_note *pn = fw_sim_queue_note(S, &emb);
            if (!pn)
                return FW_ERR_NOMEM;
            pn->tick = (int32_t)gsl_rng_uniform_int(r, S->tpd);
            pn->creator = c;
            pn->seq = j;
            pn->task = FW_NONE;
            fw_world_draw_note(w, &S->sc->world, r, c, (int32_t)(S->day * S->tpd) + pn->tick, &pn->note, emb);
            if (adopted)
                fw_aigc_make(&st->aigc, S, pn, emb);
            fw_rng_seek(st->text_rng, S->sc->seed, FW_RNG_TEXT, w->creator_user[c], (S->day + 1) << 12 | (j & 0xfff));
            fw_world_draw_terms(w, st->text_rng, pn->note.info.topic, pn->note.terms);
        }
    }
    return FW_OK;
}

static fw_err notes_tick_end(fw_sim *S, fw_part_inst *p)
{
    notes_state *st = p->state;
    for (; st->counted < S->pend_done; st->counted++) {
        uint32_t creator = S->pend[st->counted].note.info.creator;
        fw_sim_row(S, creator)[p->base + C_new_notes]++;
        fw_sim_aggs(S)[FW_UM_notes_published][creator]++;
    }
    return FW_OK;
}

static fw_err notes_create(fw_sim *S, fw_part_inst *p)
{
    notes_state *st = p->state;
    if (!(st->rng = fw_sim_rng(S, FW_RNG_POSTING)) || !(st->text_rng = fw_sim_rng(S, FW_RNG_TEXT)))
        return FW_ERR_NOMEM;
    return fw_aigc_tool_init(S, &st->aigc);
}

const fw_part fw_notes_part = {
    .name = "notes",
    .counters = counters,
    .n_counters = sizeof counters / sizeof counters[0],
    .state_size = sizeof(notes_state),
    .create = notes_create,
    .day_start = notes_day_start,
    .tick_end = notes_tick_end,
    /* Nothing across days: streams sought before every use, counted restarts at every day's
     * start, the AIGC tool's templates are drawn at create. */
    .snap = fw_part_no_state,
};
