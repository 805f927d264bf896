/* Users partitioned over MPI ranks (ranks.h). */
#include <stdlib.h>
#include <string.h>

#include "driver/evlog.h"
#include "driver/part.h"
#include "driver/ranks.h"

/* The parts whose hooks keep to the contract the exchange relies on: a session writes only
 * its user's rows listed in pack_rows (world interests, the users' state, the per-user
 * aggregates, the parts' own rows given with fw_sim_rank_row), the thread's records and
 * counters, and scratch; barrier and day hooks run on every rank on replicated state.
 * Checked part by part (docs/ARCHITECTURE.md, "Ranks"); notify's seen_day and unfollow's
 * disinterest are the user's own and read only by the user's sessions, so they stay with the
 * owner; advertisers, promo, aigc, media, living and followback act at barriers and day ends
 * only; safety's planted product (read by the shop's barrier when an order comes back) and
 * live's join of the tick (read by its barrier) are rank rows; suggest's session reads only
 * what its barriers built; the tables' two session counts (sessions per user, search
 * examinations by rank) are summed over the ranks at its day end. Any other part refuses the
 * run under several ranks. */
static const char *const checked_parts[] = {
    "feed",   "notes",       "search", "shop",   "ads",    "reach", "oracle", "market",
    "adnotes", "searchprod", "notify", "advertisers", "promo", "tables", "safety", "aigc",
    "media",  "living",      "live",   "unfollow", "followback", "suggest"};

fw_err fw_ranks_init(fw_ranks *R, const fw_sim *S, int local)
{
    memset(R, 0, sizeof *R);
    R->rank = local ? 0 : fw_mpi_rank();
    R->size = local ? 1 : fw_mpi_size();
    uint64_t n = S->w.n_users;
    R->lo = (uint32_t)(n * (uint64_t)R->rank / (uint64_t)R->size);
    R->hi = (uint32_t)(n * (uint64_t)(R->rank + 1) / (uint64_t)R->size);
    R->row_bytes = sizeof(uint32_t) + (size_t)S->w.n_topics * sizeof(float) + 2 * sizeof(uint32_t) + 1 +
                   sizeof(int64_t) + FW_INTENTS * sizeof(fw_intent) + FW_SATIATIONS * sizeof(fw_satiation) +
                   FW_UM__COUNT * sizeof(uint32_t);
    for (uint32_t k = 0; k < S->n_rank_rows; k++)
        R->row_bytes += S->rank_row[k].size;
    if (R->size > 1 && (!(R->at = calloc((size_t)R->size + 1, sizeof *R->at)) ||
                        !(R->saved = calloc((size_t)S->n_cells * S->n_counters + 1, sizeof *R->saved)) ||
                        !(R->tick_user = malloc(((size_t)S->w.n_users + 1) * sizeof *R->tick_user))))
        return FW_ERR_NOMEM;
    return FW_OK;
}

void fw_ranks_fini(fw_ranks *R)
{
    fw_bytes_free(&R->out);
    fw_bytes_free(&R->all);
    free(R->at);
    free(R->saved);
    free(R->tick_user);
    memset(R, 0, sizeof *R);
}

const char *fw_ranks_refusal(const fw_sim *S, const char *const *names, uint32_t n, int local)
{
    static char why[512];
    if (local || fw_mpi_size() == 1)
        return NULL;
    for (uint32_t c = 0; c < S->n_cells; c++)
        if (S->cell_engine[c].feed.algorithm == FW_FEED_PLUGIN)
            return "engine.feed.algorithm plugin (a ranker plug-in may keep state the ranks do not exchange) is "
                   "not supported on several ranks";
    char list[200];
    const char *part = fw_sim_unchecked_part(names, n, checked_parts, sizeof checked_parts / sizeof *checked_parts,
                                             list, sizeof list);
    if (!part)
        return NULL;
    snprintf(why, sizeof why, "the scenario runs the %s part, not yet checked for several ranks (checked: %s)", part,
             list);
    return why;
}

void fw_ranks_serial_begin(fw_ranks *R, fw_sim *S)
{
    if (R->rank > 0)
        memcpy(R->saved, S->th[0].counters, (size_t)S->n_cells * S->n_counters * sizeof *R->saved);
}

void fw_ranks_serial_end(fw_ranks *R, fw_sim *S)
{
    if (R->rank > 0)
        memcpy(S->th[0].counters, R->saved, (size_t)S->n_cells * S->n_counters * sizeof *R->saved);
}

static void work_sum(const fw_sim *S, uint64_t *w)
{
    for (int k = 0; k < FW_WORK__COUNT; k++) {
        w[k] = 0;
        for (int s = 0; s < S->n_threads; s++)
            w[k] += fw_engine_ctx_work(S->th[s].ctx, (fw_work)k);
    }
}

