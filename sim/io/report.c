/* The report builder.
 * Invariants: every figure is one row of the `figures` table (a name, a caption, a test
 * for whether its data exists, and a writer of its data files and plot body); the driver
 * wraps each body in the same terminal settings for PNG and SVG, runs gnuplot on it in
 * DIR/figures (fork + execvp, an argument vector, never a shell), and records why a figure
 * failed so index.html can say so. An arm keeps one colour in every figure (its index among
 * the arm names of all runs); runs differ by dash pattern. Data files hold plain numbers in
 * whitespace-separated columns, NaN where undefined, with a header comment naming them. */
#define _POSIX_C_SOURCE 200809L
#include "io/report.h"
#include "io/report_html.h"
#include "io/report_safety.h"
#include "io/report_live.h"
#include "io/report_aigc.h"
#include "io/report_privacy.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { MAX_ARMS = 64, MAX_RUNS = 2, N_PALETTE = 8 };

/* Okabe-Ito colours, readable for colour-blind viewers; arm i gets palette[i % 8]. */
static const char *const palette[N_PALETTE] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                               "#E69F00", "#56B4E9", "#000000", "#F0E442"};

typedef struct ctx {
    const fw_results *const *runs;
    int n_runs;
    const char *dir;
    FILE *err;
    const char *arm_names[MAX_ARMS];   /* union of the runs' arms: index = colour */
    int n_arm_names;
    int timeout_s;                     /* the most one gnuplot may take */
} ctx;

/* The one place the builder reports a problem. */
__attribute__((format(printf, 2, 3))) static void problem(const ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("flywheel report: ", c->err);
    vfprintf(c->err, fmt, ap);
    fputc('\n', c->err);
    va_end(ap);
}

static const char *attr_text(const fw_results *r, const char *name)
{
    const fw_results_value *v = fw_results_attr(&r->root, name);
    return v ? v->text : NULL;
}

static const char *scenario_name(const fw_results *r)
{
    const char *s = attr_text(r, "scenario_name");
    return s && *s ? s : "run";
}

static int arm_colour(const ctx *c, const char *arm)
{
    for (int i = 0; i < c->n_arm_names; i++)
        if (!strcmp(c->arm_names[i], arm))
            return i % N_PALETTE + 1;
    return 1;
}

/* Whether s can be part of a file name as it is: 1 to 64 of [A-Za-z0-9_-]. */
static int plain_name(const char *s)
{
    size_t i = 0;
    for (; s[i]; i++) {
        char ch = s[i];
        if (i == 64 || !((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                         ch == '_' || ch == '-'))
            return 0;
    }
    return i > 0;
}

/* Writes s as a single-quoted gnuplot string ('' stands for a quote inside; gnuplot
 * interprets nothing else in one). Control characters, which would end the command or the
 * line, become spaces. */
static void gp_str(FILE *gp, const char *s)
{
    fputc('\'', gp);
    for (; *s; s++) {
        if (*s == '\'')
            fputc('\'', gp);
        fputc((unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s, gp);
    }
    fputc('\'', gp);
}

void fw_html_esc(FILE *h, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", h); break;
        case '<': fputs("&lt;", h); break;
        case '>': fputs("&gt;", h); break;
        case '"': fputs("&quot;", h); break;
        case '\'': fputs("&#39;", h); break;
        default: fputc(*s, h);
        }
    }
}

void fw_html_num(FILE *h, double v, int decimals, const char *suffix)
{
    if (!isfinite(v))
        fputs("<td>&ndash;</td>", h);
    else
        fprintf(h, "<td>%.*f%s</td>", decimals, v, suffix);
}

double fw_day_sum(const fw_results *r, const fw_results_arm *a, const char *name)
{
    const double *v = fw_results_col(&a->days, name);
    if (!v)
        return NAN;
    double s = 0.0;
    for (uint32_t d = 0; d < r->n_days; d++)
        s += v[d];
    return s;
}

double fw_day_at(const fw_results_arm *a, const char *name, uint32_t d)
{
    const double *v = fw_results_col(&a->days, name);
    return v ? v[d] : NAN;
}

double fw_day_max(const fw_results *r, const fw_results_arm *a, const char *name)
{
    const double *v = fw_results_col(&a->days, name);
    double m = NAN;
    for (uint32_t d = 0; v && d < r->n_days; d++)
        if (!(v[d] <= m))
            m = v[d];
    return m;
}

static void put_num(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, " %.10g", v);
    else
        fputs(" NaN", f);
}

/* Opens DIR/data/<name> for writing and writes its header comment. */
static FILE *open_data(const ctx *c, const char *name, const char *header)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/data/%s", c->dir, name);
    FILE *f = fopen(path, "w");
    if (!f) {
        problem(c, "cannot write %s: %s", path, strerror(errno));
        return NULL;
    }
    /* one comment line whatever the names in it hold: a newline would start a data line */
    fputs("# ", f);
    for (const char *p = header; *p; p++)
        fputc((unsigned char)*p < 0x20 || *p == 0x7f ? ' ' : *p, f);
    fputc('\n', f);
    return f;
}

/* open_data with a header formatted from fmt, cut at 1023 bytes (as the figures' headers have
 * always been). */
