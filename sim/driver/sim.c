/* The run's state (sim.h): building it -- the world, the users' state, the assignment, each
 * cell's configuration and choice model, the engine, the threads' buffers, the parts -- and
 * the services the driver offers the parts. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "driver/clock.h"
#include "driver/part.h"
#include "driver/run.h"
#include "driver/sim.h"
#include "model/optout.h"
#include "model/rng.h"

double fw_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- services --------------------------------------------------------------------------- */

int fw_recbuf_push(fw_recbuf *b, const fw_record *r)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 4096;
        fw_record *v = realloc(b->v, cap * sizeof *v);
        if (!v)
            return -1;
        b->v = v;
        b->cap = cap;
    }
    b->v[b->n++] = *r;
    return 0;
}

/* Whether the world's and the engine's follower counts agree for every creator (the parts
 * that change follows outside the feed check it at each day's end); says which does not. */
fw_err fw_sim_check_followers(const fw_sim *S)
{
    const fw_world *w = &S->w;
    for (uint32_t c = 0; c < w->n_creators; c++) {
        uint32_t cu = w->creator_user[c], in_engine = fw_market_followers(S->engine, cu);
        if (in_engine != w->n_followers[cu]) {
            fprintf(stderr, "\nflywheel: day %u: creator %u has %u followers in the world and %u in the engine\n",
                    S->day, cu, w->n_followers[cu], in_engine);
            return FW_ERR_INTERNAL;
        }
    }
    return FW_OK;
}

const char *fw_sim_unchecked_part(const char *const *names, uint32_t n, const char *const *checked,
                                  size_t n_checked, char *list, size_t len)
{
    size_t at = 0;
    list[0] = '\0';
    for (size_t j = 0; j < n_checked && at < len; j++)
        at += (size_t)snprintf(list + at, len - at, "%s%s", j ? ", " : "", checked[j]);
    for (uint32_t k = 0; k < n; k++) {
        int ok = 0;
        for (size_t j = 0; j < n_checked; j++)
            ok |= strcmp(names[k], checked[j]) == 0;
        if (!ok)
            return names[k];
    }
    return NULL;
}

int fw_sim_grow(void **v, size_t *cap, size_t need, size_t size, size_t first)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : first ? first : 1;
    while (c < need) {
        if (c > SIZE_MAX / 2)
            return -1;
        c *= 2;
    }
    if (size && c > SIZE_MAX / size)
        return -1;
    void *n = realloc(*v, c * size);
    if (!n)
        return -1;
    *v = n;
    *cap = c;
    return 0;
}

int fw_recbuf_event(fw_recbuf *b, uint32_t user, uint32_t note, int32_t tick, uint32_t type)
{
    fw_record r = {.kind = FW_RECORD_EVENT, .u.ev = {.user = user, .note = note, .tick = tick, .type = type}};
    return fw_recbuf_push(b, &r);
}

uint32_t fw_sim_live_cell(const fw_sim *S, uint32_t u)
{
    return S->warm || S->day < S->sc->experiment_pre_days || S->sc->experiment_unit == FW_UNIT_CREATOR
               ? 0 : S->cell_of[u];
}

int fw_sim_period(const fw_sim *S)
{
    return S->warm || S->day < S->sc->experiment_pre_days ? 0 : 1;
}

int fw_sim_has_pre(const fw_sim *S)
{
    return S->sc->experiment_pre_days > 0 || S->sc->world.warmup_days > 0;
}

uint32_t *const *fw_sim_aggs(const fw_sim *S)
{
    return S->aggs.v[fw_sim_period(S)];
}

uint64_t *fw_sim_row(fw_sim *S, uint32_t user)
{
    return &S->th[0].counters[(size_t)S->cell_of[user] * S->n_counters];
}

fw_err fw_sim_rank_row(fw_sim *S, void *base, size_t size)
{
    if (S->n_rank_rows == FW_RANK_ROWS_MAX || !base || size == 0)
        return FW_ERR_INTERNAL;
    S->rank_row[S->n_rank_rows++] = (struct fw_rank_row){.base = base, .size = size};
    return FW_OK;
}