void fw_ranks_sessions_begin(fw_ranks *R, const fw_sim *S)
{
    if (R->size > 1)
        work_sum(S, R->work_mark);
}

void fw_ranks_sessions_end(fw_ranks *R, const fw_sim *S)
{
    if (R->size == 1)
        return;
    uint64_t w[FW_WORK__COUNT];
    work_sum(S, w);
    for (int k = 0; k < FW_WORK__COUNT; k++)
        R->work_par[k] += w[k] - R->work_mark[k];
}

/* ---- the exchange's encoding -------------------------------------------------------------
 * A rank's message: uint64 records, uint64 users; each record as its kind and aux (uint32
 * each) and only its kind's member of the union; each user as its id and its rows. Bytes
 * are copied (not aligned): every rank is the same build on the same kind of machine. */

static size_t payload(uint32_t kind)
{
    const fw_record *r = NULL;
    switch (kind) {
    case FW_RECORD_EVENT: return sizeof r->u.ev;
    case FW_RECORD_SEARCH_CLICK: return sizeof r->u.click;
    case FW_RECORD_SHOP_EVENT: return sizeof r->u.shop;
    case FW_RECORD_ORDER: return sizeof r->u.order;
    case FW_RECORD_RETURN: return sizeof r->u.ret;
    case FW_RECORD_AD_EVENT: return sizeof r->u.ad;
    case FW_RECORD_UNFOLLOW: return sizeof r->u.unfollow;
    case FW_RECORD_FOLLOW: return sizeof r->u.follow;
    default: return sizeof r->u;
    }
}

#define PUT(p, x, n) (memcpy((p), (x), (n)), (p) += (n))
#define GET(x, p, n) (memcpy((x), (p), (n)), (p) += (n))

/* The rows a session may write for its user (fw_session's contract, the checked parts):
 * interests (the feed's drift), the day's impressions and opens, searched today, the month's
 * spending, intents, satiation, the current period's per-user aggregates, and the parts'
 * own rows (fw_sim_rank_row). */
static unsigned char *pack_rows(const fw_sim *S, uint32_t u, unsigned char *p)
{
    const fw_users_state *s = &S->us;
    uint32_t T = S->w.n_topics, period = fw_sim_period(S);
    PUT(p, &u, sizeof u);
    PUT(p, &S->w.interest[(size_t)u * T], T * sizeof(float));
    PUT(p, &s->day_impressions[u], sizeof(uint32_t));
    PUT(p, &s->day_opens[u], sizeof(uint32_t));
    PUT(p, &s->searched_today[u], 1);
    PUT(p, &s->spent_cents[u], sizeof(int64_t));
    PUT(p, &s->intent[(size_t)u * FW_INTENTS], FW_INTENTS * sizeof(fw_intent));
    PUT(p, &s->satiation[(size_t)u * FW_SATIATIONS], FW_SATIATIONS * sizeof(fw_satiation));
    for (int m = 0; m < FW_UM__COUNT; m++)
        PUT(p, &S->aggs.v[period][m][u], sizeof(uint32_t));
    for (uint32_t k = 0; k < S->n_rank_rows; k++)
        PUT(p, (const unsigned char *)S->rank_row[k].base + (size_t)u * S->rank_row[k].size, S->rank_row[k].size);
    return p;
}

static const unsigned char *unpack_rows(fw_sim *S, const unsigned char *p, uint32_t *user)
{
    fw_users_state *s = &S->us;
    uint32_t T = S->w.n_topics, period = fw_sim_period(S), u;
    GET(&u, p, sizeof u);
    *user = u;
    GET(&S->w.interest[(size_t)u * T], p, T * sizeof(float));
    GET(&s->day_impressions[u], p, sizeof(uint32_t));
    GET(&s->day_opens[u], p, sizeof(uint32_t));
    GET(&s->searched_today[u], p, 1);
    GET(&s->spent_cents[u], p, sizeof(int64_t));
    GET(&s->intent[(size_t)u * FW_INTENTS], p, FW_INTENTS * sizeof(fw_intent));
    GET(&s->satiation[(size_t)u * FW_SATIATIONS], p, FW_SATIATIONS * sizeof(fw_satiation));
    for (int m = 0; m < FW_UM__COUNT; m++)
        GET(&S->aggs.v[period][m][u], p, sizeof(uint32_t));
    for (uint32_t k = 0; k < S->n_rank_rows; k++)
        GET((unsigned char *)S->rank_row[k].base + (size_t)u * S->rank_row[k].size, p, S->rank_row[k].size);
    return p;
}

/* FLYWHEEL_MPI_TRACE=1: each tick's log as a hash on stderr (rank 0; a one-process run
 * prints the same lines), to find the first tick where ranks and one process part. */