__attribute__((format(printf, 3, 4))) static FILE *open_dataf(const ctx *c, const char *name, const char *fmt, ...)
{
    char header[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(header, sizeof header, fmt, ap);
    va_end(ap);
    return open_data(c, name, header);
}

static int close_data(const ctx *c, FILE *f, const char *name)
{
    if (fclose(f) != 0) {
        problem(c, "cannot write %s/data/%s: %s", c->dir, name, strerror(errno));
        return -1;
    }
    return 0;
}

/* ---- daily series (engagement, activity, retention) ------------------------------------ */

/* Columns of data/daily_<run>_<arm>.dat (see daily_file); NULL source means derived here. */
enum { DC_DAY, DC_ACTIVE, DC_SESSIONS, DC_SPU, DC_IMPR, DC_OPENS, DC_CTR, DC_CTR_LO, DC_CTR_HI,
       DC_INTER, DC_IPR, DC_RET, DC_FOLLOWS, DC_NEW_NOTES, DC_NDCG, DC_COVERAGE, DC_GMV, DC_C2P,
       DC_COUPON_COST, DC_COUPON_REDEEMED, DC__COUNT };
static const struct {
    const char *name, *source;
} daily_col[DC__COUNT] = {
    {"day", NULL},           {"active_users", "active_users"},
    {"sessions", "sessions"}, {"sessions_per_user", "sessions_per_user"},
    {"impressions", "impressions"}, {"opens", "opens"},
    {"ctr", NULL},           {"ctr_lo95", NULL},
    {"ctr_hi95", NULL},      {"interactions", "interactions"},
    {"interactions_per_read", "interactions_per_read"}, {"retention", "retention"},
    {"follows", "follows"},  {"new_notes", "new_notes"},
    {"oracle_ndcg", "oracle_ndcg"}, {"coverage", "coverage"},
    {"gmv_cents", "gmv_cents"}, {"click_to_purchase", "click_to_purchase"},
    {"coupon_cost_cents", "coupon_cost_cents"}, {"coupon_redemptions", "coupon_redemptions"},
};

/* The data file of arm index a of run `run`: daily_RUN_ARM.dat when the arm's name is plain
 * (plain_name), else daily_RUN_arm.A.dat. A plain name has no '.', so the two forms never
 * meet, and arm names are unique within a run: every arm gets a file of its own (once, 对照
 * and 实验 both became daily_0_______.dat and were plotted from one file). The name itself
 * appears only in titles and headers. */
static void daily_file(char *out, size_t n, int run, uint32_t a, const char *arm)
{
    if (plain_name(arm))
        snprintf(out, n, "daily_%d_%s.dat", run, arm);
    else
        snprintf(out, n, "daily_%d_arm.%u.dat", run, a);
}

/* The daily value of column k for arm a on day index d. */
static double daily_value(const fw_results *r, const fw_results_arm *a, int k, uint32_t d)
{
    if (k == DC_DAY)
        return r->day[d];
    if (daily_col[k].source) {
        const double *v = fw_results_col(&a->days, daily_col[k].source);
        return v ? v[d] : NAN;
    }
    /* CTR = opens / impressions with its 95% binomial (Wald) interval. */
    const double *im = fw_results_col(&a->days, "impressions"), *op = fw_results_col(&a->days, "opens");
    if (im && op && !(im[d] > 0))
        return NAN;   /* no impressions: no rate (shown as n/a), whatever the file's ctr says */
    if (!im || !op) {
        const double *ctr = fw_results_col(&a->days, "ctr");
        return k == DC_CTR && ctr ? ctr[d] : NAN;
    }
    double p = op[d] / im[d], h = 1.96 * sqrt(p * (1 - p) / im[d]);
    return k == DC_CTR ? p : k == DC_CTR_LO ? fmax(0, p - h) : fmin(1, p + h);
}

static int write_daily_data(const ctx *c)
{
    for (int r = 0; r < c->n_runs; r++) {
        const fw_results *res = c->runs[r];
        for (uint32_t a = 0; a < res->n_arms; a++) {
            char name[256], header[1024];
            int w = 0;
            daily_file(name, sizeof name, r, a, res->arms[a].name);
            w += snprintf(header, sizeof header, "%s, arm %s; columns:", res->path, res->arms[a].name);
            for (int k = 0; k < DC__COUNT && w < (int)sizeof header; k++)
                w += snprintf(header + w, sizeof header - (size_t)w, " %s", daily_col[k].name);
            FILE *f = open_data(c, name, header);
            if (!f)
                return -1;
            for (uint32_t d = 0; d < res->n_days; d++) {
                for (int k = 0; k < DC__COUNT; k++)
                    put_num(f, daily_value(res, &res->arms[a], k, d));
                fputc('\n', f);
            }
            if (close_data(c, f, name))
                return -1;
        }
    }
    return 0;
}

/* Whether any arm of any run has a finite value of daily column k. */
static int daily_has(const ctx *c, int k)
{
    for (int r = 0; r < c->n_runs; r++)
        for (uint32_t a = 0; a < c->runs[r]->n_arms; a++)
            for (uint32_t d = 0; d < c->runs[r]->n_days; d++)
                if (isfinite(daily_value(c->runs[r], &c->runs[r]->arms[a], k, d)))
                    return 1;
    return 0;
}

static void series_title(FILE *gp, const ctx *c, int r, const char *arm)
{
    char t[512];
    if (c->n_runs > 1)
        snprintf(t, sizeof t, "%s %s", scenario_name(c->runs[r]), arm);
    else
        snprintf(t, sizeof t, "%s", arm);
    gp_str(gp, t);
}

/* One plot command over every run and arm: column k times scale, optionally with a band
 * between columns lo and hi (same scale). */
static void plot_daily(FILE *gp, const ctx *c, int k, double scale, int lo, int hi)
{
    const char *sep = "plot ";
    if (!daily_has(c, k)) {   /* an older file without this column: say so, plot nothing */
        fputs("set label 1 'no data in this result' at graph 0.5,0.5 center\nplot [][0:1] NaN notitle\n"
              "unset label 1\n", gp);
        return;
    }
    for (int r = 0; r < c->n_runs; r++)
        for (uint32_t a = 0; a < c->runs[r]->n_arms; a++) {
            char file[256];
            const char *arm = c->runs[r]->arms[a].name;
            int lt = arm_colour(c, arm);
            daily_file(file, sizeof file, r, a, arm);
            if (lo >= 0)
                fprintf(gp, "%s'../data/%s' using 1:($%d*%g):($%d*%g) with filledcurves "
                            "lt %d fs transparent solid 0.18 noborder notitle",
                        sep, file, lo + 1, scale, hi + 1, scale, lt), sep = ", \\\n     ";
            fprintf(gp, "%s'../data/%s' using 1:($%d*%g) with linespoints lt %d dt %d title ", sep,
                    file, k + 1, scale, lt, r + 1);
            series_title(gp, c, r, arm);
            sep = ", \\\n     ";
        }
    fputc('\n', gp);
}

/* Two side-by-side panels over one shared legend, which is a plot of its own spanning the
 * width (a key inside a panel would wrap to the panel's width). n_entries and longest (the
 * longest entry, in characters) size the legend's strip; returns the panels' bottom. */
static double panels_begin(FILE *gp, const char *title, int n_entries, int longest)
{
    int cols = (int)(900 / (longest * 7.5 + 70));
    cols = cols < 1 ? 1 : cols;
    int rows = (n_entries + cols - 1) / cols;
    double bottom = 0.03 + 0.034 * rows + 0.13;
    fputs("set multiplot title ", gp);
    gp_str(gp, title);
    fputs(" font ',14'\nunset key\nset tmargin at screen 0.88\n", gp);
    fprintf(gp, "set bmargin at screen %.3f\n", bottom);
    return bottom;
}

/* Moves to panel i (0 left, 1 right). */
static void panel(FILE *gp, int i)
{
    fprintf(gp, "set lmargin at screen %.2f\nset rmargin at screen %.2f\n", i ? 0.58 : 0.09,
            i ? 0.98 : 0.49);
}

/* Starts the legend strip under panels whose bottom is `bottom`: the caller then writes
 * `plot NaN ... title '...'` entries, then "unset multiplot". */
static void legend_strip(FILE *gp, double bottom)
{
    fprintf(gp, "set lmargin at screen 0.02\nset rmargin at screen 0.98\nset bmargin at screen 0.0\n"
                "set tmargin at screen %.3f\nunset border\nunset tics\nunset xlabel\nunset ylabel\n"
                "unset title\nunset grid\nunset logscale\nunset format\nset xrange [0:1]\n"
                "set yrange [0:1]\nset key inside center center horizontal\n",
            bottom - 0.11);
}

/* The legend of the daily figures: one entry per run and arm. */
static void legend_daily(FILE *gp, const ctx *c)
{
    const char *sep = "plot ";
    for (int r = 0; r < c->n_runs; r++)
        for (uint32_t a = 0; a < c->runs[r]->n_arms; a++) {
            const char *arm = c->runs[r]->arms[a].name;
            fprintf(gp, "%sNaN with linespoints lt %d dt %d title ", sep, arm_colour(c, arm), r + 1);
            series_title(gp, c, r, arm);
            sep = ", \\\n     ";
        }
    fputs("\nunset multiplot\n", gp);
}

static void daily_legend_size(const ctx *c, int *n, int *longest)
{
    *n = *longest = 0;
    for (int r = 0; r < c->n_runs; r++)
        for (uint32_t a = 0; a < c->runs[r]->n_arms; a++) {
            int len = (int)strlen(c->runs[r]->arms[a].name) +
                      (c->n_runs > 1 ? (int)strlen(scenario_name(c->runs[r])) + 1 : 0);
            *longest = len > *longest ? len : *longest;
            ++*n;
        }
}

/* The x axis of the daily figures: every day of every run, a little padding, at most ~15
 * tic marks. */
static void day_axis(FILE *gp, const ctx *c)
{
    int lo = 0, hi = 0, any = 0;
    for (int r = 0; r < c->n_runs; r++)
        for (uint32_t d = 0; d < c->runs[r]->n_days; d++) {
            int v = c->runs[r]->day[d];
            lo = any && lo < v ? lo : v;
            hi = any && hi > v ? hi : v;
            any = 1;
        }
    int step = (hi - lo) / 15 + 1;
    fprintf(gp, "set xlabel 'day'\nset xtics %d\nset mxtics 1\nset xrange [%g:%g]\n", step,
            lo - 0.3, hi + 0.3);
}

/* A legend centred below the plot, with room kept for it under the x label. */
static const char *const key_below =
    "set bmargin 6\nset key at screen 0.5,0.015 center bottom horizontal\n";

static int has_daily_ctr(const ctx *c) { return daily_has(c, DC_CTR) || daily_has(c, DC_IPR); }
static int has_daily_activity(const ctx *c) { return daily_has(c, DC_ACTIVE) || daily_has(c, DC_SPU); }
static int has_daily_retention(const ctx *c) { return daily_has(c, DC_RET); }

/* One daily series in a panel: title, y label, column, scale and optional band columns. */
typedef struct daily_panel {
    const char *title, *ylabel;
    int col;
    double scale;
    int lo, hi;
} daily_panel;

/* The two-panel daily figure every per-day figure is: one legend of the arms below both. */
static int fig_two_daily(const ctx *c, FILE *gp, const char *title, const daily_panel p[2])
{
    int n, longest;
    daily_legend_size(c, &n, &longest);
    double bottom = panels_begin(gp, title, n, longest);
    day_axis(gp, c);
    for (int k = 0; k < 2; k++) {
        panel(gp, k);
        fprintf(gp, "set title '%s'\nset ylabel '%s'\n", p[k].title, p[k].ylabel);
        plot_daily(gp, c, p[k].col, p[k].scale, p[k].lo, p[k].hi);
    }
    legend_strip(gp, bottom);
    legend_daily(gp, c);
    return 0;
}

static int fig_engagement(const ctx *c, FILE *gp)
{
    const daily_panel p[2] = {
        {"Click-through rate (opens / impressions)", "CTR (%)", DC_CTR, 100, DC_CTR_LO, DC_CTR_HI},
        {"Interactions per read", "interactions per open (%)", DC_IPR, 100, -1, -1}};
    return fig_two_daily(c, gp, "Engagement per day", p);
}

static int fig_activity(const ctx *c, FILE *gp)
{
    const daily_panel p[2] = {{"Daily active users", "users", DC_ACTIVE, 1, -1, -1},
                              {"Sessions per active user", "sessions per user", DC_SPU, 1, -1, -1}};
    return fig_two_daily(c, gp, "Activity per day", p);
}

static int has_daily_quality(const ctx *c) { return daily_has(c, DC_NDCG) || daily_has(c, DC_COVERAGE); }

static int fig_quality(const ctx *c, FILE *gp)
{
    const daily_panel p[2] = {
        {"Oracle NDCG of sampled slates (true utility)", "NDCG (%)", DC_NDCG, 100, -1, -1},
        {"Coverage (notes shown at least once)", "share of published notes (%)", DC_COVERAGE, 100, -1, -1}};
    return fig_two_daily(c, gp, "Recommendation quality per day", p);
}

static int has_daily_commerce(const ctx *c) { return daily_has(c, DC_GMV); }

static int fig_commerce(const ctx *c, FILE *gp)
{
    const daily_panel p[2] = {
        {"GMV (orders paid)", "CNY", DC_GMV, 0.01, -1, -1},
        {"Product click to purchase (orders paid / product views)", "%", DC_C2P, 100, -1, -1}};
    return fig_two_daily(c, gp, "Commerce per day", p);
}

/* Only results of runs with promotions have coupon counters. */
static int has_daily_coupons(const ctx *c) { return daily_has(c, DC_COUPON_COST); }

static int fig_coupons(const ctx *c, FILE *gp)
{
    const daily_panel p[2] = {{"Coupon cost (face value redeemed)", "CNY", DC_COUPON_COST, 0.01, -1, -1},
                              {"Orders paid with a coupon", "orders", DC_COUPON_REDEEMED, 1, -1, -1}};
    return fig_two_daily(c, gp, "Coupons per day", p);
}

static int fig_retention(const ctx *c, FILE *gp)
{
    fputs("set title 'Day-over-day retention' font ',14'\n", gp);
    day_axis(gp, c);
    fputs("set ylabel 'active yesterday and today (% of yesterday)'\n", gp);
    fputs(key_below, gp);
    plot_daily(gp, c, DC_RET, 100, -1, -1);
    return 0;
}

/* ---- funnel ------------------------------------------------------------------------------ */

static const char *const funnel_stage[] = {"impressions", "opens", "interactions", "follows"};
enum { N_FUNNEL = sizeof funnel_stage / sizeof *funnel_stage };

static double total(const fw_results *r, const fw_results_arm *a, const char *name)
{
    const double *v = fw_results_col(&a->days, name);
    double s = 0;
    if (!v)
        return NAN;
    for (uint32_t d = 0; d < r->n_days; d++)
        s += v[d];
    return s;
}

static int has_funnel(const ctx *c)
{
    const fw_results *r = c->runs[0];
    for (uint32_t a = 0; a < r->n_arms; a++)
        if (total(r, &r->arms[a], "impressions") > 0)
            return 1;
    return 0;
}

static int fig_funnel(const ctx *c, FILE *gp)
{
    const fw_results *r = c->runs[0];
    char header[2048];
    int w = snprintf(header, sizeof header, "%s: totals over %u days; columns: stage", r->path, r->n_days);
    for (uint32_t a = 0; a < r->n_arms && w < (int)sizeof header; a++)
        w += snprintf(header + w, sizeof header - (size_t)w, " %s", r->arms[a].name);
    FILE *f = open_data(c, "funnel.dat", header);
    if (!f)
        return -1;
    for (int s = 0; s < N_FUNNEL; s++) {
        fputs(funnel_stage[s], f);
        for (uint32_t a = 0; a < r->n_arms; a++) {
            double v = total(r, &r->arms[a], funnel_stage[s]);
            put_num(f, v > 0 ? v : NAN);
        }
        fputc('\n', f);
    }
    if (close_data(c, f, "funnel.dat"))
        return -1;
    fputs("set title ", gp);
    {
        char t[512];
        snprintf(t, sizeof t, "Funnel: totals over %u days (%s)", r->n_days, scenario_name(r));
        gp_str(gp, t);
    }
    fputs(" font ',14'\nset style data histograms\nset style histogram clustered gap 1\n"
          "set style fill solid 0.85 border -1\nset boxwidth 0.9\nset logscale y\n"
          "set ylabel 'events (log scale)'\nset yrange [1:*]\nset xrange [-0.6:3.6]\n"
          "set format y '%.0f'\nset grid ytics\nset bmargin 4\n"
          "set key at screen 0.5,0.015 center bottom horizontal\n", gp);
    for (uint32_t a = 0; a < r->n_arms; a++) {
        fprintf(gp, "%s'../data/funnel.dat' using %u%s lt %d title ", a ? ", \\\n     " : "plot ",
                a + 2, a ? "" : ":xtic(1)", arm_colour(c, r->arms[a].name));
        gp_str(gp, r->arms[a].name);
    }
    fputc('\n', gp);
    return 0;
}

/* ---- latency ----------------------------------------------------------------------------- */

static const double *stage_stat(const fw_results_stage *s, const char *name)
{
    return fw_results_col(&s->stats, name);
}

static int has_latency_pct(const ctx *c)
{
    for (int r = 0; r < c->n_runs; r++)
        for (uint32_t s = 0; s < c->runs[r]->n_stages; s++) {
            const fw_results_stage *st = &c->runs[r]->stages[s];
            const double *p50 = stage_stat(st, "p50");
            for (uint32_t d = 0; p50 && d < c->runs[r]->n_lat_days; d++)
                if (p50[d] > 0)
                    return 1;
        }
    return 0;
}

static int stage_colour(const ctx *c, const char *stage)
{
    for (uint32_t s = 0; s < c->runs[0]->n_stages; s++)
        if (!strcmp(c->runs[0]->stages[s].name, stage))
            return (int)s % N_PALETTE + 1;
    return 1;
}

static int fig_latency_percentiles(const ctx *c, FILE *gp)
{
    static const char *const pct[] = {"p50", "p99"};
    for (int r = 0; r < c->n_runs; r++) {
        const fw_results *res = c->runs[r];
        char name[64], header[2048];
        int w = snprintf(header, sizeof header, "%s: latency per day in microseconds; columns: day", res->path);
        for (uint32_t s = 0; s < res->n_stages && w < (int)sizeof header; s++)
            w += snprintf(header + w, sizeof header - (size_t)w, " %s_p50_us %s_p99_us",
                          res->stages[s].name, res->stages[s].name);
        snprintf(name, sizeof name, "latency_%d.dat", r);
        FILE *f = open_data(c, name, header);
        if (!f)
            return -1;
        for (uint32_t d = 0; d < res->n_lat_days; d++) {
            put_num(f, d < res->n_days ? (double)res->day[d] : (double)d);
            for (uint32_t s = 0; s < res->n_stages; s++)
                for (int p = 0; p < 2; p++) {
                    const double *v = stage_stat(&res->stages[s], pct[p]);
                    put_num(f, v && v[d] > 0 ? v[d] / 1e3 : NAN);
                }
            fputc('\n', f);
        }
        if (close_data(c, f, name))
            return -1;
    }
    /* Colour is the stage and dash the run: the legend lists each once. */
    const fw_results *r0 = c->runs[0];
    int longest = 0;
    for (uint32_t s = 0; s < r0->n_stages; s++)
        longest = (int)strlen(r0->stages[s].name) > longest ? (int)strlen(r0->stages[s].name) : longest;
    for (int r = 0; c->n_runs > 1 && r < c->n_runs; r++)
        longest = (int)strlen(scenario_name(c->runs[r])) > longest ? (int)strlen(scenario_name(c->runs[r]))
                                                                    : longest;
    double bottom = panels_begin(gp, "Engine latency per day",
                                 (int)r0->n_stages + (c->n_runs > 1 ? c->n_runs : 0), longest);
    day_axis(gp, c);
    fputs("set logscale y\nset ylabel 'latency (µs, log scale)'\nset format y '%g'\n", gp);
    for (int p = 0; p < 2; p++) {
        panel(gp, p);
        fputs(p ? "set title '99th percentile (p99)'\n" : "set title 'Median (p50)'\n", gp);
        const char *sep = "plot ";
        for (int r = 0; r < c->n_runs; r++)
            for (uint32_t s = 0; s < c->runs[r]->n_stages; s++) {
                const fw_results_stage *st = &c->runs[r]->stages[s];
                const double *v = stage_stat(st, pct[p]);
                int any = 0;
                for (uint32_t d = 0; v && d < c->runs[r]->n_lat_days; d++)
                    any |= v[d] > 0;
                if (!any)
                    continue;
                fprintf(gp, "%s'../data/latency_%d.dat' using 1:%u with linespoints lt %d dt %d notitle",
                        sep, r, 2 + 2 * s + (unsigned)p, stage_colour(c, st->name), r + 1);
                sep = ", \\\n     ";
            }
        fputs(*sep == 'p' ? "plot [][1:10] NaN notitle\n" : "\n", gp);
    }
    legend_strip(gp, bottom);
    const char *sep = "plot ";
    for (uint32_t s = 0; s < r0->n_stages; s++) {
        fprintf(gp, "%sNaN with linespoints lt %d title ", sep, stage_colour(c, r0->stages[s].name));
        gp_str(gp, r0->stages[s].name);
        sep = ", \\\n     ";
    }
    for (int r = 0; c->n_runs > 1 && r < c->n_runs; r++) {
        fprintf(gp, "%sNaN with lines lc rgb '#333333' dt %d title ", sep, r + 1);
        gp_str(gp, scenario_name(c->runs[r]));
        sep = ", \\\n     ";
    }
    fputs(*sep == 'p' ? "plot NaN notitle\nunset multiplot\n" : "\nunset multiplot\n", gp);
    return 0;
}

static int stage_has_counts(const fw_results *r, const fw_results_stage *s)
{
    if (!s->counts)
        return 0;
    for (size_t i = 0; i < (size_t)r->n_lat_days * r->n_bins; i++)
        if (s->counts[i])
            return 1;
    return 0;
}

static int has_latency_dist(const ctx *c)
{
    const fw_results *r = c->runs[0];
    for (uint32_t s = 0; r->bin_lower_ns && s < r->n_stages; s++)
        if (stage_has_counts(r, &r->stages[s]))
            return 1;
    return 0;
}

static int fig_latency_distribution(const ctx *c, FILE *gp)
{
    const fw_results *r = c->runs[0];
    FILE *f = open_dataf(c, "latency_ccdf.dat", "%s: per stage (one block each, in the order of the plot), "
                         "over all days; columns: latency_us P(latency >= latency_us) calls_in_bin", r->path);
    if (!f)
        return -1;
    uint64_t *sum = calloc(r->n_bins ? r->n_bins : 1, sizeof *sum);
    if (!sum) {
        fclose(f);
        problem(c, "out of memory");
        return -1;
    }
    int block = 0;
    const char *sep = "plot ";
    fputs("set title 'Latency distribution over the whole run' font ',14'\nset logscale xy\n"
          "set xlabel 'latency (µs, log scale)'\nset ylabel 'share of calls at least this slow'\n"
          "set format y '10^{%L}'\nset format x '%g'\nset key outside right top vertical\n"
          "set termoption enhanced\n", gp);
    for (uint32_t s = 0; s < r->n_stages; s++) {
        const fw_results_stage *st = &r->stages[s];
        if (!stage_has_counts(r, st))
            continue;
        uint64_t n = 0, seen = 0;
        memset(sum, 0, r->n_bins * sizeof *sum);
        for (uint32_t d = 0; d < r->n_lat_days; d++)
            for (uint32_t b = 0; b < r->n_bins; b++)
                sum[b] += st->counts[(size_t)d * r->n_bins + b];
        for (uint32_t b = 0; b < r->n_bins; b++)
            n += sum[b];
        fprintf(f, "%s# stage %s, %llu calls\n", block ? "\n\n" : "", st->name, (unsigned long long)n);
        for (uint32_t b = 0; b < r->n_bins; b++) {
            if (!sum[b])
                continue;
            fprintf(f, "%.10g %.10g %llu\n", r->bin_lower_ns[b] / 1e3, (double)(n - seen) / (double)n,
                    (unsigned long long)sum[b]);
            seen += sum[b];
        }
        fprintf(gp, "%s'../data/latency_ccdf.dat' index %d using 1:2 with steps lt %d lw 2 title ", sep,
                block, stage_colour(c, st->name));
        gp_str(gp, st->name);
        fputs(" noenhanced", gp);   /* enhanced text is on for 10^{-k}: no subscripts here */
        sep = ", \\\n     ";
        block++;
    }
    fputc('\n', gp);
    free(sum);
    return close_data(c, f, "latency_ccdf.dat");
}

/* ---- followers --------------------------------------------------------------------------- */

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static int has_followers(const ctx *c)
{
    const fw_results *r = c->runs[0];
    for (uint32_t i = 0; i < r->n_creators; i++)
        if (r->creator_followers[i])
            return 1;
    return 0;
}

/* The creators' follower counts, ascending (a new array), or NULL (reported). */
static uint32_t *sorted_followers(const ctx *c)
{
    const fw_results *r = c->runs[0];
    uint32_t *v = malloc(r->n_creators * sizeof *v);
    if (!v) {
        problem(c, "out of memory");
        return NULL;
    }
    memcpy(v, r->creator_followers, r->n_creators * sizeof *v);
    qsort(v, r->n_creators, sizeof *v, cmp_u32);
    return v;
}

static int fig_followers(const ctx *c, FILE *gp)
{
    const fw_results *r = c->runs[0];
    uint32_t n = r->n_creators, *v = sorted_followers(c);
    if (!v)
        return -1;
    FILE *f = open_dataf(c, "followers_ccdf.dat",
                         "%s: %u creators; columns: followers share_of_creators_with_at_least_this_many", r->path, n);
    if (!f) {
        free(v);
        return -1;
    }
    for (uint32_t i = 0; i < n; i++)
        if (v[i] > 0 && (i == 0 || v[i] != v[i - 1]))
            fprintf(f, "%u %.10g\n", v[i], (double)(n - i) / n);
    free(v);
    if (close_data(c, f, "followers_ccdf.dat"))
        return -1;
    fputs("set title 'Followers per creator' font ',14'\nset logscale xy\nset termoption enhanced\n"
          "set xlabel 'followers (log scale)'\nset ylabel 'share of creators with at least this many'\n"
          "set format x '%g'\nset format y '10^{%L}'\n", gp);
    fprintf(gp, "plot '../data/followers_ccdf.dat' using 1:2 with points pt 7 ps 0.7 lt 1 notitle\n");
    return 0;
}

static int fig_lorenz(const ctx *c, FILE *gp)
{
    const fw_results *r = c->runs[0];
    uint32_t n = r->n_creators, *v = sorted_followers(c);
    if (!v)
        return -1;
    double tot = 0, cum = 0, area = 0, prev_y = 0;
    for (uint32_t i = 0; i < n; i++)
        tot += v[i];
    FILE *f = open_dataf(c, "lorenz.dat", "%s: creators sorted by followers, ascending; columns: "
                         "share_of_creators share_of_followers", r->path);
    if (!f) {
        free(v);
        return -1;
    }
    uint32_t step = n > 2000 ? n / 2000 : 1;
    fputs("0 0\n", f);
    for (uint32_t i = 0; i < n; i++) {
        cum += v[i];
        double y = cum / tot;
        area += (y + prev_y) / (2.0 * n);
        prev_y = y;
        if ((i + 1) % step == 0 || i + 1 == n)
            fprintf(f, "%.8g %.8g\n", (double)(i + 1) / n, y);
    }
    free(v);
    if (close_data(c, f, "lorenz.dat"))
        return -1;
    char t[256];
    snprintf(t, sizeof t, "Lorenz curve of followers over creators (Gini %.3f)", 1 - 2 * area);
    fputs("set title ", gp);
    gp_str(gp, t);
    fputs(" font ',14'\nset size ratio -1\nset xrange [0:1]\nset yrange [0:1]\n"
          "set xlabel 'share of creators (fewest followers first)'\nset ylabel 'share of all followers'\n"
          "set key inside left top vertical\n"
          "plot '../data/lorenz.dat' using 1:2 with lines lt 1 lw 2.5 title 'Lorenz curve', \\\n"
          "     x with lines lc rgb '#888888' dt 2 title 'perfect equality'\n", gp);
    return 0;
}

/* ---- the entity tables (output.entities) -------------------------------------------------- */

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int has_note_popularity(const ctx *c)
{
    const fw_results *r = c->runs[0];
    for (uint32_t i = 0; r->has_entities && i < r->n_ent_notes; i++)
        if (r->note_impressions[i] > 0)
            return 1;
    return 0;
}

/* Left: the CCDF of impressions per note (notes shown at least once), log-log; right: the
 * Lorenz curve over every note (never shown ones included), with the Gini in the title. */
static int fig_note_popularity(const ctx *c, FILE *gp)
{
    const fw_results *r = c->runs[0];
    uint32_t n = r->n_ent_notes;
    double *v = malloc((n ? n : 1) * sizeof *v), tot = 0, cum = 0, area = 0, prev = 0;
    if (!v) {
        problem(c, "out of memory");
        return -1;
    }
    memcpy(v, r->note_impressions, n * sizeof *v);
    qsort(v, n, sizeof *v, cmp_dbl);
    uint32_t shown = 0;
    for (uint32_t i = 0; i < n; i++) {
        tot += v[i];
        shown += v[i] > 0;
    }
    FILE *f = open_dataf(c, "note_ccdf.dat", "%s: %u notes shown; columns: impressions share_of_shown_notes_with_at_least_this_many",
                         r->path, shown);
    if (!f) {
        free(v);
        return -1;
    }
    for (uint32_t i = n - shown; i < n; i++)
        if (i == n - shown || v[i] != v[i - 1])
            fprintf(f, "%.10g %.10g\n", v[i], (double)(n - i) / shown);
    if (close_data(c, f, "note_ccdf.dat") || !(f = open_dataf(c, "note_lorenz.dat", "%s: %u notes sorted by impressions, "
                                                              "ascending; columns: share_of_notes share_of_impressions",
                                                              r->path, n))) {
        free(v);
        return -1;
    }
    uint32_t step = n > 2000 ? n / 2000 : 1;
    fputs("0 0\n", f);
    for (uint32_t i = 0; i < n; i++) {
        cum += v[i];
        double y = tot > 0 ? cum / tot : 0;
        area += (y + prev) / (2.0 * n);
        prev = y;
        if ((i + 1) % step == 0 || i + 1 == n)
            fprintf(f, "%.8g %.8g\n", (double)(i + 1) / n, y);
    }
    free(v);
    if (close_data(c, f, "note_lorenz.dat"))
        return -1;
    char t[160];
    snprintf(t, sizeof t, "Lorenz curve over all %u notes (Gini %.3f)", n, 1 - 2 * area);
    fputs("set multiplot layout 1,2 title 'Note popularity (impressions over the run)' font ',14'\n"
          "set title 'Notes shown at least once: share with at least x impressions'\nset logscale xy\n"
          "set termoption enhanced\nset xlabel 'impressions (log scale)'\nset ylabel 'share of shown notes'\n"
          "set format x '%g'\nset format y '10^{%L}'\n"
          "plot '../data/note_ccdf.dat' using 1:2 with points pt 7 ps 0.5 lt 1 notitle\n"
          "unset logscale\nset format x '%g'\nset format y '%g'\nset title ", gp);
    gp_str(gp, t);
    fputs("\nset xrange [0:1]\nset yrange [0:1]\nset xlabel 'share of notes (least shown first)'\n"
          "set ylabel 'share of impressions'\nset key inside left top vertical\n"
          "plot '../data/note_lorenz.dat' using 1:2 with lines lt 1 lw 2.5 title 'Lorenz curve', \\\n"
          "     x with lines lc rgb '#888888' dt 2 title 'perfect equality'\nunset multiplot\n", gp);
    return 0;
}

static int has_search_rank(const ctx *c)
{
    const fw_results *r = c->runs[0];
    return r->has_entities && r->rank_examined[0] > 0;
}

static int fig_search_rank(const ctx *c, FILE *gp)
{
    const fw_results *r = c->runs[0];
    FILE *f = open_dataf(c, "search_rank.dat", "%s: columns: rank examined clicked ctr", r->path);
    if (!f)
        return -1;
    for (int k = 0; k < FW_RESULTS_RANKS; k++)
        fprintf(f, "%d %.10g %.10g %.10g\n", k + 1, r->rank_examined[k], r->rank_clicked[k],
                r->rank_examined[k] > 0 ? r->rank_clicked[k] / r->rank_examined[k] : NAN);
    if (close_data(c, f, "search_rank.dat"))
        return -1;
    fputs("set multiplot layout 1,2 title 'Search by result rank (all arms, the whole run)' font ',14'\n"
          "set title 'Results examined (position bias)'\nset xlabel 'rank (10: 10 and deeper)'\nset ylabel 'results'\n"
          "set xrange [0.5:10.5]\nset yrange [0:*]\nset xtics 1\nset style fill solid 0.6\nset boxwidth 0.7\n"
          "plot '../data/search_rank.dat' using 1:2 with boxes lt 1 notitle\n"
          "set title 'Click-through rate of examined results'\nset ylabel 'CTR (%)'\nset yrange [0:*]\n"
          "plot '../data/search_rank.dat' using 1:($4*100) with linespoints lt 2 notitle\nunset multiplot\n", gp);
    return 0;
}

static int has_cohorts(const ctx *c)
{
    const fw_results *r = c->runs[0];
    return r->has_entities && r->n_days > 1 && r->cohort[0] > 0;
}

/* Day-N retention of each day's cohort (users first active that day): one line a cohort. */
static int fig_cohorts(const ctx *c, FILE *gp)
{
    const fw_results *r = c->runs[0];
    uint32_t D = r->n_days;
    FILE *f = open_dataf(c, "cohorts.dat", "%s: one block per cohort (first active day); columns: days_since "
                                          "share_of_cohort_active cohort_day cohort_size", r->path);
    if (!f)
        return -1;
    for (uint32_t d = 0; d < D; d++) {
        double size = r->cohort[(size_t)d * D];
        if (size <= 0)
            continue;
        for (uint32_t k = 0; d + k < D; k++)
            fprintf(f, "%u %.10g %u %.0f\n", k, r->cohort[(size_t)d * D + k] / size, d, size);
        fputs("\n\n", f);
    }
    if (close_data(c, f, "cohorts.dat"))
        return -1;
    fputs("set title 'Cohort retention: users first active on a day, active N days later' font ',14'\n"
          "set xlabel 'days since first active day'\nset ylabel 'share of the cohort active (%)'\n"
          "set yrange [0:*]\nset key outside right top vertical\nset xtics 1\n", gp);
    fputs("plot ", gp);
    for (uint32_t i = 0, d = 0; d < D; d++) {
        if (r->cohort[(size_t)d * D] <= 0)
            continue;
        fprintf(gp, "%s'../data/cohorts.dat' index %u using 1:($2*100) with linespoints lt %u title 'day %u (%.0f users)'",
                i ? ", \\\n     " : "", i, i % N_PALETTE + 1, d, r->cohort[(size_t)d * D]);
        i++;
    }
    fputs("\n", gp);
    return 0;
}

static int has_campaign_spend(const ctx *c)
{
    const fw_results *r = c->runs[0];
    return r->has_entities && r->n_ent_campaigns > 0;
}

static int fig_campaign_spend(const ctx *c, FILE *gp)
{
    const fw_results *r = c->runs[0];
    FILE *f = open_dataf(c, "campaign_spend.dat", "%s: per campaign over the run; columns: campaign budget_cny "
                         "spend_cny", r->path);
    if (!f)
        return -1;
    for (uint32_t k = 0; k < r->n_ent_campaigns; k++)
        fprintf(f, "%u %.10g %.10g\n", k, r->campaign_budget[k] / 100.0, r->campaign_spend[k] / 100.0);
    if (close_data(c, f, "campaign_spend.dat"))
        return -1;
    fputs("set title 'Campaign spend against budget (the whole run)' font ',14'\nset logscale xy\n"
          "set xlabel 'budget over the run (CNY, log scale)'\nset ylabel 'spend (CNY, log scale; 0 not shown)'\n"
          "set format x '%g'\nset format y '%g'\nset key inside left top vertical\n"
          "plot '../data/campaign_spend.dat' using 2:($3 > 0 ? $3 : NaN) with points pt 7 ps 0.7 lt 1 title 'campaign', \\\n"
          "     x with lines lc rgb '#888888' dt 2 title 'spend = budget'\n", gp);
    return 0;
}

/* ---- forest ------------------------------------------------------------------------------ */

/* The lift and interval of metric m in test t: CUPED's when it was applied. */
static int test_lift(const fw_results_test *t, uint32_t m, double *lift, double *lo, double *hi)
{
    const double *cu = fw_results_col(&t->fields, "cuped");
    int cuped = cu && cu[m] != 0 && fw_results_col(&t->fields, "cuped_lift") &&
                isfinite(fw_results_col(&t->fields, "cuped_lift")[m]);
    const char *names[2][3] = {{"lift", "lift_ci_lo", "lift_ci_hi"},
                               {"cuped_lift", "cuped_ci_lo", "cuped_ci_hi"}};
    double *out[3] = {lift, lo, hi};
    for (int k = 0; k < 3; k++) {
        const double *v = fw_results_col(&t->fields, names[cuped][k]);
        *out[k] = v ? v[m] : NAN;
    }
    return cuped;
}

/* The rows of the forest: the (test, metric) pairs with a finite lift. */
static int forest_rows(const fw_results *r)
{
    int n = 0;
    for (uint32_t t = 0; r->has_experiment && t < r->n_tests; t++)
        for (uint32_t m = 0; m < r->n_metrics; m++) {
            double l, lo, hi;
            test_lift(&r->tests[t], m, &l, &lo, &hi);
            n += isfinite(l);
        }
    return n;
}

static int has_forest(const ctx *c)
{
    return forest_rows(c->runs[0]) > 0;
}

static int fig_forest(const ctx *c, FILE *gp)
{
    const fw_results *r = c->runs[0];
    FILE *f = open_dataf(c, "forest.dat", "%s: one block per treatment arm; columns: row lift_pct "
                         "ci_lo_pct ci_hi_pct cuped (1 = CUPED-adjusted) metric", r->path);
    if (!f)
        return -1;
    int n_rows = forest_rows(r);
    fputs("set title 'A/B lifts with 95% intervals (treatment / control - 1)' font ',14'\n"
          "set xlabel 'relative lift (%)'\nset ytics scale 0\nset grid xtics\n", gp);
    fputs(key_below, gp);
    if (n_rows > 20)
        fputs("set ytics font ',8'\n", gp);
    fprintf(gp, "set yrange [0.3:%d.7]\nset arrow from 0, graph 0 to 0, graph 1 nohead lc rgb '#444444' lw 1.5\n",
            n_rows);
    fputs("set ytics (", gp);
    int row = n_rows;
    for (uint32_t t = 0; t < r->n_tests; t++)
        for (uint32_t m = 0; m < r->n_metrics; m++) {
            double l, lo, hi;
            int cuped = test_lift(&r->tests[t], m, &l, &lo, &hi);
            if (!isfinite(l))
                continue;
            char label[512];
            snprintf(label, sizeof label, "%s%s%s%s%s", r->metric[m], cuped ? " *" : "",
                     r->n_tests > 1 ? " (" : "", r->n_tests > 1 ? r->tests[t].arm : "",
                     r->n_tests > 1 ? ")" : "");
            fprintf(gp, "%s", row == n_rows ? "" : ", ");
            gp_str(gp, label);
            fprintf(gp, " %d", row--);
        }
    fputs(")\n", gp);
    row = n_rows;
    const char *sep = "plot ";
    for (uint32_t t = 0; t < r->n_tests; t++) {
        fprintf(f, "%s# %s vs its control\n", t ? "\n\n" : "", r->tests[t].arm);
        for (uint32_t m = 0; m < r->n_metrics; m++) {
            double l, lo, hi;
            int cuped = test_lift(&r->tests[t], m, &l, &lo, &hi);
            if (!isfinite(l))
                continue;
            fprintf(f, "%d", row--);
            put_num(f, 100 * l);
            put_num(f, 100 * lo);
            put_num(f, 100 * hi);
            fprintf(f, " %d %s\n", cuped, r->metric[m]);
        }
        const fw_results_value *ctl = fw_results_attr(&r->tests[t].attrs, "control");
        char title[512];
        snprintf(title, sizeof title, "%s vs %s", r->tests[t].arm, ctl ? ctl->text : "control");
        fprintf(gp, "%s'../data/forest.dat' index %u using 2:1:3:4 with xerrorbars lt %d pt 7 ps 1.2 lw 2 title ",
                sep, t, arm_colour(c, r->tests[t].arm));
        gp_str(gp, title);
        sep = ", \\\n     ";
    }
    fputc('\n', gp);
    return close_data(c, f, "forest.dat");
}

/* ---- privacy (report_privacy.c) ------------------------------------------------------------ */

static int privacy_fig(const ctx *c, FILE *gp, fw_report_privacy_kind kind, const char *name)
{
    FILE *f = open_dataf(c, name, "%s: privacy arms' lift over their control with 95%% intervals", c->runs[0]->path);
    if (!f)
        return -1;
    int rc = fw_report_privacy_plot(c->runs[0], kind, name, f, gp);
    return close_data(c, f, name) || rc ? -1 : 0;
}
static int has_privacy_eps(const ctx *c) { return fw_report_privacy_has(c->runs[0], FW_REPORT_PRIVACY_EPSILON); }
static int has_privacy_ret(const ctx *c) { return fw_report_privacy_has(c->runs[0], FW_REPORT_PRIVACY_RETENTION); }
static int fig_privacy_eps(const ctx *c, FILE *gp)
{
    return privacy_fig(c, gp, FW_REPORT_PRIVACY_EPSILON, "privacy_epsilon.dat");
}
static int fig_privacy_ret(const ctx *c, FILE *gp)
{
    return privacy_fig(c, gp, FW_REPORT_PRIVACY_RETENTION, "privacy_retention.dat");
}

/* ---- the figure table -------------------------------------------------------------------- */

typedef struct figure {
    const char *name, *alt, *caption;
    int (*available)(const ctx *);
    int (*write)(const ctx *, FILE *gp);   /* data files + plot body; -1 on failure (reported) */
} figure;

static const figure figures[] = {
    {"engagement", "daily click-through rate and interactions per read per arm",
     "Left: the share of impressions that were opened, per day and arm, with a shaded 95% "
     "binomial interval (p &plusmn; 1.96&radic;(p(1&minus;p)/impressions)); right: interactions "
     "(likes, saves, comments) per opened note. Lines that stay apart beyond the bands differ.",
     has_daily_ctr, fig_engagement},
    {"activity", "daily active users and sessions per user per arm",
     "Left: users active each day, per arm (arms of different sizes differ in level); right: "
     "sessions per active user, which compares arms regardless of their size.",
     has_daily_activity, fig_activity},
    {"retention", "day-over-day retention per arm",
     "The share of yesterday's active users who came back today, per arm; day 0 has no "
     "yesterday, so it is missing.",
     has_daily_retention, fig_retention},
    {"quality", "oracle NDCG and coverage per arm",
     "Left: the mean NDCG of sampled feed pages against each user's true open probabilities "
     "(known only to the simulator), the ideal being the best page the engine's own recalled "
     "candidates allowed; a learning feed rises over the days. Right: the share of published "
     "notes shown to anyone in the arm that day.",
     has_daily_quality, fig_quality},
    {"commerce", "daily GMV and product click-to-purchase per arm",
     "Left: the value of the orders paid each day, per arm (gross, before refunds; arms of "
     "different sizes differ in level); right: orders paid per product view, the conversion "
     "shared/calibration.md puts at 0.5-2%.",
     has_daily_commerce, fig_commerce},
    {"coupons", "daily coupon cost and redemptions per arm",
     "Left: the face value of the coupons redeemed by orders paid each day, per arm (what the "
     "issuers, platform and brands, pay; gross of refunds); right: the orders paid with a "
     "coupon. Shown for runs whose scenario has coupons (promotions.coupons).",
     has_daily_coupons, fig_coupons},
    {"funnel", "funnel totals per arm",
     "Totals over the whole run, per arm, from impressions to opens, interactions and follows, "
     "on a log scale: each step down is the conversion of the one before.",
     has_funnel, fig_funnel},
    {"latency_percentiles", "median and p99 latency per engine stage per day",
     "Median (left) and 99th-percentile (right) latency of each engine stage per day, in "
     "microseconds on a log scale; a rising p99 with a flat median means a heavier tail.",
     has_latency_pct, fig_latency_percentiles},
    {"latency_distribution", "latency distribution per engine stage",
     "For each engine stage over the whole run, the share of calls at least as slow as the "
     "latency on the x axis (complementary CDF from the histograms, log-log): curves further "
     "right are slower, and a straight fall means a power-law tail.",
     has_latency_dist, fig_latency_distribution},
    {"followers", "distribution of followers per creator",
     "The share of creators with at least a given number of followers (complementary CDF, "
     "log-log) at the end of the run; a straight line means a power-law, a few creators "
     "holding most followers.",
     has_followers, fig_followers},
    {"lorenz", "Lorenz curve of followers",
     "Creators sorted from fewest to most followers: the curve gives the share of all follows "
     "held by the bottom share of creators; the further below the diagonal, the more unequal "
     "(Gini in the title: 0 equal, 1 one creator has all).",
     has_followers, fig_lorenz},
    {"note_popularity", "note popularity: CCDF and Lorenz curve of impressions per note",
     "From /entities (output.entities). Left: the share of notes shown at least once that got at "
     "least x impressions over the run (log-log; a straight fall is a power-law tail); right: "
     "every note sorted from least to most shown, the share of all impressions held by the bottom "
     "share of notes (Gini in the title; never-shown notes count as 0).",
     has_note_popularity, fig_note_popularity},
    {"search_rank", "search examinations and click-through rate by rank",
     "From /entities/search_rank: organic search results examined at each rank (how position bias "
     "thins attention) and the share of examined results opened, over every arm and day.",
     has_search_rank, fig_search_rank},
    {"cohorts", "cohort retention curves",
     "From /entities/user_days: each line is the users first active on a day of the run (day 0: "
     "everyone active that day), and the share of them active N days later.",
     has_cohorts, fig_cohorts},
    {"campaign_spend", "campaign spend against budget",
     "From /entities/campaign_days: each point is a campaign's spend over the run against its "
     "budget over the run; points on the dashed line spent everything, points below under-delivered "
     "(campaigns that spent nothing are not shown on the log scale).",
     has_campaign_spend, fig_campaign_spend},
    {"forest", "A/B lifts with 95% intervals",
     "Each row is a metric's relative lift of the treatment arm over its control with its 95% "
     "interval (CUPED-adjusted where marked *); an interval that does not cross the line at 0 "
     "is significant at 5% before correcting for the number of metrics.",
     has_forest, fig_forest},
    {"privacy_epsilon", "CTR, retention and GMV against the privacy budget epsilon",
     "Each point is an arm releasing the engine's trending and co-engagement counts with "
     "differential privacy (engine.privacy.dp) at the epsilon per user per day on the x axis: its "
     "lift over the control (exact counts) in CTR, active days per user and GMV per user, with the "
     "A/B test's 95% interval. The daily privacy accounting is in the file's /privacy/days.",
     has_privacy_eps, fig_privacy_eps},
    {"privacy_retention", "CTR, retention and GMV against the retention window",
     "Each point is an arm whose engine forgets its users' signals after the number of days on the "
     "x axis (engine.privacy.retention_days): its lift over the control (keeping everything) with "
     "the A/B test's 95% interval.",
     has_privacy_ret, fig_privacy_ret},
};
enum { N_FIGURES = sizeof figures / sizeof *figures };

typedef struct fig_result {
    int shown;         /* its data exists */
    char why[512];     /* empty when drawn */
} fig_result;

/* Style shared by every figure; written after `reset` before each terminal's body. */
static void style(FILE *gp)
{
    for (int i = 0; i < N_PALETTE; i++)
        fprintf(gp, "set linetype %d lc rgb '%s' lw 2 pt 7 ps 0.9\n", i + 1, palette[i]);
    fputs("set datafile missing 'NaN'\nset grid lc rgb '#dddddd' lw 1\nset border lc rgb '#444444'\n"
          "set key noautotitle samplen 2.5\nset tics nomirror\nset border 3\n", gp);
}

/* The first line of log that names a script line ("... line N: ...") and is not a
 * warning, else the first that names one, else its first non-empty line. */
static void first_error(const char *log, char *why, size_t n)
{
    FILE *f = fopen(log, "r");
    char line[512], first[512] = "", warning[512] = "";
    why[0] = 0;
    if (!f)
        return;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (!first[0] && line[strspn(line, " ")])
            snprintf(first, sizeof first, "%s", line);
        if (strstr(line, " line ") && strstr(line, ": ")) {
            if (!strstr(line, "warning:")) {
                snprintf(why, n, "%s", line);
                break;
            }
            if (!warning[0])
                snprintf(warning, sizeof warning, "%s", line);
        }
    }
    fclose(f);
    if (!why[0])
        snprintf(why, n, "%s", warning[0] ? warning : first);
}

