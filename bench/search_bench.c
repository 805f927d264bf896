/* bench_search: latency and single-core throughput of search requests (fw_search_request)
 * over a synthetic text index at scale (default 1M notes, 100k users, 200k queries).
 *
 * What it does, in order:
 *  1. builds a synthetic catalog, with no world generator: n_topics topics; a vocabulary of
 *     TOPIC_TERMS words per topic (Zipf-distributed within the topic), GENERIC_TERMS words
 *     shared by every topic (Zipf), and COLLOQ_TERMS colloquial words per topic that no note
 *     contains (people search with them; only learned intents can answer them). Each note
 *     has a uniform topic, a random creator, a created_tick < 0 rising with its id, and up to
 *     FW_NOTE_TERMS terms: 10-12 of its topic's words, 2-3 generic words, and with
 *     probability 0.8 one word of another topic (FW_NONE-padded; Zipf repeats count as term
 *     frequency);
 *  2. creates the engine twice with four arms -- arm 0, measured, with every knob at its
 *     default except engine.search.mode and retrieval (--retrieval); arm 1 the same with
 *     retrieval exhaustive (the reference); arm 2 with retrieval newest, max_postings 2000;
 *     arm 3 with retrieval pruned -- once without the note terms (the engine alone) and once with them (the engine plus
 *     the search index); the difference is the index build;
 *  3. in intent mode, warms the learned query intents up: --clicks clicks
 *     (fw_engine_log_search, CLICK_BATCH per tick) of random users, each a query drawn like
 *     the measured ones (colloquial share CLICK_COLLOQ) that opens a uniform random note of
 *     the query's topic; then checks with fw_search_intent how many colloquial words point
 *     at their own topic;
 *  4. measures `queries` search requests on one thread (queries drawn before the clock
 *     starts: a uniform topic, 1-3 words, each a Zipf word of that topic or with probability
 *     P_GENERIC a generic word; in intent mode a share --colloquial of queries carries one
 *     colloquial word of its topic), with the engine's own per-stage histograms, an exact
 *     external timing per request, preemption flags, and the work counters;
 *  5. checks the answers: the share of results on the query's topic and the share containing
 *     one of the query's words (keyword mode: must be all); that re-running the first
 *     RECHECK_QUERIES queries gives identical pages; and how much of the exhaustive
 *     reference's page (arm 1, same queries) arm 0's page holds (overlap@page_size);
 *  6. side by side (--side N, issue 22): the first N queries, then N one-word queries of the
 *     FREQ_WORDS most frequent words, each timed on exact, pruned, newest and exhaustive in
 *     rotating order: p50/p99 (all, and not preempted), postings scored, exact == exhaustive
 *     and pruned == exhaustive on every page (the run fails otherwise), newest's recall@10
 *     against exact.
 *
 * Every random draw comes from a keyed stream (sim/rng.h); the run is deterministic apart
 * from the timings. Usage: bench_search --help. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <gsl/gsl_rng.h>

#include "bench_util.h"
#include "fixture_engine.h"   /* every knob at its default (tests/unit/) */
#include "flywheel/engine.h"
#include "model/knobs.h"
#include "model/rng.h"

/* The synthetic vocabulary. Term ids: topic t's words are t * TOPIC_TERMS + [0, TOPIC_TERMS)
 * (rank order: id t * TOPIC_TERMS is the topic's most frequent word), then GENERIC_TERMS
 * generic words, then COLLOQ_TERMS colloquial words per topic. */
#define TOPIC_TERMS 200
#define GENERIC_TERMS 100
#define COLLOQ_TERMS 20
#define ZIPF_S 1.0           /* exponent of the Zipf law of word ranks */
#define P_OTHER_TOPIC 0.8    /* a note carries one word of another topic */
#define P_GENERIC 0.15       /* a query word is generic */
#define HISTORY_DAYS 30      /* notes were created over the 30 days before day 0 */
#define TICKS_PER_DAY 96
#define CLICK_BATCH 2000     /* clicks per fw_engine_log_search call (one tick) */
#define CLICK_COLLOQ 0.2     /* colloquial share of the warm-up's clicked queries */
#define RECHECK_QUERIES 2000 /* queries re-run: determinism, and the exhaustive reference */
#define NEWEST_POSTINGS 2000u   /* arm 2 (retrieval newest): the cap the engine used to apply */
#define N_ARMS 4
#define FREQ_WORDS 4            /* the side-by-side's frequent-word queries: top generic words */
#define FW_SEARCH_PAGE_MAX_BENCH 10   /* the side-by-side's page: engine.search.page_size's default */

/* Keys: each note's draws come from (seed, FW_RNG_NOTE, note, 0), each user's creator draw
 * from (seed, FW_RNG_NOTE, note, DAY_CREATOR); each query from (seed, FW_RNG_ACTIVITY,
 * query, DAY_MEASURE), each warm-up click from (seed, FW_RNG_ACTIVITY, click, DAY_CLICK):
 * "days" no simulated day reaches. */
#define DAY_CREATOR 0xfff00001u
#define DAY_MEASURE 0xfff00002u
#define DAY_CLICK 0xfff00003u

/* Query class, for the per-class breakdown: flags and the word count. */
#define Q_GENERIC 1u
#define Q_COLLOQ 2u
#define Q_WORDS_SHIFT 2
#define Q_WORDS_MASK (3u << Q_WORDS_SHIFT)

typedef struct bench_opts {
    uint32_t notes, users, queries, topics, clicks, side;
    int retrieval;         /* fw_search_retrieval of arm 0 */
    uint64_t seed;
    int mode;              /* fw_search_mode */
    double colloquial;     /* share of measured queries with a colloquial word; < 0: default */
} bench_opts;

typedef struct vocab {
    uint32_t n_topics, n_terms;
    double cdf_topic[TOPIC_TERMS];
    double cdf_generic[GENERIC_TERMS];
} vocab;

static inline uint32_t term_topic(uint32_t t, uint32_t rank) { return t * TOPIC_TERMS + rank; }
static inline uint32_t term_generic(const vocab *v, uint32_t rank)
{
    return v->n_topics * TOPIC_TERMS + rank;
}
static inline uint32_t term_colloq(const vocab *v, uint32_t t, uint32_t k)
{
    return v->n_topics * TOPIC_TERMS + GENERIC_TERMS + t * COLLOQ_TERMS + k;
}
static inline int is_generic(const vocab *v, uint32_t term)
{
    return term >= term_generic(v, 0) && term < term_generic(v, GENERIC_TERMS);
}

static const stage_row report_stages[] = {
    {FW_STAGE_SEARCH, "search (whole request)"},
    {FW_STAGE_SEARCH_PARSE, "  search_parse"},
    {FW_STAGE_SEARCH_RETRIEVE, "  search_retrieve"},
    {FW_STAGE_SEARCH_RANK, "  search_rank"},
};
#define N_REPORT_STAGES (sizeof report_stages / sizeof *report_stages)

