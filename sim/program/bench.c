/* Benchmark records and their comparison (see bench.h for the kinds and the rules).
 *
 * Invariants: a record's figures keep the order in which they were first set; every
 * figure has n_rep values (NaN until set); comparison rows follow the baseline's order,
 * then the figures only the new record has. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "experiment/stats.h"
#include "program/bench.h"

/* ---- collecting ------------------------------------------------------------------ */

static double col_sum(const fw_results_cols *c, const char *name, uint32_t n)
{
    const double *v = fw_results_col(c, name);
    double s = 0.0;
    if (!v)
        return NAN;
    for (uint32_t d = 0; d < n; d++)
        s += v[d];
    return s;
}

/* The value at quantile q of a histogram pooled over days: the upper edge of the bin where
 * the cumulative count first reaches q of the total (HdrHistogram's "highest equivalent"). */
static double pooled_quantile(const fw_results *r, const fw_results_stage *s, double q, uint64_t *calls)
{
    uint64_t total = 0;
    for (size_t i = 0; i < (size_t)r->n_lat_days * r->n_bins; i++)
        total += s->counts[i];
    *calls = total;
    if (total == 0)
        return NAN;
    uint64_t need = (uint64_t)ceil(q * (double)total), cum = 0;
    if (need == 0)
        need = 1;
    for (uint32_t b = 0; b < r->n_bins; b++) {
        for (uint32_t d = 0; d < r->n_lat_days; d++)
            cum += s->counts[(size_t)d * r->n_bins + b];
        if (cum >= need)
            return (double)r->bin_upper_ns[b];
    }
    return (double)r->bin_upper_ns[r->n_bins - 1];
}

#define TRY(x)                     \
    do {                           \
        fw_err e_ = (x);           \
        if (e_ != FW_OK)           \
            return e_;             \
    } while (0)

fw_err fw_bench_collect(fw_bench *b, uint32_t rep, const fw_results *r, const fw_run_report *rr)
{
    char name[256];
    int threads = b->threads > 0 ? b->threads : 1;
    TRY(fw_bench_set(b, "throughput", "user-sessions/s/thread", FW_BENCH_RATE, rep,
                     rr->sim_s > 0 ? (double)rr->sessions / rr->sim_s / threads : NAN));
    /* Issue 22: the figure of merit every speed claim is stated in (a speed figure: judged
     * like the other rates, never exactly like quality). Threads are those the run used. */
    TRY(fw_bench_set(b, "impressions_per_core_s", "impressions/s/core", FW_BENCH_RATE, rep,
                     rr->sim_s > 0 && rr->threads > 0 ? fw_run_impressions_per_core_s(rr) : NAN));
    TRY(fw_bench_set(b, "wall_time", "s", FW_BENCH_TIME, rep, rr->wall_s));
    TRY(fw_bench_set(b, "peak_memory", "MiB", FW_BENCH_TIME, rep, rr->peak_rss_mb));
    for (uint32_t k = 0; k < r->n_stages; k++) {
        const fw_results_stage *s = &r->stages[k];
        if (!s->counts || !r->bin_upper_ns)
            continue;
        uint64_t calls;
        double p50 = pooled_quantile(r, s, 0.50, &calls), p99 = pooled_quantile(r, s, 0.99, &calls);
        if (calls == 0)
            continue;
        fw_bench_kind kind = calls >= 1000 ? FW_BENCH_TIME : FW_BENCH_INFO;
        snprintf(name, sizeof name, "latency.%s.p50", s->name);
        TRY(fw_bench_set(b, name, "us", kind, rep, p50 / 1e3));
        snprintf(name, sizeof name, "latency.%s.p99", s->name);
        TRY(fw_bench_set(b, name, "us", kind, rep, p99 / 1e3));
    }
    for (uint32_t k = 0; k < r->work.n; k++) {
        snprintf(name, sizeof name, "work.%s", r->work.col[k].name);
        TRY(fw_bench_set(b, name, "count", FW_BENCH_WORK, rep, col_sum(&r->work, r->work.col[k].name, r->n_days)));
    }
    /* Quality per arm: ratios of sums over the run (deterministic for a seed). */
    static const struct {
        const char *name, *num, *den;
        double scale;
    } q[] = {
        {"ctr", "opens", "impressions", 1.0},
        {"interactions_per_read", "interactions", "opens", 1.0},
        {"retention", "retained_users", "prev_active_users", 1.0},
        {"oracle_ndcg", "oracle_ndcg_micro", "oracle_requests", 1e-6},
        {"sessions", "sessions", NULL, 1.0},
        {"search_ctr", "search_clicks", "search_impressions", 1.0},
        {"gmv_cents", "gmv_cents", NULL, 1.0},
        {"paid_orders", "paid_orders", NULL, 1.0},
        {"click_to_purchase", "paid_orders", "product_views", 1.0},
        {"ad_revenue_cents", "ad_revenue_millicents", NULL, 1e-3},
        {"ad_ctr", "ad_clicks", "ad_impressions", 1.0},
    };
    for (uint32_t a = 0; a < r->n_arms; a++) {
        const fw_results_cols *c = &r->arms[a].days;
        for (size_t k = 0; k < sizeof q / sizeof q[0]; k++) {
            double num = col_sum(c, q[k].num, r->n_days);
            double den = q[k].den ? col_sum(c, q[k].den, r->n_days) : 1.0;
            if (isnan(num) || isnan(den) || den == 0.0)
                continue;
            snprintf(name, sizeof name, "quality.%s.%s", r->arms[a].name, q[k].name);
            TRY(fw_bench_set(b, name, q[k].den ? "1" : strstr(q[k].name, "cents") ? "cents" : "count", FW_BENCH_QUALITY, rep, q[k].scale * num / den));
        }
    }
    return FW_OK;
}