static void trace(const fw_sim *S, const fw_recbuf *log)
{
    static int on = -1;
    if (on < 0)
        on = getenv("FLYWHEEL_MPI_TRACE") != NULL;
    if (!on || fw_mpi_rank() != 0)
        return;
    uint64_t h = 1469598103934665603ULL, hu = h;
    for (size_t k = 0; k < log->n; k++) {
        const unsigned char *b = (const unsigned char *)&log->v[k].u;
        h = (h ^ log->v[k].kind) * 1099511628211ULL;
        for (size_t i = 0; i < payload(log->v[k].kind); i++)
            h = (h ^ b[i]) * 1099511628211ULL;
    }
    for (uint32_t u = 0; u < S->w.n_users; u++) {
        const unsigned char *b = (const unsigned char *)&S->w.interest[(size_t)u * S->w.n_topics];
        for (size_t i = 0; i < S->w.n_topics * sizeof(float); i++)
            hu = (hu ^ b[i]) * 1099511628211ULL;
        hu = (hu ^ (uint64_t)S->us.spent_cents[u]) * 1099511628211ULL;
        hu = (hu ^ S->us.day_impressions[u]) * 1099511628211ULL;
    }
    fprintf(stderr, "trace tick %d records %zu log %016llx users %016llx\n", S->abs_tick, log->n,
            (unsigned long long)h, (unsigned long long)hu);
}

fw_err fw_ranks_exchange(fw_ranks *R, fw_sim *S, fw_recbuf *log, const uint32_t *run_user, size_t n_runs,
                         fw_evlog *ev, const fw_evlog_span *ev_runs, int stop, int *stop_any)
{
    *stop_any = stop;
    if (R->size == 1) {
        S->tick_user = run_user;
        S->n_tick_users = n_runs;
        trace(S, log);
        return FW_OK;
    }
    double t0 = fw_now_s();
    if (ev) {
        fw_err rc = fw_evlog_threads_ok(ev);
        if (rc != FW_OK)
            return rc;
    }
    size_t need = 2 * sizeof(uint64_t) + n_runs * R->row_bytes, ev_need = 0;
    for (size_t k = 0; k < log->n; k++)
        need += 2 * sizeof(uint32_t) + payload(log->v[k].kind);
    for (size_t i = 0; ev && i < n_runs; i++)
        ev_need += fw_evlog_span_bytes(&ev_runs[i]);
    need += ev_need;
    R->out.n = 0;
    unsigned char *p = fw_bytes_add(&R->out, need);
    if (!p)
        return FW_ERR_NOMEM;
    uint64_t hdr[2] = {log->n, n_runs};
    PUT(p, hdr, sizeof hdr);
    for (size_t k = 0; k < log->n; k++) {
        const fw_record *r = &log->v[k];
        PUT(p, &r->kind, sizeof r->kind);
        PUT(p, &r->aux, sizeof r->aux);
        PUT(p, &r->u, payload(r->kind));
    }
    for (size_t i = 0; i < n_runs; i++) {
        p = pack_rows(S, run_user[i], p);
        if (ev)   /* the user's event log rows of the tick (output.events) */
            p = fw_evlog_pack(ev, &ev_runs[i], p);
    }
    double t1 = fw_now_s(), sync;
    fw_err rc = fw_mpi_exchange(R->out.v, R->out.n, stop, &R->all, R->at, stop_any, &sync);
    if (rc != FW_OK)
        return rc;
    double t2 = fw_now_s();
    R->t_sync += sync;
    R->t_data += t2 - t1 - sync;
    R->bytes += R->all.n;
    R->ticks++;
    if (R->all.n > R->max_tick_bytes)
        R->max_tick_bytes = R->all.n;
    /* The whole log, rank by rank: rank order is user order (contiguous slices); so are
     * the users who ran. */
    log->n = 0;
    size_t n_tick = 0, own = 0;
    fw_err ev_rc = FW_OK;
    for (int r = 0; r < R->size; r++) {
        const unsigned char *q = R->all.v + R->at[r];
        GET(hdr, q, sizeof hdr);
        for (uint64_t k = 0; k < hdr[0]; k++) {
            fw_record rec;
            memset(&rec, 0, sizeof rec);
            GET(&rec.kind, q, sizeof rec.kind);
            GET(&rec.aux, q, sizeof rec.aux);
            GET(&rec.u, q, payload(rec.kind));
            if (fw_recbuf_push(log, &rec))
                return FW_ERR_NOMEM;
        }
        R->user_ticks += hdr[1];
        R->records += hdr[0];
        for (uint64_t i = 0; i < hdr[1]; i++) {
            uint32_t u;
            if (r == R->rank) {
                memcpy(&u, q, sizeof u);
                q += R->row_bytes;   /* this rank's own users: already here */
                if (ev) {            /* their event rows: from the threads' buffers */
                    if (ev_rc == FW_OK)
                        ev_rc = fw_evlog_merge_span(ev, &ev_runs[own]);
                    const unsigned char *q0 = q;
                    q = fw_evlog_skip(q);
                    R->ev_bytes += (uint64_t)(q - q0);
                }
                own++;
            } else {
                q = unpack_rows(S, q, &u);
                if (ev) {
                    fw_err e1 = FW_OK;
                    const unsigned char *q0 = q;
                    q = fw_evlog_unpack(ev, q, &e1);
                    ev_rc = ev_rc == FW_OK ? e1 : ev_rc;
                    R->ev_bytes += (uint64_t)(q - q0);
                }
            }
            if (u >= S->w.n_users || n_tick == S->w.n_users || (n_tick && u <= R->tick_user[n_tick - 1]))
                return FW_ERR_INTERNAL;   /* the slices hold distinct users in id order */
            R->tick_user[n_tick++] = u;
        }
        if (q != R->all.v + R->at[r + 1])
            return FW_ERR_INTERNAL;
    }
    if (own != n_runs)
        return FW_ERR_INTERNAL;
    if (ev) {
        fw_evlog_merged(ev);
        if (ev_rc != FW_OK)
            return ev_rc;
    }
    R->t_pack += (t1 - t0) + (fw_now_s() - t2);
    S->tick_user = R->tick_user;
    S->n_tick_users = n_tick;
    trace(S, log);
    return FW_OK;
}