/* The resident set now (VmRSS), MiB; 0 where /proc is unreadable. */
static double rss_now_mib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double kib = 0.0;
    if (!f)
        return 0.0;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6)) {
            kib = strtod(line + 6, NULL);
            break;
        }
    fclose(f);
    return kib / 1024.0;
}

typedef struct lat_summary {
    size_t n;
    double p50_us, p99_us, p999_us, mean_us, postings, results;
} lat_summary;

/* Exact latency percentiles of the requests i with (flags[i] & mask) == want and, when
 * clean_only, not preempted; with their mean postings and results (scratch holds n). */
static lat_summary summarize(const int64_t *ns, const uint8_t *flags, const uint8_t *pre,
                             const uint32_t *postings, const uint8_t *nres, size_t n,
                             uint8_t mask, uint8_t want, int clean_only, int64_t *scratch)
{
    size_t m = 0;
    double sum = 0.0, post = 0.0, res = 0.0;
    for (size_t i = 0; i < n; i++) {
        if ((flags[i] & mask) != want || (clean_only && pre[i]))
            continue;
        scratch[m++] = ns[i];
        sum += (double)ns[i];
        post += postings[i];
        res += nres[i];
    }
    qsort(scratch, m, sizeof *scratch, cmp_i64);
    return (lat_summary){.n = m, .p50_us = pct_sorted(scratch, m, 50.0) / 1e3,
                         .p99_us = pct_sorted(scratch, m, 99.0) / 1e3,
                         .p999_us = pct_sorted(scratch, m, 99.9) / 1e3,
                         .mean_us = m ? sum / m / 1e3 : 0.0,
                         .postings = m ? post / m : 0.0,
                         .results = m ? res / m : 0.0};
}

static void print_class_row(const char *label, lat_summary s)
{
    printf("  %-34s %8zu %9.2f %9.2f %9.2f %9.2f %11.0f %8.2f\n", label, s.n, s.p50_us, s.p99_us,
           s.p999_us, s.mean_us, s.postings, s.results);
}

#define MODE_NAME(constant, yaml) yaml,
static const char *const mode_names[] = {FW_SEARCH_MODES(MODE_NAME)};
static const char *const retrieval_names[] = {FW_SEARCH_RETRIEVALS(MODE_NAME)};
#undef MODE_NAME

/* Every engine.search knob of cf on one line, expanded from the knob list (so a knob added
 * to the engine shows up here without an edit). */
