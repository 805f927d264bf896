/* The safety module: classifier, review queue and moderation actions (flywheel/safety.h).
 *
 * State, per cell that moderates (engine.safety.action != off): each note's state byte
 * (fw_safety_state in the low two bits, REPORTED above), the review queue and the day's
 * figures. The queue is one array of entries in arrival order: [q_done, q_wait) are taken
 * by reviewers (each with the tick it is decided), [q_wait, q_n) wait. Capacity and handling
 * time are the same for every entry, so entries are decided in the order they were taken:
 * the queue is FIFO end to end.
 *
 * The classifier model (scores are not stored: a pure function of the note id, the catalog
 * seed, the oracle's class and the cell's knobs). With u1, u2 uniform from a keyed hash of the
 * note id, and for a note of class c:
 *   violating, u1 < recall_c:          predicted c,    score 1 - u2^2 / 2   (in [0.5, 1), high)
 *   violating, missed:                 predicted none, score sqrt(u2) / 2   (in [0, 0.5))
 *   clean, u1 < F_k (false positive):  predicted k,    score 1/2 + u2^2 / 2 (in [0.5, 1), low)
 *   clean:                             predicted none, score u2^2 / 2       (in [0, 0.5), low)
 * so at the decision threshold 0.5 class c's recall is recall_c by construction, and its
 * precision is precision_c when the false-positive rates are
 *   fp_k = recall_k * p_k * (1 - precision_k) / (precision_k * p_none)
 * (F the cumulative sums, scaled down if they pass 1), p the class shares of the notes the
 * classifier first scores (the catalog's notes: its labelled calibration sample). Missed
 * violators score higher than clean notes and false positives lower than true ones, so
 * thresholds other than 0.5 trade precision for recall the way a real score does.
 *
 * Invariants: every queue entry's note is < n_notes; q_done <= q_wait <= q_n; a note is in
 * state QUEUED iff it has an entry at or after q_done that is not decided; n_scored <= n_notes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "flywheel/safety.h"
#include "safety_int.h"

#define ST_MASK 0x03u
#define ST_REPORTED 0x80u

#define SAFETY_DAY_SERIES(X)                                                                   \
    X(scored, "notes", "notes the classifier scored (all cells)")                              \
    X(queued, "notes", "notes that joined a review queue (all cells)")                         \
    X(actioned, "notes", "notes actioned (all cells)")                                         \
    X(backlog, "notes", "notes waiting in the review queues at the day's end (all cells)")

FW_DECLARE_SERIES(SAFETY_DAY_SERIES);

typedef struct safety_cell {
    int on;
    int calibrated;
    double fp_cum[FW_VIOL__COUNT];   /* [k]: P(false positive of class <= k), k >= 1 */
    uint8_t *st;                     /* [cap_notes] */
    uint32_t *q_note;
    int32_t *q_due;
    size_t q_n, q_cap, q_done, q_wait;
    fw_safety_day day;
    uint32_t *tta;                   /* the day's times to action, ticks */
    size_t n_tta, cap_tta;
} safety_cell;

typedef struct fw_safety {
    fw_safety_oracle oracle;
    void *octx;
    uint32_t n_scored;
    int started;
    int32_t start_tick;              /* the first tick's end: catalog notes count from it */
    safety_cell *cell;               /* [n_arms] */
} fw_safety;

static const char *const viol_names[] = {
#define FW_VIOL_NAME_(c, name) name,
    FW_VIOLATIONS(FW_VIOL_NAME_)
#undef FW_VIOL_NAME_
};

const char *fw_violation_name(uint32_t v) { return v < FW_VIOL__COUNT ? viol_names[v] : "?"; }

static uint32_t truth(const fw_safety *s, uint32_t note)
{
    uint32_t c = s->oracle ? s->oracle(s->octx, note) : FW_VIOL_NONE;
    return c < FW_VIOL__COUNT ? c : FW_VIOL_NONE;
}

/* Uniform in (0, 1] from the note id, the catalog seed and a salt. */
static double unit(uint64_t seed, uint32_t note, uint64_t salt)
{
    uint64_t x = fw_mix64(seed ^ fw_mix64(((uint64_t)note << 8 | salt) + UINT64_C(0x5afe5afe00000000)));
    return ((double)(x >> 11) + 1.0) * 0x1.0p-53;
}

