/* The brand-creator marketplace (flywheel/market.h). Tasks live in one table by id; every
 * call is a barrier call, so the table needs no care beyond order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "flywheel/market.h"

/* The marketplace at a day's end: the series of /market/days. X(name, unit, description). */
#define FW_MARKET_DAY_SERIES(X)                                                                \
    X(tasks_posted, "tasks", "tasks brands posted, to date")                                   \
    X(tasks_matched, "tasks", "tasks matched with a creator, to date")                         \
    X(tasks_delivered, "tasks", "sponsored notes that passed review, to date")                 \
    X(tasks_completed, "tasks", "tasks settled (the creator paid), to date")                   \
    X(tasks_expired, "tasks", "tasks nobody was matched to in time, to date")                  \
    X(tasks_failed, "tasks", "matched tasks not delivered in time or failing review twice, to date") \
    X(payments_cents, "cents", "paid to creators, to date (= the brands' task spend settled)")  \
    X(committed_cents, "cents", "prices agreed in matches, to date")                           \
    X(earning_creators, "creators", "creators with marketplace income")                        \
    X(income_gini_ppm, "1e-6", "Gini of marketplace income over the creators who earned (x 1e6)")

FW_DECLARE_SERIES(FW_MARKET_DAY_SERIES);

struct fw_market {
    fw_task_info *t;
    uint32_t n, cap;
    int64_t *income;        /* [n_users] settled payments received */
    uint32_t *scratch;      /* [n_users] the day's incomes, for their Gini */
    fw_market_totals tot;
    /* The budgets of the open tasks, summed: with tot.committed_cents, the most the books can
     * ever hold. A task's price is at most its budget and is committed once, payments are
     * committed prices and a creator's income a part of them, so while committed + open fits
     * an int64 (fw_market_post refuses a task that would take it past) no sum overflows.
     * Derived: summed again when a snapshot loads, checked by fw_market_check. */
    int64_t open_cents;
};

static struct fw_market *M_of(const fw_engine *e) { return fw_mod(e, FW_MOD_MARKET); }

static const char *const status_names[FW_MTASK__COUNT] = {"open", "matched", "delivered", "completed",
                                                          "expired", "failed"};

const char *fw_task_status_name(fw_task_status s)
{
    return (unsigned)s < FW_MTASK__COUNT ? status_names[s] : "?";
}

static fw_err market_create(fw_engine *e, const fw_catalog *cat, void **state)
{
    (void)cat;
    struct fw_market *m = *state;
    /* t grows with realloc; the engine frees whatever it holds. */
    if (!fw_alloc(e, &m->income, e->n_users, sizeof *m->income) ||
        !fw_alloc(e, &m->scratch, (size_t)e->n_users + 1, sizeof *m->scratch) || !fw_alloc(e, &m->t, 0, sizeof *m->t))
        return FW_ERR_NOMEM;
    return FW_OK;
}

/* The marketplace counts followers as the engine does: the catalog's graph plus follows
 * logged since. */
uint32_t fw_market_followers(const fw_engine *e, uint32_t user)
{
    return user < e->n_users ? e->followers[user] : 0;
}

fw_err fw_market_post(fw_engine *e, const fw_task_post *p, uint32_t *id)
{
    struct fw_market *m = M_of(e);
    if (p->budget_cents <= 0 || p->niche >= (e->n_topics ? e->n_topics : 1) ||
        p->followers_min > p->followers_max)
        return FW_ERR_INVAL;
    int64_t room;
    if (__builtin_add_overflow(m->tot.committed_cents, m->open_cents, &room) ||
        __builtin_add_overflow(room, p->budget_cents, &room)) {
        snprintf(e->why, sizeof e->why,
                 "market: a task's budget of %lld cents would take the marketplace's books past what 64-bit "
                 "cents count (%lld committed, %lld in open tasks); lower world.task_budget_cents",
                 (long long)p->budget_cents, (long long)m->tot.committed_cents, (long long)m->open_cents);
        return FW_ERR_RANGE;
    }
    if (m->n == m->cap) {
        uint32_t cap = m->cap ? 2 * m->cap : 256;
        fw_task_info *v = realloc(m->t, (size_t)cap * sizeof *v);
        if (!v)
            return FW_ERR_NOMEM;
        m->t = v;
        m->cap = cap;
    }
    *id = m->n;
    m->open_cents += p->budget_cents;
    m->t[m->n++] = (fw_task_info){.post = *p, .status = FW_MTASK_OPEN, .creator = FW_NONE, .note = FW_NONE,
                                  .matched_tick = -1, .delivered_tick = -1, .settled_tick = -1};
    m->tot.posted++;
    return FW_OK;
}