fw_err fw_sim_publish(fw_sim *S, const fw_pending_note *p, const float *emb)
{
    fw_publication pub = {.info = p->note.info, .terms = p->note.terms, .product = p->note.product,
                          .task = p->task, .declared = p->declared, .ai_generated = p->aigc};
    uint32_t wid, eid;
    fw_err rc;
    if ((rc = fw_world_add_note(&S->w, &p->note, emb, &wid)) != FW_OK ||
        (rc = fw_engine_publish_note(S->engine, S->th[0].ctx, &pub, &eid)) != FW_OK)
        return rc;
    if (S->track_aigc) {
        if (wid >= S->cap_note_aigc) {
            size_t cap = S->cap_note_aigc ? S->cap_note_aigc : 1024;
            while (cap <= wid)
                cap *= 2;
            uint8_t *v = realloc(S->note_aigc, cap);
            if (!v)
                return FW_ERR_NOMEM;
            memset(v + S->cap_note_aigc, 0, cap - S->cap_note_aigc);
            S->note_aigc = v;
            S->cap_note_aigc = cap;
        }
        S->note_aigc[wid] = p->aigc;
    }
    return wid == eid ? FW_OK : FW_ERR_INTERNAL;
}

fw_pending_note *fw_sim_queue_note(fw_sim *S, float **emb)
{
    size_t dim = S->w.dim;
    if (S->n_pend == S->pend_cap) {
        size_t cap = S->pend_cap ? 2 * S->pend_cap : 1024;
        fw_pending_note *p = realloc(S->pend, cap * sizeof *p);
        if (!p)
            return NULL;
        S->pend = p;
        float *e = realloc(S->pend_emb, cap * dim * sizeof *e);
        if (!e)
            return NULL;
        S->pend_emb = e;
        S->pend_cap = cap;
    }
    fw_pending_note *p = &S->pend[S->n_pend];
    memset(p, 0, sizeof *p);
    p->emb_at = S->n_pend * dim;
    *emb = &S->pend_emb[p->emb_at];
    S->n_pend++;
    return p;
}

/* Appends x to the list v[0..*n) of capacity *cap; 0, or -1 when it cannot grow. */
static int keep(void ***v, size_t *n, size_t *cap, void *x)
{
    if (*n == *cap) {
        size_t c = *cap ? 2 * *cap : 32;
        void **nv = realloc(*v, c * sizeof *nv);
        if (!nv)
            return -1;
        *v = nv;
        *cap = c;
    }
    (*v)[(*n)++] = x;
    return 0;
}

void *fw_sim_calloc(fw_sim *S, size_t n, size_t size)
{
    void *x = calloc(n ? n : 1, size);
    if (x && keep(&S->owned, &S->n_owned, &S->cap_owned, x)) {
        free(x);
        return NULL;
    }
    return x;
}

gsl_rng *fw_sim_rng(fw_sim *S, uint32_t purpose)
{
    gsl_rng *r = fw_rng_create(S->sc->seed, purpose, 0, 0);
    if (r && keep(&S->streams, &S->n_streams, &S->cap_streams, r)) {
        gsl_rng_free(r);
        return NULL;
    }
    return r;
}

gsl_rng **fw_sim_thread_rngs(fw_sim *S, uint32_t purpose)
{
    gsl_rng **r = fw_sim_calloc(S, (size_t)S->n_threads, sizeof *r);
    for (int k = 0; r && k < S->n_threads; k++)
        if (!(r[k] = fw_sim_rng(S, purpose)))
            return NULL;
    return r;
}