static void class_pr(const fw_safety_cfg *c, uint32_t k, double *recall, double *precision)
{
    switch (k) {
    case FW_VIOL_SPAM: *recall = c->recall_spam; *precision = c->precision_spam; break;
    case FW_VIOL_FAKE: *recall = c->recall_fake; *precision = c->precision_fake; break;
    case FW_VIOL_CLICKBAIT: *recall = c->recall_clickbait; *precision = c->precision_clickbait; break;
    case FW_VIOL_UNSAFE: *recall = c->recall_unsafe; *precision = c->precision_unsafe; break;
    default: *recall = 0.0; *precision = 1.0; break;
    }
}

static double score_of(const fw_engine *e, const safety_cell *sc, const fw_safety_cfg *c, uint32_t note,
                       uint32_t cls, uint32_t *pred)
{
    double u1 = unit(e->seed, note, 1), u2 = unit(e->seed, note, 2);
    if (cls != FW_VIOL_NONE) {
        double r, p;
        class_pr(c, cls, &r, &p);
        if (u1 <= r) {
            *pred = cls;
            return 1.0 - 0.5 * u2 * u2;
        }
        *pred = FW_VIOL_NONE;
        return 0.5 * sqrt(u2) * (1.0 - 0x1.0p-53);
    }
    for (uint32_t k = 1; k < FW_VIOL__COUNT; k++)
        if (u1 <= sc->fp_cum[k]) {
            *pred = k;
            return 0.5 + 0.5 * u2 * u2 * (1.0 - 0x1.0p-53);
        }
    *pred = FW_VIOL_NONE;
    return 0.5 * u2 * u2 * (1.0 - 0x1.0p-53);
}

/* The false-positive rates that give the cell's precisions, from the class shares of notes
 * [0, n) (the first notes scored). */
static void calibrate(const fw_engine *e, fw_safety *s, safety_cell *sc, const fw_safety_cfg *c, uint32_t n)
{
    double count[FW_VIOL__COUNT] = {0};
    for (uint32_t i = 0; i < n; i++)
        count[truth(s, i)] += 1.0;
    double fp[FW_VIOL__COUNT] = {0}, sum = 0.0;
    for (uint32_t k = 1; k < FW_VIOL__COUNT; k++) {
        double r, p;
        class_pr(c, k, &r, &p);
        fp[k] = count[FW_VIOL_NONE] > 0.0 ? r * count[k] * (1.0 - p) / (p * count[FW_VIOL_NONE]) : 0.0;
        sum += fp[k];
    }
    double scale = sum > 1.0 ? 1.0 / sum : 1.0, cum = 0.0;
    for (uint32_t k = 1; k < FW_VIOL__COUNT; k++) {
        cum += fp[k] * scale;
        sc->fp_cum[k] = cum;
    }
    sc->calibrated = 1;
    (void)e;
}

static int safety_wanted(const fw_catalog *cat, const fw_engine_cfg *cfgs, uint32_t n_cells)
{
    (void)cat;
    for (uint32_t c = 0; c < n_cells; c++)
        if (cfgs[c].safety.action != FW_SAFETY_OFF)
            return 1;
    return 0;
}

static fw_err safety_grow_notes(fw_engine *e, void *state, uint32_t old_cap, uint32_t cap)
{
    fw_safety *s = state;
    for (uint32_t a = 0; a < e->n_arms; a++)
        if (s->cell[a].on && fw_resize(&s->cell[a].st, old_cap, cap, sizeof *s->cell[a].st))
            return FW_ERR_NOMEM;
    return FW_OK;
}

static fw_err safety_create(fw_engine *e, const fw_catalog *cat, void **state)
{
    (void)cat;
    fw_safety *s = *state;
    if (!fw_alloc(e, &s->cell, e->n_arms, sizeof *s->cell))
        return FW_ERR_NOMEM;
    for (uint32_t a = 0; a < e->n_arms; a++) {
        safety_cell *sc = &s->cell[a];
        sc->on = fw_cfg(e, a)->safety.action != FW_SAFETY_OFF;
        if (sc->on && !fw_alloc(e, &sc->st, e->cap_notes > 0 ? e->cap_notes : 1, sizeof *sc->st))
            return FW_ERR_NOMEM;
    }
    return FW_OK;
}