fw_err fw_ranks_day_end(fw_ranks *R, fw_sim *S, uint64_t *day_cells)
{
    if (R->size == 1)
        return FW_OK;
    return fw_mpi_sum_u64(day_cells, (size_t)S->n_cells * S->n_counters);
}

fw_err fw_ranks_day_work(fw_ranks *R, fw_sim *S)
{
    if (R->size == 1)
        return FW_OK;
    if (R->rank == 0)
        work_sum(S, R->day_work);
    else
        memcpy(R->day_work, R->work_par, sizeof R->day_work);
    memset(R->work_par, 0, sizeof R->work_par);
    return fw_mpi_sum_u64(R->day_work, FW_WORK__COUNT);
}

void fw_ranks_fault(const fw_ranks *R, uint32_t day)
{
    const char *v = getenv("FLYWHEEL_MPI_FAULT");
    unsigned rank, d;
    if (R->size > 1 && v && sscanf(v, "%u:%u", &rank, &d) == 2 && rank == (unsigned)R->rank && d == day) {
        fprintf(stderr, "flywheel: FLYWHEEL_MPI_FAULT: rank %u dies on day %u\n", rank, d);
        abort();
    }
}

void fw_ranks_warmed(fw_ranks *R)
{
    R->bytes = R->max_tick_bytes = R->ticks = R->user_ticks = R->records = R->ev_bytes = 0;
    R->t_sync = R->t_data = R->t_pack = 0.0;
}

void fw_ranks_summary(const fw_ranks *R, const fw_sim *S, uint32_t days, FILE *out)
{
    if (!out || R->size == 1)
        return;
    double per_tick = R->ticks ? (double)R->bytes / R->ticks : 0.0;
    double per_user_day = days && S->w.n_users ? (double)R->bytes / days / S->w.n_users : 0.0;
    double per_user_tick = R->user_ticks ? (double)R->bytes / R->user_ticks : 0.0;
    double rows = (double)R->user_ticks * R->row_bytes, evb = (double)R->ev_bytes;
    char evs[64] = "";
    if (R->ev_bytes)
        snprintf(evs, sizeof evs, ", %.0f%% event log rows", R->bytes ? 100.0 * evb / R->bytes : 0.0);
    fprintf(out,
            "  ranks: %d (users %u..%u on rank 0); exchanged %.0f bytes per tick (max %llu), %.1f per active "
            "user-tick, %.1f per user per day; %.1f MB in %llu exchanges (each rank receives all of it): "
            "%.0f%% users' rows (%zu bytes each), %.0f%% records (%.1f bytes each)%s; rank 0 spent %.2f s waiting "
            "for the others, %.2f s moving the data and %.2f s packing and unpacking\n",
            R->size, R->lo, R->hi ? R->hi - 1 : 0, per_tick, (unsigned long long)R->max_tick_bytes, per_user_tick,
            per_user_day, R->bytes / 1e6, (unsigned long long)R->ticks, R->bytes ? 100.0 * rows / R->bytes : 0.0,
            R->row_bytes, R->bytes ? 100.0 * (R->bytes - rows - evb) / R->bytes : 0.0,
            R->records ? (R->bytes - rows - evb - 16.0 * R->ticks * R->size) / R->records : 0.0, evs, R->t_sync,
            R->t_data, R->t_pack);
}