/* Seconds on the monotonic clock. */
static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Waits for child pid (the leader of its own process group) for at most timeout_s seconds,
 * polling; past the deadline kills its whole group (a gnuplot started by a wrapper script
 * included) and reaps it. Returns 0 with *status, 1 when it had to be killed, -1 when it
 * cannot be waited for (errno). */
static int wait_deadline(pid_t pid, int timeout_s, int *status)
{
    double deadline = now_s() + timeout_s;
    for (;;) {
        pid_t w = waitpid(pid, status, WNOHANG);
        if (w == pid)
            return 0;
        if (w < 0 && errno != EINTR)
            return -1;
        if (now_s() >= deadline)
            break;
        nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
    }
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    while (waitpid(pid, status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return 1;
}

/* Runs `gnuplot NAME.gp` in DIR/figures with stderr to NAME.log, for at most c->timeout_s
 * seconds. Returns 0 when it exits 0 and the PNG exists, -2 when it ran out of time (and was
 * killed), -1 otherwise; writes why unless 0. */
static int run_gnuplot(const ctx *c, const char *prog, const char *name, char *why, size_t n)
{
    char figdir[4096], script[300], log[300], png[4500];
    snprintf(figdir, sizeof figdir, "%s/figures", c->dir);
    snprintf(script, sizeof script, "%s.gp", name);
    snprintf(log, sizeof log, "%s.log", name);
    snprintf(png, sizeof png, "%s/%s.png", figdir, name);
    int pipefd[2];
    if (pipe(pipefd) < 0 || fcntl(pipefd[1], F_SETFD, FD_CLOEXEC) < 0) {
        snprintf(why, n, "cannot start %s: %s", prog, strerror(errno));
        return -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(why, n, "cannot start %s: %s", prog, strerror(errno));
        close(pipefd[0]);
        close(pipefd[1]);
        return -1;
    }
    if (pid == 0) {
        /* The child: only async-signal-safe calls until exec; on failure the parent reads
         * errno from the close-on-exec pipe. */
        char *const argv[] = {(char *)prog, script, NULL};
        int err, fd;
        close(pipefd[0]);
        /* a group of its own, so that a timeout kills whatever it started too */
        if (setpgid(0, 0) < 0 || chdir(figdir) < 0)
            goto child_fail;
        if ((fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0666)) < 0 || dup2(fd, 2) < 0)
            goto child_fail;
        if ((fd = open("/dev/null", O_RDWR)) < 0 || dup2(fd, 0) < 0 || dup2(fd, 1) < 0)
            goto child_fail;
        execvp(prog, argv);
    child_fail:
        err = errno;
        if (write(pipefd[1], &err, sizeof err) < 0)
            _exit(126);
        _exit(127);
    }
    close(pipefd[1]);
    setpgid(pid, pid);   /* as the child does: whichever runs first (EACCES after exec is fine) */
    int child_errno = 0, status = 0;
    ssize_t got;
    while ((got = read(pipefd[0], &child_errno, sizeof child_errno)) < 0 && errno == EINTR)
        ;
    close(pipefd[0]);
    int waited = wait_deadline(pid, c->timeout_s, &status);
    if (waited < 0) {
        snprintf(why, n, "cannot wait for %s: %s", prog, strerror(errno));
        return -1;
    }
    char logpath[4500];
    snprintf(logpath, sizeof logpath, "%s/%s", figdir, log);
    if (waited == 1) {
        snprintf(why, n, "%s did not finish within %d s and was stopped (see figures/%s)", prog, c->timeout_s, log);
        return -2;
    }
    if (got == (ssize_t)sizeof child_errno) {
        snprintf(why, n, "cannot run %s: %s", prog, strerror(child_errno));
        unlink(logpath);
        return -1;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char first[700];
        first_error(logpath, first, sizeof first);
        if (WIFEXITED(status))
            snprintf(why, n, "%s exited with status %d: %s (see figures/%s)", prog,
                     WEXITSTATUS(status), first[0] ? first : "no message", log);
        else
            snprintf(why, n, "%s was killed by signal %d", prog, WTERMSIG(status));
        return -1;
    }
    struct stat st;
    if (stat(png, &st) < 0 || st.st_size == 0) {
        snprintf(why, n, "%s exited 0 but wrote no %s.png (see figures/%s)", prog, name, log);
        return -1;
    }
    unlink(logpath);
    return 0;
}

/* Writes DIR/figures/NAME.gp: the body twice, once per terminal. */
static int write_script(const ctx *c, const figure *fig, const char *body)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/figures/%s.gp", c->dir, fig->name);
    FILE *gp = fopen(path, "w");
    if (!gp) {
        problem(c, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    fprintf(gp, "# %s: %s.\n# Written by flywheel report; redraw with `gnuplot %s.gp` in this folder.\n",
            fig->name, fig->alt, fig->name);
    fprintf(gp, "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n"
                "    set terminal pngcairo size 960,540 font 'Sans,11' noenhanced\n"
                "} else {\n    set terminal png size 960,540 noenhanced\n}\n"
                "set output '%s.png'\nreset\n%s\nunset output\n\n"
                "set terminal svg size 960,540 font 'Sans,11' noenhanced background '#ffffff'\n"
                "set output '%s.svg'\nreset\n%s\nunset output\n",
            fig->name, body, fig->name, body);
    if (fclose(gp) != 0) {
        problem(c, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* Writes one figure's data and script and draws it. -1 only for I/O failures of ours; 1 when
 * gnuplot ran out of time. */
static int build_figure(const ctx *c, const figure *fig, const char *prog, fig_result *res)
{
    char *body = NULL, path[4096];
    size_t len = 0;
    FILE *mem = open_memstream(&body, &len);
    if (!mem) {
        problem(c, "out of memory");
        return -1;
    }
    style(mem);
    int rc = fig->write(c, mem);
    if (fclose(mem) != 0 || !body)
        rc = -1;
    if (rc == 0)
        rc = write_script(c, fig, body);
    free(body);
    if (rc < 0)
        return -1;
    for (int k = 0; k < 2; k++) {   /* never show a stale picture from an earlier report */
        snprintf(path, sizeof path, "%s/figures/%s.%s", c->dir, fig->name, k ? "svg" : "png");
        unlink(path);
    }
    int drawn = run_gnuplot(c, prog, fig->name, res->why, sizeof res->why);
    if (drawn < 0) {
        if (!res->why[0])
            snprintf(res->why, sizeof res->why, "unknown failure");
        problem(c, "figure '%s': %s", fig->name, res->why);
    }
    return drawn == -2;
}

/* ---- index.html -------------------------------------------------------------------------- */

static const char *const provenance[] = {
    "scenario_name", "status", "days_completed", "days_planned", "seed", "threads",
    "flywheel_version", "git_revision", "start_time", "end_time", "wall_seconds", "peak_rss_mib",
    "overrides", "scenario_path"};

/* Columns of the daily totals table: the column of the daily data and how to print it. */
static const struct {
    int col;
    const char *head;
    int decimals;
    double scale;   /* 100: shown as a percentage */
} daily_table[] = {
    {DC_ACTIVE, "active users", 0, 1},   {DC_SESSIONS, "sessions", 0, 1},
    {DC_IMPR, "impressions", 0, 1},      {DC_OPENS, "opens", 0, 1},
    {DC_CTR, "CTR", 2, 100},             {DC_INTER, "interactions", 0, 1},
    {DC_FOLLOWS, "follows", 0, 1},       {DC_NEW_NOTES, "new notes", 0, 1},
    {DC_RET, "retention", 1, 100},
};

/* v with `decimals` decimals, a leading sign when plus, then suffix; a dash when undefined.
 * decimals < 0: four significant digits. */
static void html_num(FILE *h, double v, int decimals, int plus, const char *suffix)
{
    if (!isfinite(v))
        fputs("&ndash;", h);
    else if (decimals < 0)
        fprintf(h, "%.4g%s", v, suffix);
    else
        fprintf(h, plus ? "%+.*f%s" : "%.*f%s", decimals, v, suffix);
}

static void html_provenance(FILE *h, const ctx *c)
{
    fputs("<h2>Run</h2>\n<table>\n<tr><th></th>", h);
    for (int r = 0; r < c->n_runs; r++) {
        fputs("<th>", h);
        fw_html_esc(h, c->runs[r]->path);
        fputs("</th>", h);
    }
    fputs("</tr>\n", h);
    for (size_t k = 0; k < sizeof provenance / sizeof *provenance; k++) {
        fputs("<tr><th>", h);
        fw_html_esc(h, provenance[k]);
        fputs("</th>", h);
        for (int r = 0; r < c->n_runs; r++) {
            const char *v = attr_text(c->runs[r], provenance[k]);
            fputs("<td class=\"text\">", h);
            if (v && *v)
                fw_html_esc(h, v);
            else
                fputs("&ndash;", h);
            fputs("</td>", h);
        }
        fputs("</tr>\n", h);
    }
    fputs("</table>\n", h);
}

static void html_daily(FILE *h, const ctx *c)
{
    fputs("<h2>Daily totals</h2>\n", h);
    for (int r = 0; r < c->n_runs; r++) {
        const fw_results *res = c->runs[r];
        for (uint32_t a = 0; a < res->n_arms; a++) {
            const fw_results_arm *arm = &res->arms[a];
            const fw_results_value *users = fw_results_attr(&arm->attrs, "users");
            fputs("<h3>", h);
            if (c->n_runs > 1) {
                fw_html_esc(h, scenario_name(res));
                fputs(": ", h);
            }
            fputs("arm ", h);
            fw_html_esc(h, arm->name);
            if (users) {
                fputs(" (", h);
                fw_html_esc(h, users->text);
                fputs(" users assigned)", h);
            }
            fputs("</h3>\n<table class=\"num\">\n<tr><th>day</th>", h);
            for (size_t k = 0; k < sizeof daily_table / sizeof *daily_table; k++)
                fprintf(h, "<th>%s</th>", daily_table[k].head);
            fputs("</tr>\n", h);
            for (uint32_t d = 0; d < res->n_days; d++) {
                fprintf(h, "<tr><td>%d</td>", (int)res->day[d]);
                for (size_t k = 0; k < sizeof daily_table / sizeof *daily_table; k++) {
                    fputs("<td>", h);
                    double v = daily_table[k].scale * daily_value(res, arm, daily_table[k].col, d);
                    if (daily_table[k].scale == 100 && !isfinite(v))
                        fputs("n/a", h);   /* a rate whose denominator is 0 (no impressions) */
                    else
                        html_num(h, v, daily_table[k].decimals, 0, daily_table[k].scale == 100 ? "%" : "");
                    fputs("</td>", h);
                }
                fputs("</tr>\n", h);
            }
            fputs("</table>\n", h);
        }
    }
}

static double field(const fw_results_test *t, const char *name, uint32_t m)
{
    const double *v = fw_results_col(&t->fields, name);
    return v ? v[m] : NAN;
}

static void html_ab(FILE *h, const ctx *c)
{
    int any = 0;
    for (int r = 0; r < c->n_runs; r++)
        any |= c->runs[r]->has_experiment && c->runs[r]->n_tests > 0;
    if (!any)
        return;
    fputs("<h2>A/B tests</h2>\n<p>Each metric is in its own units. <em>p</em> is the primary, two-sided "
          "test of the absolute difference treatment &minus; control (delta method, Welch); where CUPED "
          "applies (marked *) the test and the lift are those of the CUPED-adjusted means, shown next to "
          "the raw ones. Lift is treatment / control &minus; 1 with its interval from the log ratio (never "
          "below &minus;100%; &ndash; when the control is too sparse for a ratio). MDE is the smallest "
          "difference the test detects with 80% power, as a share of the control. p_holm is adjusted over the "
          "metrics; p_seq is the sequential test over the daily looks (union-bound alpha spending), valid "
          "however often one looks.</p>\n", h);
    for (int r = 0; r < c->n_runs; r++) {
        const fw_results *res = c->runs[r];
        const fw_results_value *alpha_v = fw_results_attr(&res->experiment, "alpha");
        double alpha = alpha_v && isfinite(alpha_v->num) ? alpha_v->num : 0.05;
        const fw_results_value *groups = fw_results_attr(&res->experiment, "learner_groups");
        if (res->has_experiment && groups && isfinite(groups->num) && groups->num > 1) {
            fputs("<p>", h);
            if (c->n_runs > 1) {
                fw_html_esc(h, scenario_name(res));
                fputs(": ", h);
            }
            fprintf(h, "tests over %.0f learner groups per arm, each with its own learned state, as clusters "
                       "(t with Welch df): each learner's random path is in the standard errors; no CUPED on "
                       "groups.</p>\n", groups->num);
        }
        for (uint32_t t = 0; res->has_experiment && t < res->n_tests; t++) {
            const fw_results_test *T = &res->tests[t];
            const fw_results_value *ctl = fw_results_attr(&T->attrs, "control"),
                                   *layer = fw_results_attr(&T->attrs, "layer"),
                                   *srm = fw_results_attr(&T->attrs, "srm_p");
            fputs("<h3>", h);
            if (c->n_runs > 1) {
                fw_html_esc(h, scenario_name(res));
                fputs(": ", h);
            }
            fw_html_esc(h, T->arm);
            fputs(" vs ", h);
            fw_html_esc(h, ctl ? ctl->text : "control");
            if (layer) {
                fputs(" (layer ", h);
                fw_html_esc(h, layer->text);
                fputs(")", h);
            }
            fputs("</h3>\n", h);
            if (srm) {
                fputs("<p>Sample-ratio-mismatch check: p = ", h);
                html_num(h, srm->num, 4, 0, "");
                fputs(isfinite(srm->num) && srm->num < 0.001 ? " <strong>(mismatch: do not trust "
                                                               "this test)</strong>" : "", h);
                fputs("</p>\n", h);
            }
            fprintf(h, "<table class=\"num ab\">\n<tr><th>metric</th><th>units</th><th>control</th>"
                       "<th>treatment</th><th>CUPED control</th><th>CUPED treatment</th><th>lift</th>"
                       "<th>%g%% CI</th><th>MDE (80%% power)</th><th>p</th><th>p_holm</th><th>p_seq</th></tr>\n",
                    100 * (1 - alpha));
            for (uint32_t m = 0; m < res->n_metrics; m++) {
                double l, lo, hi;
                int cuped = test_lift(T, m, &l, &lo, &hi);
                if (!isfinite(field(T, "p", m)) && !isfinite(l) && !isfinite(field(T, "control", m)))
                    continue;
                fputs("<tr><th>", h);
                fw_html_esc(h, res->metric[m]);
                fputs(cuped ? " *" : "", h);
                fputs("</th><td class=\"text\">", h);
                fw_html_esc(h, res->metric_unit ? res->metric_unit[m] : "");
                fputs("</td><td>", h);
                html_num(h, field(T, "control", m), -1, 0, "");
                fputs("</td><td>", h);
                html_num(h, field(T, "treatment", m), -1, 0, "");
                fputs("</td><td>", h);
                html_num(h, cuped ? field(T, "cuped_control", m) : NAN, -1, 0, "");
                fputs("</td><td>", h);
                html_num(h, cuped ? field(T, "cuped_treatment", m) : NAN, -1, 0, "");
                fputs("</td><td>", h);
                html_num(h, 100 * l, 2, 1, "%");
                fputs("</td><td>", h);
                if (isfinite(lo) && isfinite(hi)) {
                    fputs("[", h);
                    html_num(h, 100 * lo, 2, 1, "%");
                    fputs(", ", h);
                    html_num(h, 100 * hi, 2, 1, "%");
                    fputs("]", h);
                } else {
                    fputs("&ndash;", h);
                }
                fputs("</td><td>", h);
                double mde_rel = field(T, "mde_rel", m);
                if (isfinite(mde_rel))
                    html_num(h, 100 * mde_rel, 2, 0, "%");
                else
                    html_num(h, field(T, "mde", m), -1, 0, "");
                fputs("</td>", h);
                /* p_msprt: files written before the sequential test was replaced */
                static const char *const ps[] = {"p", "p_holm", "p_seq"};
                for (int k = 0; k < 3; k++) {
                    double p = field(T, ps[k], m);
                    if (k == 2 && !fw_results_col(&T->fields, "p_seq"))
                        p = field(T, "p_msprt", m);
                    fputs(isfinite(p) && p < alpha ? "<td class=\"sig\">" : "<td>", h);
                    html_num(h, p, 4, 0, "");
                    fputs("</td>", h);
                }
                fputs("</tr>\n", h);
            }
            fputs("</table>\n", h);
        }
    }
}

static const char css[] =
    "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1000px;margin:2em auto;"
    "padding:0 1em;color:#222;line-height:1.45}\n"
    "h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #ddd}h3{font-size:1.05em}\n"
    "table{border-collapse:collapse;margin:.5em 0 1em;font-size:.9em}\n"
    "th,td{border:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top}\n"
    "table.num td{text-align:right;font-variant-numeric:tabular-nums}\n"
    "td.text{white-space:pre-wrap;font-family:ui-monospace,monospace}\n"
    "td.sig{font-weight:bold}th{background:#f5f5f5}\n"
    "figure{margin:1.5em 0}figure img{max-width:100%;height:auto;border:1px solid #eee}\n"
    "figcaption{font-size:.92em;color:#444}.missing{background:#fff3f3;border:1px solid #e99;"
    "padding:.6em}\n";

static int write_html(const ctx *c, const fig_result *res)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/index.html", c->dir);
    FILE *h = fopen(path, "w");
    if (!h) {
        problem(c, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Flywheel report: ", h);
    for (int r = 0; r < c->n_runs; r++) {
        if (r)
            fputs(" vs ", h);
        fw_html_esc(h, scenario_name(c->runs[r]));
    }
    fprintf(h, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<h1>Flywheel report: ", css);
    for (int r = 0; r < c->n_runs; r++) {
        if (r)
            fputs(" vs ", h);
        fw_html_esc(h, scenario_name(c->runs[r]));
    }
    fputs("</h1>\n<p>Built by <code>flywheel report</code> from ", h);
    for (int r = 0; r < c->n_runs; r++) {
        fputs(r ? " and <code>" : "<code>", h);
        fw_html_esc(h, c->runs[r]->path);
        fputs("</code>", h);
    }
    fputs(". Each figure links to its SVG; its gnuplot script is in <code>figures/</code> and "
          "its numbers in <code>data/</code>.</p>\n", h);
    html_provenance(h, c);
    html_daily(h, c);
    html_ab(h, c);
    fw_report_safety_html(h, c->runs, c->n_runs);   /* issue 20: empty without safety data */
    fw_report_live_html(h, c->runs, c->n_runs);     /* issue 19: empty without live selling */
    fw_report_aigc_html(h, c->runs, c->n_runs);   /* issue 20 */
    fputs("<h2>Figures</h2>\n", h);
    for (int i = 0; i < N_FIGURES; i++) {
        const figure *f = &figures[i];
        if (!res[i].shown)
            continue;
        fprintf(h, "<figure id=\"%s\">\n", f->name);
        if (res[i].why[0]) {
            fprintf(h, "<p class=\"missing\">Figure <code>%s</code> is missing: ", f->name);
            fw_html_esc(h, res[i].why);
            fprintf(h, ". Its script is <a href=\"figures/%s.gp\">figures/%s.gp</a>.</p>\n", f->name, f->name);
        } else {
            fprintf(h, "<a href=\"figures/%s.svg\"><img src=\"figures/%s.png\" width=\"960\" "
                       "height=\"540\" alt=\"%s\"></a>\n", f->name, f->name, f->alt);
        }
        fprintf(h, "<figcaption><b>%s</b> (<a href=\"figures/%s.svg\">SVG</a>, "
                   "<a href=\"figures/%s.gp\">script</a>): %s</figcaption>\n</figure>\n",
                f->name, f->name, f->name, f->caption);
    }
    fputs("</body>\n</html>\n", h);
    if (fclose(h) != 0) {
        problem(c, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

fw_err fw_report_build(const fw_results *const *runs, int n_runs, const fw_report_opts *opts,
                       fw_report_summary *sum)
{
    ctx c = {.runs = runs, .n_runs = n_runs, .dir = opts->dir, .err = opts->err ? opts->err : stderr,
             .timeout_s = opts->timeout_s > 0 ? opts->timeout_s : FW_REPORT_GNUPLOT_TIMEOUT_S};
    const char *hung = NULL;   /* the figure gnuplot ran out of time on, if one did */
    fig_result res[N_FIGURES];
    fw_report_summary s = {0, 0};
    if (n_runs < 1 || n_runs > MAX_RUNS)
        return FW_ERR_INVAL;
    for (int r = 0; r < n_runs; r++)
        for (uint32_t a = 0; a < runs[r]->n_arms; a++)
            if (!fw_results_find_arm(runs[0], runs[r]->arms[a].name) || r == 0) {
                int dup = 0;
                for (int k = 0; k < c.n_arm_names; k++)
                    dup |= !strcmp(c.arm_names[k], runs[r]->arms[a].name);
                if (!dup && c.n_arm_names < MAX_ARMS)
                    c.arm_names[c.n_arm_names++] = runs[r]->arms[a].name;
            }
    if (write_daily_data(&c))
        return FW_ERR_IO;
    memset(res, 0, sizeof res);
    for (int i = 0; i < N_FIGURES; i++) {
        if (!(res[i].shown = figures[i].available(&c)))
            continue;
        s.n_figures++;
        if (hung) {
            /* one gnuplot that hangs will hang again: waiting out each figure would multiply
             * the wait by the number of figures */
            snprintf(res[i].why, sizeof res[i].why, "not drawn: gnuplot did not finish figure '%s' in time", hung);
            problem(&c, "figure '%s': %s", figures[i].name, res[i].why);
            s.n_failed++;
            continue;
        }
        int b = build_figure(&c, &figures[i], opts->gnuplot ? opts->gnuplot : "gnuplot", &res[i]);
        if (b < 0)
            return FW_ERR_IO;
        if (b == 1)
            hung = figures[i].name;
        s.n_failed += res[i].why[0] != 0;
    }
    if (write_html(&c, res))
        return FW_ERR_IO;
    *sum = s;
    return FW_OK;
}