static void safety_destroy(fw_engine *e, void *state)
{
    fw_safety *s = state;
    for (uint32_t a = 0; s->cell && a < e->n_arms; a++) {
        free(s->cell[a].q_note);
        free(s->cell[a].q_due);
        free(s->cell[a].tta);
    }
}

void fw_safety_set_oracle(fw_engine *e, fw_safety_oracle fn, void *ctx)
{
    fw_safety *s = fw_mod(e, FW_MOD_SAFETY);
    if (s) {
        s->oracle = fn;
        s->octx = ctx;
    }
}

static int enqueue(safety_cell *sc, uint32_t note)
{
    if (sc->q_n == sc->q_cap) {
        size_t cap = sc->q_cap ? 2 * sc->q_cap : 1024;
        uint32_t *n = realloc(sc->q_note, cap * sizeof *n);
        if (!n)
            return -1;
        sc->q_note = n;
        int32_t *d = realloc(sc->q_due, cap * sizeof *d);
        if (!d)
            return -1;
        sc->q_due = d;
        sc->q_cap = cap;
    }
    sc->q_note[sc->q_n] = note;
    sc->q_due[sc->q_n++] = INT32_MAX;
    sc->st[note] = (uint8_t)((sc->st[note] & ~ST_MASK) | FW_NOTE_QUEUED);
    sc->day.queued++;
    return 0;
}

/* Time to action counts from publication, or for the catalog's notes (published before the
 * platform started) from the first tick's end, when moderation first saw them. */
static int act(const fw_engine *e, const fw_safety *s, safety_cell *sc, uint32_t note, int32_t tick)
{
    uint8_t st = sc->st[note];
    sc->st[note] = (uint8_t)((st & ~ST_MASK) | FW_NOTE_ACTIONED);
    sc->day.actioned++;
    sc->day.actioned_violating[truth(s, note)]++;
    if (!(st & ST_REPORTED))
        sc->day.proactive++;
    int32_t from = e->notes[note].created_tick > s->start_tick ? e->notes[note].created_tick : s->start_tick;
    int32_t t = tick - from;
    if (sc->n_tta == sc->cap_tta) {
        size_t cap = sc->cap_tta ? 2 * sc->cap_tta : 1024;
        uint32_t *v = realloc(sc->tta, cap * sizeof *v);
        if (!v)
            return -1;
        sc->tta = v;
        sc->cap_tta = cap;
    }
    sc->tta[sc->n_tta++] = t > 0 ? (uint32_t)t : 0;
    return 0;
}

fw_err fw_safety_report(fw_engine *e, uint32_t user, uint32_t note, int32_t tick)
{
    (void)tick;
    if (user >= e->n_users || note >= e->n_notes)
        return FW_ERR_INVAL;
    fw_safety *s = fw_mod(e, FW_MOD_SAFETY);
    if (!s)
        return FW_OK;
    safety_cell *sc = &s->cell[fw_user_cell(e, user)];
    if (!sc->on)
        return FW_OK;
    sc->day.reports++;
    uint8_t st = sc->st[note];
    sc->st[note] = (uint8_t)(st | ST_REPORTED);
    if ((st & ST_MASK) == FW_NOTE_LIVE) {
        if (enqueue(sc, note))
            return FW_ERR_NOMEM;
        sc->day.queued_reports++;
    }
    return FW_OK;
}