/* ---- comparing ------------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of the finite values; writes them (sorted) to tmp and their count to *m. */
static double median(const double *v, uint32_t n, double *tmp, uint32_t *m)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < n; i++)
        if (isfinite(v[i]))
            tmp[k++] = v[i];
    *m = k;
    if (k == 0)
        return NAN;
    qsort(tmp, k, sizeof *tmp, cmp_double);
    return k % 2 ? tmp[k / 2] : 0.5 * (tmp[k / 2 - 1] + tmp[k / 2]);
}

static int deterministic_kind(int kind) { return kind == FW_BENCH_WORK || kind == FW_BENCH_QUALITY; }

/* True when the finite values of a deterministic figure differ between repetitions. */
static int varies(const fw_bench_figure *f, uint32_t n)
{
    double first = NAN;
    for (uint32_t i = 0; i < n; i++) {
        if (!isfinite(f->v[i]))
            continue;
        if (isnan(first))
            first = f->v[i];
        else if (f->v[i] != first)
            return 1;
    }
    return 0;
}

double fw_bench_p_min(uint32_t n, uint32_t m)
{
    double p = 1.0;
    for (uint32_t i = 1; i <= m; i++)
        p *= (double)i / ((double)n + i);
    return p;
}

uint32_t fw_bench_runs_needed(uint32_t m, double alpha, uint32_t max)
{
    if (m < 3)
        return 0;
    for (uint32_t n = 3; n <= max; n++)
        if (fw_bench_p_min(n, m) < alpha)
            return n;
    return 0;
}

static void judge(const fw_bench_figure *fb, uint32_t nb, const fw_bench_figure *fn, uint32_t nn,
                  const fw_bench_opts *o, double *tb, double *tn, fw_bench_row *row)
{
    uint32_t mb = 0, mn = 0;
    row->base = fb ? median(fb->v, nb, tb, &mb) : NAN;
    row->now = fn ? median(fn->v, nn, tn, &mn) : NAN;
    row->change = fb && fn && row->base != 0.0 ? row->now / row->base - 1.0 : NAN;
    row->p = NAN;
    if (fn && deterministic_kind(fn->kind) && varies(fn, nn)) {
        row->verdict = FW_VERDICT_NONDETERMINISTIC;
        return;
    }
    if (!fb) {
        row->verdict = FW_VERDICT_NEW;
        return;
    }
    if (!fn) {
        row->verdict = FW_VERDICT_MISSING;
        return;
    }
    switch (fn->kind) {
    case FW_BENCH_TIME:
    case FW_BENCH_RATE: {
        if (o->no_timings) {
            row->verdict = FW_VERDICT_INFO;
            return;
        }
        if (mb < 3 || mn < 3) {
            row->verdict = FW_VERDICT_TOO_FEW;
            return;
        }
        /* Worse = larger time or smaller rate; test in that direction, and the other for an
         * improvement. */
        int time = fn->kind == FW_BENCH_TIME;
        double p_worse = time ? fw_stat_mann_whitney_greater(tb, mb, tn, mn, NULL)
                              : fw_stat_mann_whitney_greater(tn, mn, tb, mb, NULL);
        double p_better = time ? fw_stat_mann_whitney_greater(tn, mn, tb, mb, NULL)
                               : fw_stat_mann_whitney_greater(tb, mb, tn, mn, NULL);
        double worse = time ? row->change : -row->change;
        row->p = p_worse;
        if (p_worse < o->alpha && worse > o->tolerance)
            row->verdict = FW_VERDICT_REGRESSED;
        else if (p_better < o->alpha && -worse > o->tolerance)
            row->verdict = FW_VERDICT_IMPROVED;
        else
            row->verdict = FW_VERDICT_OK;
        return;
    }
    case FW_BENCH_WORK:
    case FW_BENCH_QUALITY: {
        double tol = fn->kind == FW_BENCH_WORK ? o->work_tolerance : o->quality_tolerance;
        double worse = fn->kind == FW_BENCH_WORK ? row->change : -row->change;
        if (row->now == row->base || (isfinite(worse) && fabs(worse) <= tol))
            row->verdict = FW_VERDICT_OK;
        else if (!isfinite(worse))   /* from or to zero */
            row->verdict = (fn->kind == FW_BENCH_WORK) == (row->now > row->base) ? FW_VERDICT_REGRESSED
                                                                                  : FW_VERDICT_IMPROVED;
        else
            row->verdict = worse > 0 ? FW_VERDICT_REGRESSED : FW_VERDICT_IMPROVED;
        return;
    }
    default:
        row->verdict = FW_VERDICT_INFO;
        return;
    }
}