static void print_search_knobs(const fw_search_cfg *cf)
{
#define ENUM_NAME(constant, yaml) yaml,
#define PK_U32(name, lo) printf(" %s %u", #name, (unsigned)cf->name);
#define PK_U64(name, lo) printf(" %s %llu", #name, (unsigned long long)cf->name);
#define PK_F64(name, lo) printf(" %s %g", #name, (double)cf->name);
#define PK_BOOL(name, lo) printf(" %s %s", #name, cf->name ? "true" : "false");
#define PK_STR(name, lo) printf(" %s %s", #name, cf->name ? cf->name : "");
#define PK_ENUM(name, lo)                                         \
    {                                                             \
        static const char *const nm[] = {lo(ENUM_NAME)};          \
        printf(" %s %s", #name, nm[cf->name]);                    \
    }
#define PK(sec, scope, type, name, def, lo, hi, unit, doc) PK_##type(name, lo)
    FW_SEARCH_KNOBS(PK)
#undef PK
#undef PK_ENUM
#undef PK_STR
#undef PK_BOOL
#undef PK_F64
#undef PK_U64
#undef PK_U32
#undef ENUM_NAME
}

static const char usage[] =
    "usage: bench_search [options]\n"
    "\n"
    "Benchmarks search requests (fw_search_request) on one thread over a synthetic catalog:\n"
    "builds notes with Zipf-distributed topic words, generic words and a stray word of\n"
    "another topic, creates the engine with the text index, in intent mode learns query\n"
    "intents from warm-up clicks, then times search requests per stage and compares the\n"
    "answers with an exhaustive reference (engine.search.retrieval exhaustive); then\n"
    "times exact, pruned, newest and exhaustive retrieval side by side (--side).\n"
    "\n"
    "options:\n"
    "  --notes N         notes in the catalog (default 1000000)\n"
    "  --users N         users (creators and searchers; default 100000)\n"
    "  --queries N       measured search requests (default 200000)\n"
    "  --topics N        topics (default 32)\n"
    "  --mode M          engine.search.mode: keyword or intent (default: the knob's default)\n"
    "  --retrieval R     arm 0's engine.search.retrieval: exact, newest (max_postings 2000),\n"
    "                    exhaustive or pruned (default: the knob's default)\n"
    "  --side N          side by side: the first N queries (and N frequent-word queries)\n"
    "                    timed on exact, pruned, newest and exhaustive in turn (default 20000)\n"
    "  --clicks N        intent mode: warm-up clicks (default 200000; ignored in keyword mode)\n"
    "  --colloquial X    share of measured queries with a colloquial word (default 0.2 in\n"
    "                    intent mode, 0 in keyword mode)\n"
    "  --seed S          master seed (default: the scenario default)\n"
    "  -h, --help        this help\n";

/* The options on the command line (a bad one exits 2: bench_parse_args). */
static bench_opts parse_args(int argc, char **argv)
{
    fw_engine_cfg def = fixture_engine_cfg();
    bench_opts o = {.notes = 1000000, .users = 100000, .queries = 200000, .topics = 32, .clicks = 200000,
                    .side = 20000, .retrieval = def.search.retrieval, .seed = seed_default(),
                    .mode = def.search.mode, .colloquial = -1.0};
    const bench_opt opts[] = {
        {.name = "--notes", .kind = BENCH_U32, .dst = &o.notes, .lo = 10, .hi = 50000000},
        {.name = "--users", .kind = BENCH_U32, .dst = &o.users, .lo = 1, .hi = 50000000},
        {.name = "--queries", .kind = BENCH_U32, .dst = &o.queries, .lo = 1, .hi = 100000000},
        {.name = "--topics", .kind = BENCH_U32, .dst = &o.topics, .lo = 2, .hi = 1024},
        {.name = "--mode", .kind = BENCH_NAME, .dst = &o.mode, .hi = FW_SEARCH__COUNT, .names = mode_names,
         .expect = "keyword or intent"},
        {.name = "--clicks", .kind = BENCH_U32, .dst = &o.clicks, .lo = 0, .hi = 100000000},
        {.name = "--retrieval", .kind = BENCH_NAME, .dst = &o.retrieval, .hi = FW_RETRIEVAL__COUNT,
         .names = retrieval_names, .expect = "exact, newest, exhaustive or pruned"},
        {.name = "--side", .kind = BENCH_U32, .dst = &o.side, .lo = 0, .hi = 100000000},
        {.name = "--colloquial", .kind = BENCH_SHARE, .dst = &o.colloquial},
        {.name = "--seed", .kind = BENCH_U64, .dst = &o.seed, .lo = 0, .hi = UINT64_MAX},
    };
    bench_parse_args("bench_search", usage, opts, sizeof opts / sizeof *opts, argc, argv);
    if (o.colloquial < 0.0)
        o.colloquial = o.mode == FW_SEARCH_INTENT ? 0.2 : 0.0;
    if (o.mode != FW_SEARCH_INTENT)
        o.clicks = 0;
    return o;
}

/* cdf[k] = P(rank <= k) under Zipf(s) over n ranks. */
static void zipf_cdf(double *cdf, uint32_t n, double s)
{
    double sum = 0.0;
    for (uint32_t k = 0; k < n; k++)
        sum += pow(k + 1.0, -s);
    double acc = 0.0;
    for (uint32_t k = 0; k < n; k++) {
        acc += pow(k + 1.0, -s) / sum;
        cdf[k] = acc;
    }
    cdf[n - 1] = 1.0;
}

/* A rank drawn from cdf[0..n): the first k with u < cdf[k]. */
static uint32_t draw_rank(const double *cdf, uint32_t n, gsl_rng *r)
{
    double u = gsl_rng_uniform(r);
    uint32_t lo = 0, hi = n - 1;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (u < cdf[mid])
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

static void vocab_init(vocab *v, uint32_t n_topics)
{
    v->n_topics = n_topics;
    v->n_terms = n_topics * (TOPIC_TERMS + COLLOQ_TERMS) + GENERIC_TERMS;
    zipf_cdf(v->cdf_topic, TOPIC_TERMS, ZIPF_S);
    zipf_cdf(v->cdf_generic, GENERIC_TERMS, ZIPF_S);
}

/* Note i's topic and terms (FW_NOTE_TERMS, FW_NONE-padded), from r seeked to its key. */
static uint16_t draw_note(const vocab *v, gsl_rng *r, uint32_t *terms)
{
    uint32_t t = (uint32_t)gsl_rng_uniform_int(r, v->n_topics);
    uint32_t n_topic = 10 + (uint32_t)gsl_rng_uniform_int(r, 3);
    uint32_t n_gen = 2 + (uint32_t)gsl_rng_uniform_int(r, 2);
    uint32_t n_other = gsl_rng_uniform(r) < P_OTHER_TOPIC;
    uint32_t k = 0;
    for (uint32_t j = 0; j < n_topic; j++)
        terms[k++] = term_topic(t, draw_rank(v->cdf_topic, TOPIC_TERMS, r));
    for (uint32_t j = 0; j < n_gen; j++)
        terms[k++] = term_generic(v, draw_rank(v->cdf_generic, GENERIC_TERMS, r));
    if (n_other) {
        uint32_t o = (uint32_t)gsl_rng_uniform_int(r, v->n_topics - 1);
        o += o >= t;
        terms[k++] = term_topic(o, draw_rank(v->cdf_topic, TOPIC_TERMS, r));
    }
    while (k < FW_NOTE_TERMS)
        terms[k++] = FW_NONE;
    return (uint16_t)t;
}

/* A query of a uniform topic: 1 word (40%), 2 (40%) or 3 (20%), distinct, each a Zipf word
 * of the topic or (P_GENERIC) a generic word; with probability colloq the first word is
 * instead a uniform colloquial word of the topic. Returns the query's class (Q_*). */
static uint8_t draw_query(const vocab *v, gsl_rng *r, double colloq, uint32_t *n_terms,
                          uint32_t *terms, uint16_t *topic)
{
    uint32_t t = (uint32_t)gsl_rng_uniform_int(r, v->n_topics);
    double u = gsl_rng_uniform(r);
    uint32_t n = u < 0.4 ? 1 : u < 0.8 ? 2 : 3;
    uint8_t flags = 0;
    uint32_t k = 0;
    if (gsl_rng_uniform(r) < colloq) {
        terms[k++] = term_colloq(v, t, (uint32_t)gsl_rng_uniform_int(r, COLLOQ_TERMS));
        flags |= Q_COLLOQ;
    }
    while (k < n) {
        uint32_t w;
        if (gsl_rng_uniform(r) < P_GENERIC)
            w = term_generic(v, draw_rank(v->cdf_generic, GENERIC_TERMS, r));
        else
            w = term_topic(t, draw_rank(v->cdf_topic, TOPIC_TERMS, r));
        int dup = 0;
        for (uint32_t j = 0; j < k; j++)
            dup |= terms[j] == w;
        if (dup)
            continue;   /* redraw: a query names a word once */
        if (is_generic(v, w))
            flags |= Q_GENERIC;
        terms[k++] = w;
    }
    *n_terms = n;
    *topic = (uint16_t)t;
    return (uint8_t)(flags | n << Q_WORDS_SHIFT);
}

/* Topic t's notes, note ids ascending: by_topic[topic_off[t] .. topic_off[t + 1]). */
static int index_topics(const fw_note_info *notes, uint32_t n, uint32_t n_topics,
                        uint32_t **off_out, uint32_t **by_out)
{
    uint32_t *off = calloc((size_t)n_topics + 1, sizeof *off), *by = malloc((size_t)n * sizeof *by);
    if (!off || !by) {
        free(off);
        free(by);
        return -1;
    }
    for (uint32_t i = 0; i < n; i++)
        off[notes[i].topic + 1]++;
    for (uint32_t t = 0; t < n_topics; t++)
        off[t + 1] += off[t];
    for (uint32_t i = 0; i < n; i++)
        by[off[notes[i].topic]++] = i;
    for (uint32_t t = n_topics; t > 0; t--)
        off[t] = off[t - 1];
    off[0] = 0;
    *off_out = off;
    *by_out = by;
    return 0;
}

/* The bench's own BM25 (the textbook formula with the engine's k1 and b), to judge pages by
 * text relevance: document frequencies and lengths counted from the catalog. */
typedef struct bm25_tab {
    const uint32_t *note_terms;
    uint32_t *df;          /* [n_terms] notes containing the term */
    double avgdl, n_docs, k1, b;
    uint32_t n_terms;
} bm25_tab;

static int bm25_init(bm25_tab *t, const uint32_t *note_terms, uint32_t n_notes, uint32_t n_terms,
                     double k1, double b)
{
    *t = (bm25_tab){.note_terms = note_terms, .n_docs = n_notes, .k1 = k1, .b = b,
                    .n_terms = n_terms};
    if (!(t->df = calloc(n_terms, sizeof *t->df)))
        return -1;
    uint64_t total = 0;
    for (uint32_t i = 0; i < n_notes; i++) {
        const uint32_t *nt = note_terms + (size_t)i * FW_NOTE_TERMS;
        for (uint32_t k = 0; k < FW_NOTE_TERMS; k++) {
            if (nt[k] >= n_terms)
                continue;
            total++;
            uint32_t j = 0;
            while (j < k && nt[j] != nt[k])
                j++;
            t->df[nt[k]] += j == k;   /* first occurrence in the note */
        }
    }
    t->avgdl = n_notes ? (double)total / n_notes : 0.0;
    return 0;
}

static double bm25_score(const bm25_tab *t, uint32_t note, const uint32_t *q, uint32_t nq)
{
    const uint32_t *nt = t->note_terms + (size_t)note * FW_NOTE_TERMS;
    uint32_t len = 0;
    for (uint32_t k = 0; k < FW_NOTE_TERMS; k++)
        len += nt[k] < t->n_terms;
    double norm = t->k1 * (1.0 - t->b + t->b * len / t->avgdl), s = 0.0;
    for (uint32_t j = 0; j < nq; j++) {
        if (q[j] >= t->n_terms)
            continue;
        uint32_t tf = 0;
        for (uint32_t k = 0; k < FW_NOTE_TERMS; k++)
            tf += nt[k] == q[j];
        if (!tf)
            continue;
        double df = t->df[q[j]];
        s += log(1.0 + (t->n_docs - df + 0.5) / (df + 0.5)) * tf * (t->k1 + 1.0) / (tf + norm);
    }
    return s;
}

static int note_has_term(const uint32_t *terms, const uint32_t *q, uint32_t nq)
{
    for (uint32_t k = 0; k < FW_NOTE_TERMS && terms[k] != FW_NONE; k++)
        for (uint32_t j = 0; j < nq; j++)
            if (terms[k] == q[j])
                return 1;
    return 0;
}

/* The engine of cat with the arms ec[0..N_ARMS), timed: *secs its creation's wall time, *mib
 * the resident set it added. NULL, reported naming the engine by what, on failure. */
static fw_engine *create_timed(const fw_catalog *cat, const fw_engine_cfg *ec, const char *what, double *secs,
                               double *mib)
{
    fw_err rc;
    double rss0 = rss_now_mib(), t0 = now_s();
    fw_engine *e = fw_engine_create(cat, ec, N_ARMS, &rc);
    if (!e) {
        fprintf(stderr, "bench_search: creating the engine %s failed: %s\n", what, fw_err_str(rc));
        return NULL;
    }
    *secs = now_s() - t0;
    *mib = rss_now_mib() - rss0;
    return e;
}

/* Side by side, in one run: each query timed on exact (arm 0), pruned (arm 3), newest (arm
 * 2) and exhaustive (arm 1) in turn, the order rotating from query to query so that none of
 * the four always runs on a warmer cache; then the same over single-word queries of the
 * FREQ_WORDS most frequent words. Prints p50/p99 per retrieval, how many exact and pruned
 * pages equal the exhaustive ones (must be all), and newest's recall@page against exact.
 * Returns -1 when out of memory, -2 when an exact or pruned page differs from the
 * exhaustive one. */
static int side_by_side(fw_engine *e, fw_engine_ctx *ctx, const bench_opts *o, const vocab *v, const bm25_tab *bt,
                        const fw_search_req *qs, size_t n_qs)
{
    if (o->side == 0)
        return 0;
    if (o->retrieval != FW_RETRIEVAL_EXACT) {
        printf("\nside by side: skipped (arm 0 is not retrieval exact)\n");
        return 0;
    }
    enum { R = 4 };
    static const uint32_t arm_of[R] = {0, 3, 2, 1};   /* exact, pruned, newest, exhaustive */
    static const char *const label[R] = {"exact", "pruned", "newest (max_postings 2000)", "exhaustive"};
    size_t n = o->side;
    int64_t *ns[R] = {NULL, NULL, NULL, NULL}, *tmp = malloc(n * sizeof *tmp);
    uint8_t *pre = malloc(R * n);   /* pre[a * n + i]: retrieval a's request i was preempted */
    uint64_t *post[R] = {NULL, NULL, NULL, NULL};
    int rc = -1;
    if (!tmp || !pre) {
        free(tmp);
        free(pre);
        return -1;
    }
    for (int a = 0; a < R; a++)
        if (!(ns[a] = malloc(n * sizeof *ns[a])) || !(post[a] = calloc(2, sizeof *post[a])))
            goto out;
    for (int set = 0; set < 2; set++) {
        size_t same = 0, same_pruned = 0, hit = 0, want = 0;
        for (size_t i = 0; i < n; i++) {
            fw_search_req q;
            if (set == 0)
                q = qs[i % n_qs];
            else {
                q = (fw_search_req){.user = (uint32_t)(i % o->users), .tick = qs[0].tick, .n_terms = 1};
                memset(q.terms, 0xff, sizeof q.terms);
                q.terms[0] = term_generic(v, (uint32_t)(i % FREQ_WORDS));
            }
            uint32_t page[R][FW_SEARCH_PAGE_MAX_BENCH], np[R];
            for (int r = 0; r < R; r++) {
                int a = (int)((i + (size_t)r) % R);
                q.arm = arm_of[a];
                uint64_t p0 = fw_engine_ctx_work(ctx, FW_WORK_POSTINGS);
                long pr = preemptions();
                int64_t t0 = now_ns();
                np[a] = fw_search_request(e, ctx, &q, page[a], FW_SEARCH_PAGE_MAX_BENCH);
                ns[a][i] = now_ns() - t0;
                pre[(size_t)a * n + i] = preemptions() != pr;
                post[a][set] += fw_engine_ctx_work(ctx, FW_WORK_POSTINGS) - p0;
            }
            same += np[0] == np[3] && memcmp(page[0], page[3], np[0] * sizeof *page[0]) == 0;
            same_pruned += np[1] == np[3] && memcmp(page[1], page[3], np[1] * sizeof *page[1]) == 0;
            want += np[0];
            for (uint32_t k = 0; k < np[0]; k++)
                for (uint32_t j = 0; j < np[2]; j++)
                    hit += page[0][k] == page[2][j];
        }
        if (set == 0)
            printf("\nside by side: the first %zu measured queries (cycled), each on exact, pruned, newest "
                   "and exhaustive in turn (rotating order), external timing, one thread:\n",
                   n);
        else {
            printf("\nside by side: %zu one-word queries of the %d most frequent words (postings:", n, FREQ_WORDS);
            for (uint32_t w = 0; w < FREQ_WORDS; w++)
                printf(" %u", bt->df[term_generic(v, w)]);
            printf("), same protocol:\n");
        }
        printf("  %-28s %10s %10s %10s %12s %14s %14s %9s\n", "retrieval", "p50_us", "p99_us", "mean_us",
               "postings/q", "p50_us clean", "p99_us clean", "preempted");
        for (int a = 0; a < R; a++) {
            double mean = 0.0;
            size_t nc = 0;
            for (size_t i = 0; i < n; i++) {
                tmp[i] = ns[a][i];
                mean += ns[a][i] / 1e3 / n;
            }
            qsort(tmp, n, sizeof *tmp, cmp_i64);
            double p50 = pct_sorted(tmp, n, 50.0) / 1e3, p99 = pct_sorted(tmp, n, 99.0) / 1e3;
            for (size_t i = 0; i < n; i++)
                if (!pre[(size_t)a * n + i])
                    tmp[nc++] = ns[a][i];
            qsort(tmp, nc, sizeof *tmp, cmp_i64);
            printf("  %-28s %10.2f %10.2f %10.2f %12.0f %14.2f %14.2f %9zu\n", label[a], p50, p99, mean,
                   (double)post[a][set] / n, pct_sorted(tmp, nc, 50.0) / 1e3, pct_sorted(tmp, nc, 99.0) / 1e3,
                   n - nc);
        }
        printf("  (clean: over the requests during which this thread was not switched out; preempted: "
               "how many were)\n");
        printf("  pages identical to exhaustive: exact %zu, pruned %zu of %zu%s; newest recall@%u against "
               "exact: %.2f%%\n",
               same, same_pruned, n, same == n && same_pruned == n ? "" : " (EXACTNESS VIOLATED)",
               (unsigned)FW_SEARCH_PAGE_MAX_BENCH, want ? 100.0 * hit / want : 100.0);
        if (same != n || same_pruned != n) {
            rc = -2;
            goto out;
        }
    }
    rc = 0;
out:
    for (int a = 0; a < R; a++) {
        free(ns[a]);
        free(post[a]);
    }
    free(tmp);
    free(pre);
    return rc;
}

int main(int argc, char **argv)
{
    bench_opts o = parse_args(argc, argv);
    int status = 1;
    fw_err rc = FW_OK;
    fw_engine *e = NULL;
    fw_engine_ctx *ctx = NULL;
    gsl_rng *r = NULL;
    fw_note_info *notes = NULL;
    uint32_t *note_terms = NULL, *topic_off = NULL, *by_topic = NULL, *page = NULL;
    uint32_t *postings = NULL, *recheck = NULL;
    fw_search_req *qs = NULL;
    fw_search_click *clicks = NULL;
    uint16_t *q_topic = NULL;
    uint8_t *q_flags = NULL, *pre = NULL, *nres = NULL;
    int64_t *lat_ns = NULL, *scratch = NULL;
    double *dist = NULL;
    bm25_tab bt = {0};
    double t_begin = now_s();

    vocab v;
    vocab_init(&v, o.topics);
    /* Arm 0 is measured (retrieval --retrieval); arm 1 is the same with every posting read
     * (retrieval exhaustive): the reference the answers of arm 0 are compared with; arm 2
     * reads the newest NEWEST_POSTINGS of each word (retrieval newest), for the side by side. */
    fw_engine_cfg ec[N_ARMS];
    ec[0] = fixture_engine_cfg();
    ec[0].search.mode = o.mode;
    ec[0].search.retrieval = o.retrieval;
    ec[0].search.max_postings = o.retrieval == FW_RETRIEVAL_NEWEST ? NEWEST_POSTINGS : 0;
    ec[1] = ec[0];
    ec[1].search.retrieval = FW_RETRIEVAL_EXHAUSTIVE;
    ec[1].search.max_postings = 0;
    ec[2] = ec[0];
    ec[2].search.retrieval = FW_RETRIEVAL_NEWEST;
    ec[2].search.max_postings = NEWEST_POSTINGS;
    ec[3] = ec[0];
    ec[3].search.retrieval = FW_RETRIEVAL_PRUNED;
    ec[3].search.max_postings = 0;
    uint32_t page_cap = ec[0].search.page_size;

    printf("bench_search: search requests over a synthetic text index, one thread\n");
    print_load("at start");

    /* ---- catalog ------------------------------------------------------------------------ */
    double t0 = now_s();
    if (!(notes = malloc((size_t)o.notes * sizeof *notes)) ||
        !(note_terms = malloc((size_t)o.notes * FW_NOTE_TERMS * sizeof *note_terms)) ||
        !(r = fw_rng_create(o.seed, FW_RNG_NOTE, 0, 0)))
        goto oom;
    int32_t span = HISTORY_DAYS * TICKS_PER_DAY;
    uint64_t n_postings = 0;
    for (uint32_t i = 0; i < o.notes; i++) {
        fw_rng_seek(r, o.seed, FW_RNG_NOTE, i, 0);
        uint32_t *tt = note_terms + (size_t)i * FW_NOTE_TERMS;
        uint16_t topic = draw_note(&v, r, tt);
        fw_rng_seek(r, o.seed, FW_RNG_NOTE, i, DAY_CREATOR);
        notes[i] = (fw_note_info){
            .creator = (uint32_t)gsl_rng_uniform_int(r, o.users),
            .topic = topic,
            .format = FW_FORMAT_IMAGE,
            .created_tick = -span + (int32_t)((uint64_t)i * (uint64_t)span / o.notes)};
        for (uint32_t k = 0; k < FW_NOTE_TERMS; k++)
            n_postings += tt[k] != FW_NONE;
    }
    if (index_topics(notes, o.notes, o.topics, &topic_off, &by_topic) ||
        bm25_init(&bt, note_terms, o.notes, v.n_terms, ec[0].search.k1, ec[0].search.b))
        goto oom;
    printf("catalog: %u notes, %u users, %u topics, %u terms (%u per topic Zipf(%.1f), %u "
           "generic Zipf(%.1f), %u colloquial per topic in no note), seed %llu\n"
           "  note text: 10-12 topic words, 2-3 generic words, one word of another topic with "
           "p %.1f; %.2f term slots per note (repeats = term frequency)\n"
           "  built in %.2f s; RSS %.0f MiB\n",
           o.notes, o.users, o.topics, v.n_terms, TOPIC_TERMS, ZIPF_S, GENERIC_TERMS, ZIPF_S,
           COLLOQ_TERMS, (unsigned long long)o.seed, P_OTHER_TOPIC, (double)n_postings / o.notes,
           now_s() - t0, rss_now_mib());

    /* ---- engine: without, then with the text index --------------------------------------- */
    fw_catalog cat = {.n_users = o.users, .n_topics = o.topics, .ticks_per_day = TICKS_PER_DAY,
                      .n_notes = o.notes, .notes = notes, .n_terms = v.n_terms,
                      .note_terms = NULL};
    printf("engine: arm 0 (measured): every knob at its default except engine.search.mode = %s; "
           "feed algorithm %s\n  engine.search:",
           mode_names[o.mode], ec[0].feed.algorithm == FW_FEED_REC ? "rec" : "baseline");
    print_search_knobs(&ec[0].search);
    printf("\n  arm 1 (reference): arm 0 with retrieval exhaustive (every posting read); arm 2: "
           "retrieval newest, max_postings %u; arm 3: retrieval pruned\n",
           NEWEST_POSTINGS);
    double create_plain_s, rss_plain, create_text_s, rss_text;
    if (!(e = create_timed(&cat, ec, "without text", &create_plain_s, &rss_plain)))
        goto out;
    fw_engine_destroy(e);
    cat.note_terms = note_terms;
    if (!(e = create_timed(&cat, ec, "with the text index", &create_text_s, &rss_text)))
        goto out;
    if (!(ctx = fw_engine_ctx_create(e))) {
        fprintf(stderr, "bench_search: out of memory creating the engine ctx\n");
        goto out;
    }
    printf("  fw_engine_create without note terms: %.3f s, RSS +%.0f MiB\n"
           "  fw_engine_create with note terms:    %.3f s, RSS +%.0f MiB  -> index build %.3f s, "
           "index about %.0f MiB (%llu term slots)\n  peak RSS %.0f MiB\n",
           create_plain_s, rss_plain, create_text_s, rss_text, create_text_s - create_plain_s,
           rss_text - rss_plain, (unsigned long long)n_postings, peak_rss_mib());

    if (!(page = malloc(page_cap * sizeof *page)) ||
        !(dist = malloc((size_t)o.topics * sizeof *dist)))
        goto oom;

    /* ---- intent warm-up: clicks ---------------------------------------------------------- */
    int32_t tick = 0;
    double learn_s = 0.0;
    uint64_t learn_calls = 0;
    if (o.clicks) {
        if (!(clicks = malloc(CLICK_BATCH * sizeof *clicks)))
            goto oom;
        uint32_t done = 0;
        while (done < o.clicks) {
            uint32_t n = o.clicks - done < CLICK_BATCH ? o.clicks - done : CLICK_BATCH;
            for (uint32_t k = 0; k < n; k++) {
                fw_search_click *c = &clicks[k];
                uint16_t t;
                fw_rng_seek(r, o.seed, FW_RNG_ACTIVITY, done + k, DAY_CLICK);
                memset(c->terms, 0xff, sizeof c->terms);
                draw_query(&v, r, CLICK_COLLOQ, &c->n_terms, c->terms, &t);
                c->user = (uint32_t)gsl_rng_uniform_int(r, o.users);
                c->tick = tick;
                uint32_t nt = topic_off[t + 1] - topic_off[t];
                c->note = nt ? by_topic[topic_off[t] + gsl_rng_uniform_int(r, nt)]
                             : (uint32_t)gsl_rng_uniform_int(r, o.notes);
            }
            double q0 = now_s();
            if ((rc = fw_engine_log_search(e, ctx, clicks, n)) != FW_OK) {
                fprintf(stderr, "bench_search: fw_engine_log_search failed: %s\n", fw_err_str(rc));
                goto out;
            }
            learn_s += now_s() - q0;
            learn_calls++;
            fw_engine_end_tick(e, ctx, tick);
            tick++;
            done += n;
        }
        const fw_hist *hl = fw_engine_ctx_latency(ctx, FW_STAGE_SEARCH_LEARN);
        printf("intent warm-up: %u clicks in %llu calls of up to %u (one a tick, ticks 0..%d), "
               "each a query drawn like the measured ones (colloquial share %.2f) opening a "
               "uniform note of its topic\n  learning: %.3f s in all; search_learn p50 %.1f us, "
               "p99 %.1f us per call; clicks learned (work counter) %llu\n",
               o.clicks, (unsigned long long)learn_calls, CLICK_BATCH, tick - 1, CLICK_COLLOQ,
               learn_s, fw_hist_percentile(hl, 50.0) / 1e3, fw_hist_percentile(hl, 99.0) / 1e3,
               (unsigned long long)fw_engine_ctx_work(ctx, FW_WORK_SEARCH_CLICKS));
        /* Did the intents come out right? Every colloquial word alone, and each topic's top
         * TOP_CHECK words alone: is the learned argmax topic the word's topic? */
        enum { TOP_CHECK = 5 };
        uint32_t right[2] = {0}, known[2] = {0}, total[2] = {0};
        double conf[2] = {0};
        for (uint32_t t = 0; t < o.topics; t++)
            for (uint32_t kind = 0; kind < 2; kind++) {
                uint32_t n = kind ? TOP_CHECK : COLLOQ_TERMS;
                for (uint32_t k = 0; k < n; k++) {
                    fw_search_req q = {.user = 0, .arm = 0, .tick = tick, .n_terms = 1};
                    q.terms[0] = kind ? term_topic(t, k) : term_colloq(&v, t, k);
                    double cf = fw_search_intent(e, &q, dist);
                    uint32_t best = 0;
                    double sum = 0.0;
                    for (uint32_t j = 0; j < o.topics; j++) {
                        sum += dist[j];
                        if (dist[j] > dist[best])
                            best = j;
                    }
                    total[kind]++;
                    if (sum > 0.0) {
                        known[kind]++;
                        right[kind] += best == t;
                        conf[kind] += cf;
                    }
                }
            }
        printf("  learned intents: colloquial words %u/%u known, %u point at their topic "
               "(mean confidence %.3f); top-%d topic words %u/%u known, %u point at their "
               "topic (mean confidence %.3f)\n",
               known[0], total[0], right[0], known[0] ? conf[0] / known[0] : 0.0, TOP_CHECK,
               known[1], total[1], right[1], known[1] ? conf[1] / known[1] : 0.0);
    }
    double rss_before_measure = peak_rss_mib();

    /* ---- measured queries, drawn before the clock starts ---------------------------------- */
    size_t N = o.queries;
    if (!(qs = malloc(N * sizeof *qs)) || !(q_topic = malloc(N * sizeof *q_topic)) ||
        !(q_flags = malloc(N)) || !(pre = malloc(N)) || !(nres = malloc(N)) ||
        !(lat_ns = malloc(N * sizeof *lat_ns)) || !(scratch = malloc(N * sizeof *scratch)) ||
        !(postings = malloc(N * sizeof *postings)))
        goto oom;
    size_t n_check = N < RECHECK_QUERIES ? N : RECHECK_QUERIES;
    if (!(recheck = malloc(n_check * page_cap * sizeof *recheck)))
        goto oom;
    int32_t measure_tick = tick;
    for (size_t i = 0; i < N; i++) {
        fw_search_req *q = &qs[i];
        fw_rng_seek(r, o.seed, FW_RNG_ACTIVITY, (uint32_t)i, DAY_MEASURE);
        memset(q->terms, 0xff, sizeof q->terms);
        q_flags[i] = draw_query(&v, r, o.colloquial, &q->n_terms, q->terms, &q_topic[i]);
        q->user = (uint32_t)gsl_rng_uniform_int(r, o.users);
        q->arm = 0;
        q->tick = measure_tick;
    }
    double clock_ns = clock_cost_ns();
    printf("measure: %zu search requests on one thread at tick %d: uniform topic, 1/2/3 words "
           "(40/40/20%%), a word generic with p %.2f, a colloquial word in a share %.2f of "
           "queries;\n  users uniform; nothing is logged during the measurement; "
           "clock_gettime costs %.1f ns (the engine reads it around each stage)\n",
           N, measure_tick, P_GENERIC, o.colloquial, clock_ns);

    /* ---- measurement ---------------------------------------------------------------------- */
    fw_engine_ctx_reset_latency(ctx);
    uint64_t on_topic = 0, with_word = 0, served = 0, zero = 0;
    double t_loop = now_s();
    for (size_t i = 0; i < N; i++) {
        uint64_t p0 = fw_engine_ctx_work(ctx, FW_WORK_POSTINGS);
        long pr = preemptions();
        int64_t q0 = now_ns();
        uint32_t n = fw_search_request(e, ctx, &qs[i], page, page_cap);
        lat_ns[i] = now_ns() - q0;
        pre[i] = preemptions() != pr;
        postings[i] = (uint32_t)(fw_engine_ctx_work(ctx, FW_WORK_POSTINGS) - p0);
        nres[i] = (uint8_t)n;
        zero += n == 0;
        served += n;
        for (uint32_t k = 0; k < n; k++) {
            on_topic += notes[page[k]].topic == q_topic[i];
            with_word += note_has_term(note_terms + (size_t)page[k] * FW_NOTE_TERMS, qs[i].terms,
                                       qs[i].n_terms);
        }
        if (i < n_check) {
            memset(recheck + i * page_cap, 0xff, page_cap * sizeof *recheck);
            memcpy(recheck + i * page_cap, page, n * sizeof *page);
        }
    }
    double loop_s = now_s() - t_loop;
    stage_stats st[N_REPORT_STAGES];
    stage_stats_of(ctx, report_stages, N_REPORT_STAGES, st);
    int sigfigs = fw_engine_ctx_latency(ctx, FW_STAGE_SEARCH)->sigfigs;
    uint64_t w_searches = fw_engine_ctx_work(ctx, FW_WORK_SEARCHES);
    uint64_t w_postings = fw_engine_ctx_work(ctx, FW_WORK_POSTINGS);
    uint64_t w_cands = fw_engine_ctx_work(ctx, FW_WORK_SEARCH_CANDIDATES);

    /* Determinism: the first n_check queries again, against the same (frozen) state. */
    size_t mismatch = 0;
    for (size_t i = 0; i < n_check; i++) {
        for (uint32_t k = 0; k < page_cap; k++)
            page[k] = FW_NONE;
        fw_search_request(e, ctx, &qs[i], page, page_cap);
        mismatch += memcmp(page, recheck + i * page_cap, page_cap * sizeof *page) != 0;
    }

    /* The exhaustive reference (arm 1) on the same queries: what bounding the postings read
     * costs in answers. Overlap@k: the share of the reference page that arm 0's page holds. */
    uint64_t ref_served = 0, ref_hit = 0, ref_on_topic = 0, ref_with_word = 0;
    size_t ref_same = 0, ref_ordered = 0, own_ordered = 0;
    double bm_own = 0.0, bm_ref = 0.0;
    uint64_t own_as_good = 0, own_n = 0;
    int64_t *ref_ns = scratch;   /* n_check <= N: scratch is free until the report */
    for (size_t i = 0; i < n_check; i++) {
        fw_search_req q = qs[i];
        q.arm = 1;
        int64_t q0 = now_ns();
        uint32_t n = fw_search_request(e, ctx, &q, page, page_cap);
        ref_ns[i] = now_ns() - q0;
        const uint32_t *mine = recheck + i * page_cap;
        int same = n == nres[i];
        for (uint32_t k = 0; k < n; k++) {
            for (uint32_t j = 0; j < nres[i]; j++)
                ref_hit += mine[j] == page[k];
            same &= mine[k] == page[k];
            ref_on_topic += notes[page[k]].topic == q_topic[i];
            ref_with_word += note_has_term(note_terms + (size_t)page[k] * FW_NOTE_TERMS, q.terms,
                                           q.n_terms);
        }
        ref_same += same;
        ref_served += n;
        /* Text relevance by the bench's own BM25: the reference page's lowest score is the
         * bar a result must reach to belong on it (ties make overlap alone misleading). */
        double bar = INFINITY, prev = INFINITY;
        int ordered = 1;
        for (uint32_t k = 0; k < n; k++) {
            double sc = bm25_score(&bt, page[k], q.terms, q.n_terms);
            bm_ref += sc;
            bar = sc < bar ? sc : bar;
            ordered &= sc <= prev * (1.0 + 1e-9);
            prev = sc;
        }
        ref_ordered += ordered;
        int own_ord = 1;
        prev = INFINITY;
        for (uint32_t j = 0; j < nres[i]; j++) {
            double sc = bm25_score(&bt, mine[j], q.terms, q.n_terms);
            own_ord &= sc <= prev * (1.0 + 1e-9);
            prev = sc;
            bm_own += sc;
            own_as_good += n && sc >= bar * (1.0 - 1e-9);
            own_n++;
        }
        own_ordered += own_ord;
    }
    qsort(ref_ns, n_check, sizeof *ref_ns, cmp_i64);
    double ref_mean_us = 0.0, own_mean_us = 0.0;
    for (size_t i = 0; i < n_check; i++) {
        ref_mean_us += ref_ns[i] / 1e3 / n_check;
        own_mean_us += lat_ns[i] / 1e3 / n_check;
    }
    double ref_p99_us = pct_sorted(ref_ns, n_check, 99.0) / 1e3;
    uint64_t own_served = 0, own_on_topic = 0;
    for (size_t i = 0; i < n_check; i++)
        for (uint32_t k = 0; k < nres[i]; k++) {
            own_served++;
            own_on_topic += notes[recheck[i * page_cap + k]].topic == q_topic[i];
        }

    /* ---- report --------------------------------------------------------------------------- */
    lat_summary all = summarize(lat_ns, q_flags, pre, postings, nres, N, 0, 0, 0, scratch);
    lat_summary clean = summarize(lat_ns, q_flags, pre, postings, nres, N, 0, 0, 1, scratch);
    double search_mean = st[0].mean_us;
    printf("\n==== result: bench_search --notes %u --users %u --queries %u --topics %u --mode %s "
           "--retrieval %s --side %u --clicks %u --colloquial %g --seed %llu ====\n",
           o.notes, o.users, o.queries, o.topics, mode_names[o.mode], retrieval_names[o.retrieval], o.side,
           o.clicks, o.colloquial, (unsigned long long)o.seed);
    printf("index: %u notes, %llu term slots, %u terms; fw_engine_create %.3f s with the index "
           "(%.3f s without: index build %.3f s)\n",
           o.notes, (unsigned long long)n_postings, v.n_terms, create_text_s, create_plain_s,
           create_text_s - create_plain_s);
    printf("\nlatency of %zu search requests on one thread (engine histograms: %d significant "
           "digits; external: exact):\n",
           N, sigfigs);
    print_stage_table(report_stages, st, N_REPORT_STAGES, 34);
    printf("  %-34s %10.2f %10.2f %10.2f %10.2f %10zu\n", "search, external, all", all.p50_us,
           all.p99_us, all.p999_us, all.mean_us, all.n);
    printf("  %-34s %10.2f %10.2f %10.2f %10.2f %10zu\n", "search, external, not preempted",
           clean.p50_us, clean.p99_us, clean.p999_us, clean.mean_us, clean.n);
    printf("  (preempted: this thread was switched out by other work during the request -- %zu "
           "requests)\n",
           N - clean.n);

    printf("\nby query class (external timing, all requests):\n");
    printf("  %-34s %8s %9s %9s %9s %9s %11s %8s\n", "class", "queries", "p50_us", "p99_us",
           "p99.9_us", "mean_us", "postings", "results");
    print_class_row("all", all);
    print_class_row("topic words only",
                    summarize(lat_ns, q_flags, pre, postings, nres, N, Q_GENERIC | Q_COLLOQ, 0, 0, scratch));
    print_class_row("with a generic word",
                    summarize(lat_ns, q_flags, pre, postings, nres, N, Q_GENERIC, Q_GENERIC, 0, scratch));
    print_class_row("with a colloquial word",
                    summarize(lat_ns, q_flags, pre, postings, nres, N, Q_COLLOQ, Q_COLLOQ, 0, scratch));
    for (uint8_t k = 1; k <= 3; k++) {
        char label[40];
        snprintf(label, sizeof label, "%u word%s", k, k > 1 ? "s" : "");
        print_class_row(label, summarize(lat_ns, q_flags, pre, postings, nres, N, Q_WORDS_MASK,
                                         (uint8_t)(k << Q_WORDS_SHIFT), 0, scratch));
    }

    double qps_clean = clean.mean_us > 0 ? 1e6 / clean.mean_us : 0.0;
    printf("\nthroughput on one core: %.0f queries/s from the mean SEARCH histogram; %.0f from "
           "the mean of requests not preempted;\n  %.0f from the loop's wall time (%.2f s, "
           "incl. preemption, the answer checks and reading rusage)\n",
           search_mean > 0 ? 1e6 / search_mean : 0.0, qps_clean, N / loop_s, loop_s);
    printf("\nwork per query (engine counters over %llu searches):\n"
           "  postings traversed: mean %.0f (postings_traversed / searches)\n"
           "  candidates ranked:  mean %.1f (search_candidates / searches)\n"
           "  results: mean %.2f of %u; zero-result queries %llu (%.2f%%)\n",
           (unsigned long long)w_searches, w_searches ? (double)w_postings / w_searches : 0.0,
           w_searches ? (double)w_cands / w_searches : 0.0, N ? (double)served / N : 0.0, page_cap,
           (unsigned long long)zero, 100.0 * zero / N);
    {
        uint64_t zc = 0, nc = 0, zk = 0, nk = 0;
        for (size_t i = 0; i < N; i++) {
            if (q_flags[i] & Q_COLLOQ) {
                nc++;
                zc += nres[i] == 0;
            } else {
                nk++;
                zk += nres[i] == 0;
            }
        }
        printf("  zero-result share: %.2f%% of queries without a colloquial word (%llu), "
               "%.2f%% of queries with one (%llu)\n",
               nk ? 100.0 * zk / nk : 0.0, (unsigned long long)nk, nc ? 100.0 * zc / nc : 0.0,
               (unsigned long long)nc);
    }
    printf("\nanswers: %.2f%% of results are on the query's topic; %.2f%% contain one of the "
           "query's words%s\n",
           served ? 100.0 * on_topic / served : 0.0, served ? 100.0 * with_word / served : 0.0,
           o.mode == FW_SEARCH_KEYWORD ? " (keyword mode: must be 100%)" : "");
    printf("determinism: the first %zu queries re-run: %zu pages differ\n", n_check, mismatch);
    printf("against the exhaustive reference (arm 1: every posting read) on the first %zu "
           "queries:\n  overlap@%u %.2f%% (share of the reference's results on arm 0's page); "
           "%zu pages (%.2f%%) identical in order;\n  on-topic results %.2f%% (arm 0, same "
           "queries) vs %.2f%% (reference); reference results containing a query word %.2f%%\n"
           "  reference latency (external, not in any table above): mean %.1f us, p99 %.1f us; "
           "arm 0 on the same queries: mean %.1f us\n",
           n_check, page_cap, ref_served ? 100.0 * ref_hit / ref_served : 0.0, ref_same,
           n_check ? 100.0 * ref_same / n_check : 0.0,
           own_served ? 100.0 * own_on_topic / own_served : 0.0,
           ref_served ? 100.0 * ref_on_topic / ref_served : 0.0,
           ref_served ? 100.0 * ref_with_word / ref_served : 0.0, ref_mean_us, ref_p99_us,
           own_mean_us);
    printf("  text relevance by the bench's own BM25 (same k1, b; df and lengths from the "
           "catalog): mean BM25 per result %.3f (arm 0) vs %.3f (reference), ratio %.1f%%;\n"
           "  %.2f%% of arm 0's results score at least the lowest BM25 on the reference's page "
           "(tie-aware overlap);\n  pages in non-increasing BM25 order: reference %zu, arm 0 %zu of %zu%s\n",
           own_n ? bm_own / own_n : 0.0, ref_served ? bm_ref / ref_served : 0.0,
           bm_ref > 0 ? 100.0 * (bm_own / (own_n ? own_n : 1)) / (bm_ref / ref_served) : 0.0,
           own_n ? 100.0 * own_as_good / own_n : 0.0, ref_ordered, own_ordered, n_check,
           o.mode == FW_SEARCH_KEYWORD
               ? " (keyword mode ranks by BM25 alone while engagement is uniform: the "
                 "reference's checks this BM25 against the engine's; arm 0's out of order are "
                 "notes scored on only some of their words)"
               : " (intent mode blends in P(topic | query): order need not follow BM25)");

    printf("\nmemory: peak RSS %.0f MiB (%.0f MiB before the measurement)\n", peak_rss_mib(),
           rss_before_measure);
    printf("aim: search p99 %.1f us (engine histogram; external %.1f us, not preempted %.1f us) "
           "vs 1000 us: %s\n",
           st[0].p99_us, all.p99_us, clean.p99_us, st[0].p99_us < 1000.0 ? "met" : "NOT met");
    int sb = side_by_side(e, ctx, &o, &v, &bt, qs, N);
    if (sb == -1)
        goto oom;
    if (sb == -2) {
        fprintf(stderr, "bench_search: an exact page differs from the exhaustive one\n");
        goto out;
    }
    print_end(t_begin);
    status = 0;
    goto out;
oom:
    fprintf(stderr, "bench_search: out of memory\n");
out:
    free(clicks);
    free(recheck);
    free(postings);
    free(scratch);
    free(lat_ns);
    free(nres);
    free(pre);
    free(q_flags);
    free(q_topic);
    free(qs);
    free(dist);
    free(page);
    free(bt.df);
    free(by_topic);
    free(topic_off);
    free(note_terms);
    free(notes);
    if (r)
        gsl_rng_free(r);
    fw_engine_ctx_destroy(ctx);
    fw_engine_destroy(e);
    return status;
}