static int quote_ok(const fw_engine *e, const fw_quote *q)
{
    const struct fw_market *m = M_of(e);
    if (q->task >= m->n || q->creator >= e->n_users || q->price_cents <= 0 || !(q->predicted_reads >= 0.0))
        return 0;
    const fw_task_info *t = &m->t[q->task];
    uint32_t f = e->followers[q->creator];
    return t->status == FW_MTASK_OPEN && q->price_cents <= t->post.budget_cents && f >= t->post.followers_min &&
           f <= t->post.followers_max;
}

static double value(const fw_quote *q) { return q->predicted_reads / (double)q->price_cents; }

typedef struct ranked {
    double v;
    uint32_t task, creator, i;
} ranked;

/* Best value first; ties by lower task, then lower creator, then position: the result does
 * not depend on the order quotes come in (but for exact duplicates). */
static int cmp_ranked(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->v != y->v)
        return x->v > y->v ? -1 : 1;
    if (x->task != y->task)
        return x->task < y->task ? -1 : 1;
    if (x->creator != y->creator)
        return x->creator < y->creator ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

static int in_list(const uint32_t *v, uint32_t n, uint32_t x)
{
    for (uint32_t k = 0; k < n; k++)
        if (v[k] == x)
            return 1;
    return 0;
}

static void assign(struct fw_market *m, const fw_quote *q, int32_t tick)
{
    fw_task_info *t = &m->t[q->task];
    m->open_cents -= t->post.budget_cents;   /* price <= budget (quote_ok): committed + open does not grow */
    t->status = FW_MTASK_MATCHED;
    t->creator = q->creator;
    t->price_cents = q->price_cents;
    t->matched_tick = tick;
    m->tot.matched++;
    m->tot.committed_cents += q->price_cents;
}

uint32_t fw_market_match(fw_engine *e, const fw_quote *quotes, size_t n, int32_t tick)
{
    struct fw_market *m = M_of(e);
    ranked *r = malloc((n ? n : 1) * sizeof *r);
    uint32_t *busy = NULL;   /* creators given a task in this call (sorted list) */
    uint32_t n_busy = 0, matched = 0;
    if (!r || !(busy = malloc((n ? n : 1) * sizeof *busy))) {
        free(r);
        return 0;
    }
    size_t nr = 0;
    for (size_t k = 0; k < n; k++)
        if (quote_ok(e, &quotes[k]))
            r[nr++] = (ranked){value(&quotes[k]), quotes[k].task, quotes[k].creator, (uint32_t)k};
    qsort(r, nr, sizeof *r, cmp_ranked);
    if (fw_cfg(e, 0)->market.matching == FW_MATCH_GREEDY) {
        /* The pairs of highest predicted reads per cent first. */
        for (size_t k = 0; k < nr; k++) {
            const fw_quote *q = &quotes[r[k].i];
            if (m->t[q->task].status != FW_MTASK_OPEN || in_list(busy, n_busy, q->creator))
                continue;
            assign(m, q, tick);
            busy[n_busy++] = q->creator;
            matched++;
        }
    } else {
        /* Gale-Shapley, brands proposing: each open task proposes down its list (by
         * predicted reads per cent); a creator holds the best-paying proposal so far (ties:
         * lower task id) and releases the one it held. Lists are the ranked quotes. */
        uint32_t n_tasks = m->n;
        size_t *next = calloc(n_tasks ? n_tasks : 1, sizeof *next);          /* position in r */
        uint32_t *held_by = malloc(((size_t)e->n_users ? e->n_users : 1) * sizeof *held_by);
        uint32_t *held_q = malloc(((size_t)e->n_users ? e->n_users : 1) * sizeof *held_q);
        if (!next || !held_by || !held_q) {
            free(next);
            free(held_by);
            free(held_q);
            free(r);
            free(busy);
            return 0;
        }
        for (uint32_t u = 0; u < e->n_users; u++)
            held_by[u] = FW_NONE;
        for (int progress = 1; progress;) {
            progress = 0;
            for (uint32_t t = 0; t < n_tasks; t++) {
                if (m->t[t].status != FW_MTASK_OPEN)
                    continue;
                int holds = 0;
                for (uint32_t u = 0; u < n_busy && !holds; u++)
                    holds = held_by[busy[u]] == t;
                if (holds)
                    continue;
                /* t's next quote in rank order. */
                while (next[t] < nr && quotes[r[next[t]].i].task != t)
                    next[t]++;
                if (next[t] >= nr)
                    continue;
                const fw_quote *q = &quotes[r[next[t]++].i];
                uint32_t c = q->creator, cur = held_by[c];
                progress = 1;
                if (cur == FW_NONE) {
                    held_by[c] = t;
                    held_q[c] = (uint32_t)(q - quotes);
                    busy[n_busy++] = c;
                } else {
                    const fw_quote *old = &quotes[held_q[c]];
                    if (q->price_cents > old->price_cents || (q->price_cents == old->price_cents && t < cur)) {
                        held_by[c] = t;
                        held_q[c] = (uint32_t)(q - quotes);
                    }
                }
            }
        }
        for (uint32_t k = 0; k < n_busy; k++) {
            uint32_t c = busy[k];
            assign(m, &quotes[held_q[c]], tick);
            matched++;
        }
        free(next);
        free(held_by);
        free(held_q);
    }
    free(r);
    free(busy);
    return matched;
}