static fw_err safety_end_tick(fw_engine *e, void *state, fw_engine_ctx *ctx, int32_t tick)
{
    (void)ctx;
    fw_safety *s = state;
    uint32_t from = s->n_scored, to = e->n_notes;
    if (!s->started) {
        s->started = 1;
        s->start_tick = tick;
    }
    for (uint32_t a = 0; a < e->n_arms; a++) {
        safety_cell *sc = &s->cell[a];
        if (!sc->on)
            continue;
        const fw_safety_cfg *c = &fw_cfg(e, a)->safety;
        if (!sc->calibrated && to > 0)
            calibrate(e, s, sc, c, to);
        /* Score what was published since the last tick's end. */
        for (uint32_t n = from; n < to; n++) {
            uint32_t pred, cls = truth(s, n);
            double x = score_of(e, sc, c, n, cls, &pred);
            sc->day.scored++;
            sc->day.flagged += x >= 0.5;
            uint32_t st = sc->st[n] & ST_MASK;
            if (x >= c->threshold_hi && st != FW_NOTE_ACTIONED) {
                if (act(e, s, sc, n, tick))
                    return FW_ERR_NOMEM;
                sc->day.auto_actioned++;
            } else if (x >= c->threshold_lo && st == FW_NOTE_LIVE && enqueue(sc, n)) {
                return FW_ERR_NOMEM;
            }
        }
        /* Decisions due. */
        while (sc->q_done < sc->q_wait && sc->q_due[sc->q_done] <= tick) {
            uint32_t n = sc->q_note[sc->q_done++];
            if ((sc->st[n] & ST_MASK) != FW_NOTE_QUEUED)
                continue;   /* actioned by the classifier meanwhile */
            sc->day.reviewed++;
            int violates = truth(s, n) != FW_VIOL_NONE;
            if (unit(e->seed, n, 16 + a) <= c->review_error)
                violates = !violates;
            if (violates) {
                if (act(e, s, sc, n, tick))
                    return FW_ERR_NOMEM;
            } else {
                sc->st[n] = (uint8_t)((sc->st[n] & ~ST_MASK) | FW_NOTE_CLEARED);
            }
        }
        /* Reviewers take the next notes. */
        uint32_t take = c->review_capacity;
        while (take > 0 && sc->q_wait < sc->q_n) {
            size_t i = sc->q_wait++;
            if ((sc->st[sc->q_note[i]] & ST_MASK) != FW_NOTE_QUEUED) {
                /* Actioned while waiting: due now, so the decision loop passes it (left at
                 * INT32_MAX it stopped that loop, and every later review, for good). */
                sc->q_due[i] = tick;
                continue;
            }
            sc->q_due[i] = tick + (int32_t)c->review_ticks;
            take--;
        }
        if (sc->q_done > 4096 && sc->q_done * 2 > sc->q_n) {
            size_t k = sc->q_n - sc->q_done;
            memmove(sc->q_note, sc->q_note + sc->q_done, k * sizeof *sc->q_note);
            memmove(sc->q_due, sc->q_due + sc->q_done, k * sizeof *sc->q_due);
            sc->q_wait -= sc->q_done;
            sc->q_n = k;
            sc->q_done = 0;
        }
    }
    s->n_scored = to;
    return FW_OK;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* The nearest-rank percentile q of v[0..n) (sorted). */
static uint32_t pct(const uint32_t *v, size_t n, double q)
{
    if (n == 0)
        return 0;
    size_t k = (size_t)ceil(q * (double)n);
    return v[k > 0 ? k - 1 : 0];
}

fw_err fw_safety_day_stats(const fw_engine *e, uint32_t cell, fw_safety_day *out)
{
    if (cell >= e->n_arms)
        return FW_ERR_INVAL;
    const fw_safety *s = fw_mod(e, FW_MOD_SAFETY);
    fw_safety_day d = {0};
    if (s && s->cell[cell].on) {
        const safety_cell *sc = &s->cell[cell];
        d = sc->day;
        d.backlog = sc->q_n - sc->q_wait;
        d.in_review = 0;
        for (size_t i = sc->q_done; i < sc->q_wait; i++)
            d.in_review += (sc->st[sc->q_note[i]] & ST_MASK) == FW_NOTE_QUEUED;
        if (sc->n_tta > 0) {
            uint32_t *v = malloc(sc->n_tta * sizeof *v);
            if (!v)
                return FW_ERR_NOMEM;
            memcpy(v, sc->tta, sc->n_tta * sizeof *v);
            qsort(v, sc->n_tta, sizeof *v, cmp_u32);
            d.tta_p50 = pct(v, sc->n_tta, 0.50);
            d.tta_p99 = pct(v, sc->n_tta, 0.99);
            free(v);
        }
    }
    *out = d;
    return FW_OK;
}

double fw_safety_score(const fw_engine *e, uint32_t cell, uint32_t note, uint32_t *pred)
{
    uint32_t p = FW_VIOL_NONE;
    double x = 0.0;
    const fw_safety *s = fw_mod(e, FW_MOD_SAFETY);
    if (s && cell < e->n_arms && s->cell[cell].on && note < s->n_scored)
        x = score_of(e, &s->cell[cell], &fw_cfg(e, cell)->safety, note, truth(s, note), &p);
    if (pred)
        *pred = p;
    return x;
}

uint32_t fw_safety_state_of(const fw_engine *e, uint32_t cell, uint32_t note)
{
    const fw_safety *s = fw_mod(e, FW_MOD_SAFETY);
    if (!s || cell >= e->n_arms || !s->cell[cell].on || note >= e->n_notes)
        return FW_NOTE_LIVE;
    return s->cell[cell].st[note] & ST_MASK;
}

static int follows(const fw_engine *e, uint32_t user, uint32_t creator)
{
    const fw_u32vec *f = &e->follows[user];
    for (uint32_t i = 0; i < f->n; i++)
        if (f->v[i] == creator)
            return 1;
    return 0;
}

double fw_safety_weight(const fw_engine *e, uint32_t cell, uint32_t user, uint32_t note)
{
    const fw_safety *s = fw_mod(e, FW_MOD_SAFETY);
    const safety_cell *sc = &s->cell[cell];
    if (!sc->on || note >= e->n_notes || (sc->st[note] & ST_MASK) != FW_NOTE_ACTIONED)
        return 1.0;
    const fw_safety_cfg *c = &fw_cfg(e, cell)->safety;
    switch (c->action) {
    case FW_SAFETY_REMOVE: return 0.0;
    case FW_SAFETY_DOWNRANK: return c->downrank;
    case FW_SAFETY_FOLLOWERS: {
        uint32_t cr = e->notes[note].creator;
        return cr == user || (user < e->n_users && follows(e, user, cr)) ? 1.0 : 0.0;
    }
    default: return 1.0;
    }
}

static fw_err safety_end_day(fw_engine *e, void *state, fw_engine_ctx *ctx, uint32_t day, int64_t *series)
{
    (void)ctx;
    (void)day;
    fw_safety *s = state;
    int64_t sum[SER__COUNT] = {0};
    for (uint32_t a = 0; a < e->n_arms; a++) {
        safety_cell *sc = &s->cell[a];
        if (!sc->on)
            continue;
        sum[SER_scored] += (int64_t)sc->day.scored;
        sum[SER_queued] += (int64_t)sc->day.queued;
        sum[SER_actioned] += (int64_t)sc->day.actioned;
        sum[SER_backlog] += (int64_t)(sc->q_n - sc->q_wait);
        memset(&sc->day, 0, sizeof sc->day);
        sc->n_tta = 0;
    }
    memcpy(series, sum, sizeof sum);
    return FW_OK;
}

/* ---- state snapshots (issue 21) ------------------------------------------------------- */

/* Whether a cell has started and been calibrated, as one byte each. */
static void flag_snap(fw_snap *s, int *v)
{
    uint32_t x = (uint32_t)*v;
    fw_snap_index(s, &x, 2, 2);
    *v = (int)x;
}

/* Per module: the notes scored and when moderation started (the catalog's times to action
 * count from it). Per cell that moderates: its false-positive rates (calibrated once, from
 * the notes there were at the first tick's end), every note's state byte, the queue whole
 * with its cursors (the entries before q_done are dead, but where they end decides when the
 * queue is compacted, so they go too: a resumed run's queue then matches the uninterrupted
 * one entry for entry).
 *  Skipped: oracle and octx (the safety part sets them at create), on (the cell's settings);
 *  day and n_tta (emptied by end_day, and a snapshot follows a day's end; tta's contents
 *  past n_tta are never read); the capacities (the loading side's own: a queue entry or time
 *  past q_n or n_tta is never read). A note is enqueued at most once per cell (only while
 *  LIVE, which it never returns to), which bounds the queue by the notes. */
static void safety_snap(fw_engine *e, void *state, fw_snap *s)
{
    fw_safety *sf = state;
    fw_snap_index(s, &sf->n_scored, e->n_notes + 1, e->n_notes + 1);
    flag_snap(s, &sf->started);
    fw_snap_tick(s, &sf->start_tick, 0, "moderation's start");
    for (uint32_t a = 0; a < e->n_arms && !fw_snap_failed(s); a++) {
        safety_cell *sc = &sf->cell[a];
        fw_snap_same_u32(s, (uint32_t)sc->on, "whether the cell moderates");
        if (!sc->on)
            continue;
        flag_snap(s, &sc->calibrated);
        fw_snap_array(s, sc->fp_cum, FW_VIOL__COUNT, sizeof *sc->fp_cum);
        fw_snap_array(s, sc->st, e->n_notes, sizeof *sc->st);
        /* q_note and q_due share q_cap: both start from it, so both grow alike. */
        size_t n_due = sc->q_n, cap_due = sc->q_cap;
        fw_snap_vec(s, (void **)&sc->q_note, &sc->q_n, &sc->q_cap, sizeof *sc->q_note, e->n_notes);
        fw_snap_vec(s, (void **)&sc->q_due, &n_due, &cap_due, sizeof *sc->q_due, e->n_notes);
        fw_snap_size(s, &sc->q_done);
        fw_snap_size(s, &sc->q_wait);
        if (!fw_snap_loading(s) || fw_snap_failed(s))
            continue;
        if (n_due != sc->q_n || sc->q_done > sc->q_wait || sc->q_wait > sc->q_n) {
            fw_snap_fail(s, "cell %u's review queue of %zu entries (%zu due times) has cursors %zu, %zu", a, sc->q_n,
                         n_due, sc->q_done, sc->q_wait);
            return;
        }
        for (size_t i = 0; i < sc->q_n; i++)
            if (sc->q_note[i] >= e->n_notes) {
                fw_snap_fail(s, "cell %u's review queue holds note %u of %u", a, sc->q_note[i], e->n_notes);
                return;
            }
    }
}

static fw_err safety_check(const fw_engine *e, const void *state, char *why, size_t cap)
{
    const fw_safety *s = state;
    if (s->n_scored > e->n_notes) {
        snprintf(why, cap, "safety: %u notes scored of %u", s->n_scored, e->n_notes);
        return FW_ERR_INTERNAL;
    }
    for (uint32_t a = 0; a < e->n_arms; a++) {
        const safety_cell *sc = &s->cell[a];
        if (!sc->on)
            continue;
        if (!(sc->q_done <= sc->q_wait && sc->q_wait <= sc->q_n)) {
            snprintf(why, cap, "safety: cell %u queue cursors %zu <= %zu <= %zu fail", a, sc->q_done, sc->q_wait,
                     sc->q_n);
            return FW_ERR_INTERNAL;
        }
        uint64_t queued = 0, open = 0;
        for (uint32_t n = 0; n < e->n_notes; n++)
            queued += (sc->st[n] & ST_MASK) == FW_NOTE_QUEUED;
        for (size_t i = sc->q_done; i < sc->q_n; i++) {
            if (sc->q_note[i] >= e->n_notes) {
                snprintf(why, cap, "safety: cell %u queues note %u of %u", a, sc->q_note[i], e->n_notes);
                return FW_ERR_INTERNAL;
            }
            open += (sc->st[sc->q_note[i]] & ST_MASK) == FW_NOTE_QUEUED;
        }
        if (open != queued) {
            snprintf(why, cap, "safety: cell %u has %llu notes queued, %llu open queue entries", a,
                     (unsigned long long)queued, (unsigned long long)open);
            return FW_ERR_INTERNAL;
        }
    }
    return FW_OK;
}

const fw_engine_module fw_safety_module = {
    .name = "safety",
    .wanted = safety_wanted,
    .state_size = sizeof(fw_safety),
    .create = safety_create,
    .destroy = safety_destroy,
    .grow_notes = safety_grow_notes,
    .end_tick = safety_end_tick,
    .end_day = safety_end_day,
    .snap = safety_snap,
    .check = safety_check,
    FW_MODULE_SERIES("moderation across the cells that moderate: notes scored, queued, actioned, backlog"),
};