int fw_session_emit(fw_session *ss, fw_sess_event *ev)
{
    fw_sim *S = ss->S;
    for (uint32_t k = 0; k < S->n_parts; k++)
        if (S->part[k].def->on_event && S->part[k].def->on_event(ss, &S->part[k], ev))
            return -1;
    return 0;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

void fw_concentration(uint32_t *v, size_t n, double top, double *gini, double *share)
{
    *gini = *share = 0.0;
    if (n == 0)
        return;
    qsort(v, n, sizeof *v, cmp_u32);
    double sum = 0.0, weighted = 0.0;
    for (size_t i = 0; i < n; i++) {
        sum += v[i];
        weighted += (double)(i + 1) * v[i];
    }
    if (sum <= 0.0)
        return;
    *gini = (2.0 * weighted) / (n * sum) - (n + 1.0) / n;
    size_t k = (size_t)ceil(top * n), i0 = n - (k ? k : 1);
    double s = 0.0;
    for (size_t i = i0; i < n; i++)
        s += v[i];
    *share = s / sum;
}

const uint64_t *fw_sim_cell_totals(const fw_sim *S)
{
    return S->day_cells;
}

int fw_sim_counter_index(const fw_sim *S, const char *name)
{
    for (uint32_t k = 0; k < S->n_counters; k++)
        if (strcmp(S->counter_desc[k].name, name) == 0)
            return (int)k;
    return -1;
}

fw_err fw_sim_place_users(fw_sim *S)
{
    const fw_scenario *sc = S->sc;
    if (!fw_sim_has_pre(S) || S->warm || S->day != sc->experiment_pre_days || sc->experiment_unit == FW_UNIT_CREATOR)
        return FW_OK;
    fw_err rc = fw_engine_set_user_cells(S->engine, S->cell_of);
    if (rc != FW_OK)
        fprintf(stderr, "flywheel: placing users in their cells failed: %s (%s)\n", fw_err_str(rc),
                fw_engine_error(S->engine));
    return rc;
}

/* ---- building ----------------------------------------------------------------------------- */

/* About how many notes the creators will publish over the run and its warm-up (Poisson at
 * their rates, notes.c), with a margin; a capacity hint only (no result depends on it). */
static uint32_t notes_to_come(const fw_world *w, const fw_scenario *sc)
{
    double rate = 0.0;
    for (uint32_t c = 0; c < w->n_creators; c++)
        rate += w->creator_rate[c];
    double n = rate * ((double)sc->days + sc->world.warmup_days);
    n = 1.1 * n + 6.0 * sqrt(n) + 1024.0;
    double room = (double)UINT32_MAX - 1.0 - w->n_notes;
    return n < room ? (uint32_t)n : (uint32_t)room;
}

fw_err fw_sim_create(fw_sim *S, const fw_scenario *sc, const fw_run_opts *o, double *generation_s)
{
    double t0 = fw_now_s();
    memset(S, 0, sizeof *S);
    S->sc = sc;
    S->n_arms = sc->n_arms;
    S->tpd = sc->world.ticks_per_day;
    S->n_threads = fw_run_threads(sc, o->threads);
    fw_par_set_threads(S->n_threads);

    /* The world. */
    fw_err rc = fw_world_generate_until(&sc->world, sc->seed, o->stop, &S->w);
    if (rc == FW_ERR_INTERRUPT)
        return rc;
    if (rc != FW_OK) {
        fprintf(stderr, "flywheel: generating the world failed: %s\n", fw_err_str(rc));
        return rc;
    }
    /* Issue 18: the run's arrivals (its warm-up's too), in every per-user table from the start
     * (sim/parts/living.c). */
    if (sc->world.arrivals_per_day &&
        (rc = fw_world_add_arrivals(&S->w, &sc->world, sc->seed,
                                    sc->world.arrivals_per_day * (sc->days + sc->world.warmup_days))) != FW_OK) {
        fprintf(stderr, "flywheel: reserving the run's arrivals failed: %s\n", fw_err_str(rc));
        return rc;
    }
    /* Room for the notes the run will publish, so that the first one does not grow every
     * per-note array by half (a third of them unused at the end of a short run). */
    uint32_t to_come = notes_to_come(&S->w, sc);
    if (fw_world_reserve_notes(&S->w, S->w.n_notes + to_come) != FW_OK)
        goto oom;
    *generation_s = fw_now_s() - t0;
    if (fw_users_state_init(&S->us, S->w.n_users) != FW_OK)
        goto oom;
    if ((rc = fw_assignment_init(&S->asg, sc, &S->w)) != FW_OK) {
        fprintf(stderr, "flywheel: assigning arms failed: %s\n", fw_err_str(rc));
        return rc;
    }
    S->n_cells = S->asg.n_cells;
    S->cell_of = S->asg.cell_of_user;
    if (!(S->model = calloc(S->n_cells, sizeof *S->model)) ||
        !(S->cell_engine = calloc(S->n_cells, sizeof *S->cell_engine)) ||
        fw_user_aggs_init_pre(&S->aggs, S->w.n_users, fw_sim_has_pre(S)) != FW_OK)
        goto oom;
    /* A cell's configuration: the base plus the overrides of its arm in every layer (the
     * layers set disjoint keys, so their order does not matter). */
    for (uint32_t c = 0; c < S->n_cells; c++) {
        fw_behaviour_cfg b;
        fw_engine_cfg *e = &S->cell_engine[c];   /* owns its strings: freed with the sim */
        fw_diag diag;
        if (fw_scenario_cfg_copy(sc, &b, e) != FW_OK)
            goto oom;
        S->n_cell_engine = c + 1;
        for (uint32_t l = 0; l < S->asg.n_layers; l++) {
            const fw_arm *arm = &sc->arms[S->asg.cell_arm[c][l]];
            if ((rc = fw_scenario_apply(arm->set, arm->n_set, &b, e, &diag)) != FW_OK) {
                fprintf(stderr, "flywheel: %s\n", diag.msg);
                return rc;
            }
        }
        if ((rc = fw_behaviour_calibrate(&S->model[c], &b, &S->w, sc->seed)) != FW_OK) {
            fprintf(stderr, "flywheel: out of memory while calibrating the behaviour model\n");
            return rc;
        }
    }

    /* The engine sees the catalog: notes as published, who follows whom, the shop's catalog,
     * the campaigns. */
    fw_catalog cat = {.n_users = S->w.n_users, .n_topics = S->w.n_topics, .ticks_per_day = S->tpd,
                      .n_notes = S->w.n_notes, .notes = S->w.note_info,
                      .follow_offsets = S->w.follow_off, .follows = S->w.follow_dst,
                      .n_terms = S->w.n_terms, .note_terms = S->w.note_terms,
                      .n_brands = S->w.n_brands, .n_products = S->w.n_products,
                      .note_products = S->w.note_product,
                      .product_terms = S->w.product_terms,
                      .n_campaigns = S->w.n_campaigns, .campaigns = S->w.campaigns, .seed = sc->seed,
                      .reserve_notes = to_come, .follows_kept = 1};
    /* Producer-side: notes are scored under their creator's cell once the pre-period ends;
     * until then under the control cell (the engine starts with every creator in cell 0). */
    uint8_t *producer0 = NULL;
    if (sc->experiment_unit == FW_UNIT_CREATOR) {
        if (!(producer0 = calloc(S->w.n_users, 1)))
            goto oom;
        cat.producer_arm = fw_sim_has_pre(S) ? producer0 : S->cell_of;
    }
    /* Cells: users are placed in them when the arms start to differ (at once without a
     * pre-period; fw_sim_place_users at its end); in producer-side experiments every viewer is
     * in cell 0. Each cell's traffic share is the product of its arms' shares in their layers. */
    double share[FW_MAX_CELLS];
    for (uint32_t c = 0; c < S->n_cells; c++) {
        share[c] = 1.0;
        for (uint32_t l = 0; l < S->asg.n_layers; l++) {
            const fw_layer *ly = &sc->layers[l];
            double sum = 0.0;
            for (uint32_t k = 0; k < ly->n_arms; k++)
                sum += sc->arms[ly->arm[k]].weight;
            share[c] *= sc->arms[S->asg.cell_arm[c][l]].weight / sum;
        }
    }
    /* Producer-side experiments serve every viewer under cell 0: one learned state and one
     * budget is all there is to split. */
    int producer_side = sc->experiment_unit == FW_UNIT_CREATOR;
    cat.isolation = producer_side ? FW_ISOLATION_SHARED : sc->experiment_isolation;
    cat.budget_split = !producer_side && sc->experiment_budget_split;
    cat.cell_share = share;
    cat.learners_per_cell = S->asg.n_buckets;   /* 1 unless per-arm with learner groups */
    cat.user_bucket = S->asg.bucket_of_user;
    cat.user_cell = !fw_sim_has_pre(S) && sc->experiment_unit != FW_UNIT_CREATOR ? S->cell_of : NULL;
    fw_product_info *products = malloc(((size_t)S->w.n_products + 1) * sizeof *products);
    if (!products) {
        free(producer0);
        goto oom;
    }
    for (uint32_t p = 0; p < S->w.n_products; p++)
        products[p] = (fw_product_info){.brand = S->w.product_brand[p], .category = S->w.product_category[p],
                                        .price_cents = S->w.product_price_cents[p],
                                        .stock = S->w.product_stock[p]};
    cat.products = products;
    /* world.optout_share: the users who opt out of personalisation (the engine copies them). */
    uint8_t *optout = NULL;
    if (fw_optout_draw(sc->seed, S->w.n_users, sc->world.optout_share, &optout) != FW_OK) {
        free(products);
        free(producer0);
        goto oom;
    }
    cat.optout = optout;
    char why[1024];
    S->engine = fw_engine_create_why(&cat, S->cell_engine, S->n_cells, &rc, why, sizeof why);
    free(optout);
    free(products);
    free(producer0);
    if (!S->engine) {
        fprintf(stderr, "flywheel: creating the engine failed: %s%s%s\n", fw_err_str(rc), why[0] ? ": " : "", why);
        return rc;
    }
    if (o->plant_ns > 0 && (rc = fw_engine_plant_delay(S->engine, (fw_stage)o->plant_stage, o->plant_ns)) != FW_OK) {
        fprintf(stderr, "flywheel: cannot plant a delay in stage %s\n", fw_stage_name((fw_stage)o->plant_stage));
        return rc;
    }

    /* Issue 22: the engine's barrier work (training features, note rows, day-end rebuilds)
     * through the parallel driver, on the run's threads; results do not depend on it. */
    fw_engine_set_par(S->engine, fw_par_for, S->n_threads);

    /* The threads' engine contexts, streams and page scratch. */
    if (!(S->th = calloc((size_t)S->n_threads, sizeof *S->th)))
        goto oom;
    for (int t = 0; t < S->n_threads; t++) {
        fw_thread *b = &S->th[t];
        if (!(b->ctx = fw_engine_ctx_create(S->engine)) || !(b->rng = fw_rng_create(sc->seed, FW_RNG_ACTIVITY, 0, 0)) ||
            !(b->page = calloc(FW_PAGE_SLOTS, sizeof *b->page)) ||
            !(b->slots = calloc(FW_PAGE_SLOTS + 1, sizeof *b->slots)))
            goto oom;
    }
    return FW_OK;
oom:
    fprintf(stderr, "flywheel: out of memory while setting up the run\n");
    return FW_ERR_NOMEM;
}

fw_err fw_sim_create_parts(fw_sim *S, const fw_part *const *parts, uint32_t n_parts, const fw_counter_desc *desc,
                           uint32_t n_counters, const uint32_t *base)
{
    S->counter_desc = desc;
    S->n_counters = n_counters;
    if (!(S->day_cells = calloc((size_t)S->n_cells * n_counters + 1, sizeof *S->day_cells)))
        goto nomem;
    for (int t = 0; t < S->n_threads; t++)
        if (!(S->th[t].counters = calloc((size_t)S->n_cells * n_counters + 1, sizeof *S->th[t].counters)))
            goto nomem;
    if (n_parts > FW_MAX_PARTS) {
        fprintf(stderr, "flywheel: %u parts, at most %d\n", n_parts, FW_MAX_PARTS);
        return FW_ERR_INTERNAL;
    }
    for (uint32_t k = 0; k < n_parts; k++) {
        fw_part_inst *p = &S->part[S->n_parts];
        *p = (fw_part_inst){.def = parts[k], .base = base[k]};
        if (p->def->state_size && !(p->state = calloc(1, p->def->state_size)))
            goto nomem;
        S->n_parts++;
        fw_err rc = p->def->create ? p->def->create(S, p) : FW_OK;
        if (rc != FW_OK) {
            fprintf(stderr, "flywheel: setting up the %s part failed: %s\n", p->def->name, fw_err_str(rc));
            return rc;
        }
    }
    return FW_OK;
nomem:
    fprintf(stderr, "flywheel: out of memory while setting up the run\n");
    return FW_ERR_NOMEM;
}

void fw_sim_fini_parts(fw_sim *S)
{
    for (uint32_t k = S->n_parts; k-- > 0;) {
        if (S->part[k].def->destroy)
            S->part[k].def->destroy(S, &S->part[k]);
        if (S->part[k].def->state_size)
            free(S->part[k].state);
    }
    for (size_t k = 0; k < S->n_owned; k++)
        free(S->owned[k]);
    for (size_t k = 0; k < S->n_streams; k++)
        gsl_rng_free((gsl_rng *)S->streams[k]);
    free(S->owned);
    free(S->streams);
    S->n_parts = 0;
    S->n_rank_rows = 0;
    S->owned = S->streams = NULL;
    S->n_owned = S->n_streams = S->cap_owned = S->cap_streams = 0;
}

void fw_sim_fini(fw_sim *S)
{
    fw_sim_fini_parts(S);
    if (S->th)
        for (int t = 0; t < S->n_threads; t++) {
            fw_engine_ctx_destroy(S->th[t].ctx);
            gsl_rng_free(S->th[t].rng);
            free(S->th[t].rec.v);
            free(S->th[t].counters);
            free(S->th[t].page);
            free(S->th[t].slots);
        }
    free(S->th);
    fw_engine_destroy(S->engine);
    fw_users_state_fini(&S->us, S->w.n_users);
    fw_world_fini(&S->w);
    free(S->model);
    for (uint32_t c = 0; S->cell_engine && c < S->n_cell_engine; c++)
        fw_scenario_cfg_free(NULL, &S->cell_engine[c]);
    free(S->cell_engine);
    fw_assignment_fini(&S->asg);
    fw_user_aggs_fini(&S->aggs);
    free(S->day_cells);
    free(S->pend);
    free(S->note_aigc);
    free(S->pend_emb);
    memset(S, 0, sizeof *S);
}