static double hash_unit(uint64_t a, uint64_t b)
{
    uint64_t x = a * UINT64_C(0x9e3779b97f4a7c15) ^ (b + UINT64_C(0x632be59bd9b4e019));
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    x ^= x >> 31;
    return (double)(x >> 11) * 0x1.0p-53;
}

fw_err fw_market_deliver(fw_engine *e, uint32_t task, uint32_t note, int32_t tick, int *passed)
{
    struct fw_market *m = M_of(e);
    if (task >= m->n || note >= e->n_notes)
        return FW_ERR_INVAL;
    fw_task_info *t = &m->t[task];
    /* The sponsored note must be the matched creator's (which note is the caller's: the
     * simulator delivers the one it wrote for the task). */
    if (t->status != FW_MTASK_MATCHED || e->notes[note].creator != t->creator)
        return FW_ERR_INVAL;
    *passed = 0;
    t->reviews++;
    /* A matched task is its creator's: their cell's review. */
    if (hash_unit(task, t->reviews) < fw_cfg(e, fw_creator_cell(e, t->creator))->market.review_pass) {
        t->status = FW_MTASK_DELIVERED;
        t->note = note;
        t->delivered_tick = tick;
        m->tot.delivered++;
        *passed = 1;
    } else if (t->reviews >= 2) {
        t->status = FW_MTASK_FAILED;
        m->tot.failed++;
    }
    return FW_OK;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* The Gini coefficient of v[0..n) (sorted here, ascending). */
static double gini(uint32_t *v, size_t n)
{
    if (n == 0)
        return 0.0;
    qsort(v, n, sizeof *v, cmp_u32);
    double sum = 0.0, weighted = 0.0;
    for (size_t i = 0; i < n; i++) {
        sum += v[i];
        weighted += (double)(i + 1) * v[i];
    }
    return sum > 0.0 ? (2.0 * weighted) / (n * sum) - (n + 1.0) / n : 0.0;
}

/* The day's end: expiries, failures and settlements, then the books. */
static fw_err market_end_day(fw_engine *e, void *state, fw_engine_ctx *ctx, uint32_t day, int64_t *series)
{
    (void)ctx;
    struct fw_market *m = state;
    /* Matching and expiry are the market's (one value per run: cell 0's); a matched task's
     * deadline and settlement are its creator's cell's. */
    const fw_market_cfg *g = &fw_cfg(e, 0)->market;
    int32_t now = (int32_t)((day + 1) * e->ticks_per_day), tpd = (int32_t)e->ticks_per_day;
    for (uint32_t k = 0; k < m->n; k++) {
        fw_task_info *t = &m->t[k];
        switch (t->status) {
        case FW_MTASK_OPEN:
            if (now - t->post.tick >= (int32_t)g->expire_days * tpd) {
                t->status = FW_MTASK_EXPIRED;
                m->tot.expired++;
                m->open_cents -= t->post.budget_cents;
            }
            break;
        case FW_MTASK_MATCHED:
            if (now - t->matched_tick >= (int32_t)fw_cfg(e, fw_creator_cell(e, t->creator))->market.deliver_days * tpd) {
                t->status = FW_MTASK_FAILED;
                m->tot.failed++;
            }
            break;
        case FW_MTASK_DELIVERED:
            if (now - t->delivered_tick >= (int32_t)fw_cfg(e, fw_creator_cell(e, t->creator))->market.settle_days * tpd) {
                t->status = FW_MTASK_COMPLETED;
                t->settled_tick = now;
                m->tot.completed++;
                /* within committed (see open_cents): no overflow */
                m->tot.payments_cents += t->price_cents;
                m->income[t->creator] += t->price_cents;
            }
            break;
        default:
            break;
        }
    }
    size_t earning = 0;
    for (uint32_t u = 0; u < e->n_users; u++)
        if (m->income[u] > 0)
            m->scratch[earning++] = m->income[u] > UINT32_MAX ? UINT32_MAX : (uint32_t)m->income[u];
    const fw_market_totals *t = &m->tot;
    int64_t v[SER__COUNT] = {
        [SER_tasks_posted] = (int64_t)t->posted, [SER_tasks_matched] = (int64_t)t->matched,
        [SER_tasks_delivered] = (int64_t)t->delivered, [SER_tasks_completed] = (int64_t)t->completed,
        [SER_tasks_expired] = (int64_t)t->expired, [SER_tasks_failed] = (int64_t)t->failed,
        [SER_payments_cents] = t->payments_cents, [SER_committed_cents] = t->committed_cents,
        [SER_earning_creators] = (int64_t)earning, [SER_income_gini_ppm] = llround(gini(m->scratch, earning) * 1e6)};
    memcpy(series, v, sizeof v);
    return FW_OK;
}

uint32_t fw_market_n_tasks(const fw_engine *e) { return M_of(e) ? M_of(e)->n : 0; }

fw_err fw_market_task(const fw_engine *e, uint32_t task, fw_task_info *out)
{
    const struct fw_market *m = M_of(e);
    if (!m || task >= m->n)
        return FW_ERR_INVAL;
    *out = m->t[task];
    if (out->note != FW_NONE) {
        const uint32_t *c = &e->counts[(size_t)out->note * FW_EV__COUNT];
        out->impressions = c[FW_EV_IMPRESSION];
        out->reads = c[FW_EV_OPEN];
        out->interactions = (uint64_t)c[FW_EV_LIKE] + c[FW_EV_SAVE] + c[FW_EV_COMMENT];
        out->saves = c[FW_EV_SAVE];
    }
    return FW_OK;
}

fw_market_totals fw_market_total(const fw_engine *e)
{
    return M_of(e) ? M_of(e)->tot : (fw_market_totals){0};
}

int64_t fw_market_income(const fw_engine *e, uint32_t user)
{
    return M_of(e) && user < e->n_users ? M_of(e)->income[user] : 0;
}

fw_err fw_market_check(const fw_engine *e, char *why, size_t cap)
{
    const struct fw_market *m = M_of(e);
    if (!m)
        return FW_OK;
    int64_t paid = 0, income = 0, committed = 0, open = 0, room;
    for (uint32_t k = 0; k < m->n; k++) {
        const fw_task_info *t = &m->t[k];
        /* The committed book is the agreed prices, the open sum the open budgets, and the two
         * fit together (see open_cents): every later sum then fits too. */
        int agreed = t->status == FW_MTASK_MATCHED || t->status == FW_MTASK_DELIVERED ||
                     t->status == FW_MTASK_COMPLETED || t->status == FW_MTASK_FAILED;
        if ((agreed && __builtin_add_overflow(committed, t->price_cents, &committed)) ||
            (t->status == FW_MTASK_OPEN && __builtin_add_overflow(open, t->post.budget_cents, &open))) {
            snprintf(why, cap, "the tasks' amounts overflow (task %u: a price of %lld and a budget of %lld cents)", k,
                     (long long)t->price_cents, (long long)t->post.budget_cents);
            return FW_ERR_INTERNAL;
        }
        if (t->status != FW_MTASK_OPEN && t->status != FW_MTASK_EXPIRED && t->price_cents > t->post.budget_cents) {
            snprintf(why, cap, "task %u agreed %lld cents on a %lld budget", k, (long long)t->price_cents,
                     (long long)t->post.budget_cents);
            return FW_ERR_INTERNAL;
        }
        /* Sums that cannot overflow are part of the invariant: a snapshot's amounts are input. */
        if (t->status == FW_MTASK_COMPLETED && __builtin_add_overflow(paid, t->price_cents, &paid)) {
            snprintf(why, cap, "the completed tasks' prices overflow (task %u: %lld cents)", k, (long long)t->price_cents);
            return FW_ERR_INTERNAL;
        }
    }
    for (uint32_t u = 0; u < e->n_users; u++)
        if (__builtin_add_overflow(income, m->income[u], &income)) {
            snprintf(why, cap, "the creators' incomes overflow (creator %u: %lld cents)", u, (long long)m->income[u]);
            return FW_ERR_INTERNAL;
        }
    /* Each creator's income is what their own completed tasks paid. */
    int64_t *own = calloc(e->n_users ? e->n_users : 1, sizeof *own);
    if (!own) {
        snprintf(why, cap, "out of memory while checking");
        return FW_ERR_NOMEM;
    }
    for (uint32_t k = 0; k < m->n; k++)
        if (m->t[k].status == FW_MTASK_COMPLETED)
            own[m->t[k].creator] += m->t[k].price_cents;
    for (uint32_t u = 0; u < e->n_users; u++)
        if (own[u] != m->income[u]) {
            snprintf(why, cap, "creator %u has %lld cents of income, %lld from their tasks", u,
                     (long long)m->income[u], (long long)own[u]);
            free(own);
            return FW_ERR_INTERNAL;
        }
    free(own);
    if (committed != m->tot.committed_cents || open != m->open_cents ||
        __builtin_add_overflow(committed, open, &room)) {
        snprintf(why, cap, "%lld cents committed in the books, %lld agreed by tasks; %lld in open tasks, %lld counted",
                 (long long)m->tot.committed_cents, (long long)committed, (long long)open, (long long)m->open_cents);
        return FW_ERR_INTERNAL;
    }
    if (paid != m->tot.payments_cents || income != paid) {
        snprintf(why, cap, "payments %lld cents in the books, %lld by tasks, %lld of creators' income",
                 (long long)m->tot.payments_cents, (long long)paid, (long long)income);
        return FW_ERR_INTERNAL;
    }
    return FW_OK;
}

static fw_err market_check(const fw_engine *e, const void *state, char *why, size_t cap)
{
    (void)state;
    return fw_market_check(e, why, cap);
}

/* One task, field by field (fw_task_info has padding: a copy of its bytes would make equal
 * states write different snapshots). Ids are bounded, and a task that is or was matched must
 * name its creator: the day's end and the check index with it. */
static void task_snap(const fw_engine *e, fw_snap *s, fw_task_info *t, uint32_t k)
{
    fw_task_post *p = &t->post;
    uint32_t topics = e->n_topics ? e->n_topics : 1;
    fw_snap_u32(s, &p->brand);
    fw_snap_index(s, &p->niche, topics, topics);
    fw_snap_u32(s, &p->product);   /* publishing the sponsored note checks it (fw_shop_attach) */
    fw_snap_i64(s, &p->budget_cents);
    fw_snap_u32(s, &p->followers_min);
    fw_snap_u32(s, &p->followers_max);
    fw_snap_tick(s, &p->tick, 0, "a campaign's tick");
    fw_snap_index(s, &t->status, FW_MTASK__COUNT, FW_MTASK__COUNT);
    fw_snap_index(s, &t->creator, e->n_users, FW_NONE);
    fw_snap_i64(s, &t->price_cents);
    fw_snap_index(s, &t->note, e->n_notes, FW_NONE);
    fw_snap_u32(s, &t->reviews);
    fw_snap_tick(s, &t->matched_tick, 0, "a task's match");
    fw_snap_tick(s, &t->delivered_tick, 0, "a task's delivery");
    fw_snap_tick(s, &t->settled_tick, 0, "a task's settlement");
    fw_snap_u64(s, &t->impressions);
    fw_snap_u64(s, &t->reads);
    fw_snap_u64(s, &t->interactions);
    fw_snap_u64(s, &t->saves);
    if (fw_snap_loading(s) && !fw_snap_failed(s) && t->creator == FW_NONE &&
        (t->status == FW_MTASK_MATCHED || t->status == FW_MTASK_DELIVERED || t->status == FW_MTASK_COMPLETED))
        fw_snap_fail(s, "task %u is %s with no creator", k, fw_task_status_name(t->status));
    /* Amounts as fw_market_post and a quote take them (a budget > 0, a price >= 0: 0 until
     * agreed), so that the check's sums, and each creator's part of them, are sums of
     * nonnegative terms: they overflow only when the total does, which the check tests. */
    if (fw_snap_loading(s) && !fw_snap_failed(s) && (p->budget_cents <= 0 || t->price_cents < 0))
        fw_snap_fail(s, "task %u has a budget of %lld cents and a price of %lld", k, (long long)p->budget_cents,
                     (long long)t->price_cents);
}

/* Transferred: the tasks, every creator's income, the totals. Skipped: scratch (the day's
 * incomes for their Gini, refilled at every day's end before use); cap (the loading side's
 * own). The tasks grow here, not through fw_snap_vec, because they go field by field. */
static void market_snap(fw_engine *e, void *state, fw_snap *s)
{
    struct fw_market *m = state;
    uint32_t n = m->n;
    fw_snap_u32(s, &n);
    if (fw_snap_loading(s) && !fw_snap_failed(s)) {
        fw_task_info *v = NULL;
        if (n >= FW_NONE)
            fw_snap_fail(s, "%u tasks, more than task ids can name", n);
        else if (n > m->cap && !(v = realloc(m->t, (size_t)n * sizeof *v)))
            fw_snap_fail(s, "out of memory for %u tasks", n);
        else if (v) {
            m->t = v;
            m->cap = n;
        }
        if (!fw_snap_failed(s))
            m->n = n;
    }
    for (uint32_t k = 0; k < m->n && !fw_snap_failed(s); k++)
        task_snap(e, s, &m->t[k], k);
    fw_snap_array(s, m->income, e->n_users, sizeof *m->income);
    _Static_assert(sizeof m->tot == 8 * sizeof(uint64_t), "fw_market_totals: eight 64-bit counts, no padding");
    fw_snap_array(s, &m->tot, 1, sizeof m->tot);
    if (fw_snap_loading(s) && !fw_snap_failed(s)) {   /* open_cents is derived: summed again */
        m->open_cents = 0;
        for (uint32_t k = 0; k < m->n; k++)
            if (m->t[k].status == FW_MTASK_OPEN &&
                __builtin_add_overflow(m->open_cents, m->t[k].post.budget_cents, &m->open_cents)) {
                fw_snap_fail(s, "the open tasks' budgets overflow (task %u: %lld cents)", k,
                             (long long)m->t[k].post.budget_cents);
                return;
            }
    }
}

static fw_err market_publish(fw_engine *e, void *state, fw_engine_ctx *ctx, uint32_t id, const fw_publication *p)
{
    (void)state;
    (void)ctx;
    int passed;
    return p->task == FW_NONE ? FW_OK : fw_market_deliver(e, p->task, id, p->info.created_tick, &passed);
}

const fw_engine_module fw_market_module = {
    .name = "market",
    .state_size = sizeof(struct fw_market),
    .create = market_create,
    .publish = market_publish,
    .end_day = market_end_day,
    .snap = market_snap,
    .check = market_check,
    FW_MODULE_SERIES("the marketplace at each day's end"),
};