fw_err fw_bench_compare(const fw_bench *base, const fw_bench *now, const fw_bench_opts *o,
                        fw_bench_cmp *out)
{
    memset(out, 0, sizeof *out);
    uint32_t cap = now->n_fig + (base ? base->n_fig : 0);
    uint32_t nb = base ? base->n_rep : 0, nmax = now->n_rep > nb ? now->n_rep : nb;
    double *tb = malloc(((size_t)nmax + 1) * sizeof *tb), *tn = malloc(((size_t)nmax + 1) * sizeof *tn);
    out->row = calloc(cap ? cap : 1, sizeof *out->row);
    if (!tb || !tn || !out->row) {
        free(tb);
        free(tn);
        fw_bench_cmp_fini(out);
        return FW_ERR_NOMEM;
    }
    for (uint32_t i = 0; base && i < base->n_fig; i++) {
        const fw_bench_figure *fb = &base->fig[i], *fn = fw_bench_find(now, fb->name);
        fw_bench_row *row = &out->row[out->n++];
        row->name = fb->name;
        row->unit = fn ? fn->unit : fb->unit;
        row->kind = fn ? fn->kind : fb->kind;
        judge(fb, nb, fn, now->n_rep, o, tb, tn, row);
    }
    for (uint32_t i = 0; i < now->n_fig; i++) {
        const fw_bench_figure *fn = &now->fig[i];
        if (base && fw_bench_find(base, fn->name))
            continue;
        fw_bench_row *row = &out->row[out->n++];
        row->name = fn->name;
        row->unit = fn->unit;
        row->kind = fn->kind;
        judge(NULL, 0, fn, now->n_rep, o, tb, tn, row);
        if (!base && row->verdict == FW_VERDICT_NEW)
            row->verdict = FW_VERDICT_INFO;
    }
    for (uint32_t i = 0; i < out->n; i++)
        out->n_regressed += out->row[i].verdict == FW_VERDICT_REGRESSED ||
                            out->row[i].verdict == FW_VERDICT_NONDETERMINISTIC;
    free(tb);
    free(tn);
    return FW_OK;
}

void fw_bench_cmp_fini(fw_bench_cmp *c)
{
    free(c->row);
    memset(c, 0, sizeof *c);
}

static void put_value(FILE *f, double v)
{
    if (isnan(v))
        fprintf(f, " %12s", "-");
    else if (fabs(v) >= 1e6 || (fabs(v) < 1e-3 && v != 0.0))
        fprintf(f, " %12.4e", v);
    else
        fprintf(f, " %12.4f", v);
}

void fw_bench_print(const fw_bench_cmp *c, int have_base, FILE *f)
{
    fprintf(f, "%-44s %-7s %-22s %12s %12s %9s %8s  %s\n", "figure", "kind", "unit", "baseline", "now",
            "change", "p", "verdict");
    uint32_t count[FW_VERDICT__COUNT] = {0};
    for (uint32_t i = 0; i < c->n; i++) {
        const fw_bench_row *r = &c->row[i];
        fprintf(f, "%-44s %-7s %-22s", r->name, fw_bench_kind_name(r->kind), r->unit);
        put_value(f, r->base);
        put_value(f, r->now);
        if (isnan(r->change))
            fprintf(f, " %9s", "-");
        else
            fprintf(f, " %+8.1f%%", 100.0 * r->change);
        if (isnan(r->p))
            fprintf(f, " %8s", "-");
        else
            fprintf(f, " %8.4f", r->p);
        fprintf(f, "  %s\n", fw_bench_verdict_name(r->verdict));
        count[r->verdict]++;
    }
    if (!have_base) {
        fprintf(f, "no baseline: %u figures recorded%s\n", c->n,
                count[FW_VERDICT_NONDETERMINISTIC] ? "; SOME DETERMINISTIC FIGURES VARIED BETWEEN RUNS" : "");
        return;
    }
    fprintf(f, "%u figures: %u ok, %u regressed, %u improved, %u nondeterministic, %u new, %u missing, "
               "%u info, %u with too few runs\n",
            c->n, count[FW_VERDICT_OK], count[FW_VERDICT_REGRESSED], count[FW_VERDICT_IMPROVED],
            count[FW_VERDICT_NONDETERMINISTIC], count[FW_VERDICT_NEW], count[FW_VERDICT_MISSING],
            count[FW_VERDICT_INFO], count[FW_VERDICT_TOO_FEW]);
}
