/* Unit tests for sim/results against sim/recorder: a small run written by the recorder (two
 * arms in one layer, ten users assigned by hand, three days of counters, one latency
 * histogram per engine stage and day, an experiment table with known values, follower
 * counts) is read back by fw_results_load, and every number and string is compared with what
 * was handed to the recorder: provenance, /days counters and the rates derived from them,
 * /arms, /world, /latency (bins, counts, percentiles recomputed with fw_hist_percentile) and
 * /experiment. Then the recorder's file-level promise (PATH.partial while running, PATH only
 * once complete) and each documented load error, with its message naming the file.
 *
 * Each test gets its own mkdtemp directory, removed by its teardown. Everything written is
 * fixed data, so the checks are exact (doubles compared bit for bit where they were copied,
 * not computed). HDF5 is used directly twice: to read back the datasets parts describe
 * (test_items; the reader has no API for them) and to build the "HDF5 but not a Flywheel
 * result" files the reader must refuse. */
#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <hdf5.h>
#include <hdf5_hl.h>

#include "experiment/experiment.h"
#include "io/bench_file.h"
#include "io/h5util.h"
#include "io/recorder.h"
#include "io/results.h"

#define N_USERS 10
#define N_ARMS 2
#define N_DAYS 3
#define N_CREATORS 3
#define SEED UINT64_C(18446744073709551557)   /* above 2^63: read back as unsigned */

static const char *const arm_names[N_ARMS] = {"control", "treatment"};
static const double arm_weights[N_ARMS] = {0.25, 0.75};
static const char *const arm_layers[N_ARMS] = {"main", "main"};
static const uint64_t arm_users[N_ARMS] = {5, 5};
static const uint32_t creator_user[N_CREATORS] = {2, 5, 7};
static const char scenario_text[] = "name: tiny\nworld:\n  users: 10  # caf\xc3\xa9\n";

/* The day counters and rates the run describes (the driver's come from its parts). */
enum { C_impressions, C_opens, C_prev_active_users, C_retained_users, C_sessions, N_COUNTERS };
static const fw_counter_desc counter_desc[N_COUNTERS] = {
    {"impressions", "notes", "notes examined"},
    {"opens", "notes", "notes opened"},
    {"prev_active_users", "users", "active the day before"},
    {"retained_users", "users", "active both days"},
    {"sessions", "sessions", "app opens"},
};
#define N_RATES 3
static const fw_rec_rate rate_desc[N_RATES] = {
    {"ctr", C_opens, C_impressions, 1.0, "1", "opens / impressions"},
    {"retention", C_retained_users, C_prev_active_users, 1.0, "1", "retained / previously active"},
    {"opens_per_session_milli", C_opens, C_sessions, 1e-3, "1e3 notes", "opens / sessions / 1000"},
};

typedef struct fixture {
    char dir[64];
    char path[128];          /* dir/run.h5 */
    fw_rec_info info;
    /* The assignment, by hand: user u is unit u, in arm u % 2 (cell u % 2). */
    fw_assignment asg;
    uint32_t unit_of_user[N_USERS], unit_id[N_USERS];
    uint8_t arm_of[N_USERS], cell_of[N_USERS];
    fw_user_aggs aggs;
    fw_exp_table exp;
    uint32_t n_followers[N_USERS];
    uint64_t counters[N_DAYS][N_ARMS * N_COUNTERS];
    fw_hist lat[N_DAYS][FW_STAGE__COUNT];
} fixture;

/* ---- building the run ------------------------------------------------------------------- */

static void fill_info(fw_rec_info *in)
{
    memset(in, 0, sizeof *in);
    in->version = "9.8.7-test";
    in->git_revision = "0123456789abcdef";
    in->scenario_name = "tiny";
    in->scenario_path = "/nowhere/tiny.yaml";
    in->scenario_text = scenario_text;
    in->scenario_resolved = "{\"name\": \"tiny\"}";
    in->overrides = "world.users=10";
    in->seed = SEED;
    in->threads = 3;
    in->days_planned = 5;
    in->ticks_per_day = 24;
    in->n_arms = N_ARMS;
    in->arm_names = arm_names;
    in->arm_weights = arm_weights;
    in->arm_layers = arm_layers;
    in->arm_users = arm_users;
    in->compression = 4;
    in->n_counters = N_COUNTERS;
    in->counters = counter_desc;
    in->n_rates = N_RATES;
    in->rates = rate_desc;
    in->n_users = N_USERS;
    in->n_creators = N_CREATORS;
    in->n_notes_initial = 123;
    in->n_follow_edges = 45;
    in->n_brands = 6;
    in->n_products = 78;
    in->expected_dau_mau = 0.3125;
    in->follower_gini = 0.6180339887498949;
    in->top1pct_follower_share = 0.1;
    in->top10pct_creator_note_share = 0.4375;
    in->generation_s = 1.5;
    in->generation_peak_rss_mb = 12.25;
}

static void fill_assignment(fixture *fx)
{
    fw_assignment *a = &fx->asg;
    memset(a, 0, sizeof *a);
    a->n_users = a->n_units = N_USERS;
    a->n_arms = N_ARMS;
    a->n_layers = 1;
    a->n_cells = 2;
    for (uint32_t u = 0; u < N_USERS; u++) {
        fx->unit_of_user[u] = fx->unit_id[u] = u;
        fx->arm_of[u] = fx->cell_of[u] = (uint8_t)(u % 2);
    }
    a->unit_of_user = fx->unit_of_user;
    a->unit_id = fx->unit_id;
    a->arm_of_unit[0] = fx->arm_of;
    a->arm_of_user[0] = fx->arm_of;
    a->cell_of_user = fx->cell_of;
    a->cell_arm[0][0] = 0;
    a->cell_arm[1][0] = 1;
    a->layer_of_arm[0] = a->layer_of_arm[1] = 0;
    a->control_of_arm[0] = a->control_of_arm[1] = 0;
    a->units[0] = a->units[1] = a->users[0] = a->users[1] = 5;
}

/* Metric m of the treatment arm: ok except every fifth metric, CUPED on every third. */
static void fill_experiment(fw_exp_table *t)
{
    memset(t, 0, sizeof *t);
    t->n_arms = N_ARMS;
    t->have_pre = 1;
    t->days = N_DAYS;
    t->srm_chi2[0] = 0.375;
    t->srm_p[0] = 0.5403;
    for (int m = 0; m < FW_EM__COUNT; m++) {
        fw_exp_row *w = &t->row[1][m];
        double x = m + 1;
        w->ok = m % 5 != 4;
        w->rel = (fw_stat_result){10 * x, 11 * x, 0.1, 0.01 * x, 0.1 - 0.02 * x, 0.1 + 0.02 * x,
                                  0.001 * x, 99, 0.5 * x, 0.6 * x};
        w->abs = (fw_stat_result){10 * x, 11 * x, x, 0.5 * x, 0.25 * x, 1.75 * x, 0.002 * x, 98, 0.3 * x, 0.4 * x};
        w->cuped = m % 3 == 0;
        w->cuped_rel = (fw_stat_result){0, 0, 0.09, 0.005 * x, 0.09 - 0.01 * x, 0.09 + 0.01 * x,
                                        0.0005 * x, 97, 0.2 * x, 0.3 * x};
        w->cuped_abs = (fw_stat_result){9.5 * x, 10.4 * x, 0.9 * x, 0.4 * x, 0.1 * x, 1.7 * x, 0.0004 * x, 96,
                                        0.25 * x, 0.3 * x};
        w->theta = 0.8 + 0.001 * x;
        w->mde = 1.2 * x;
        w->mde_rel = 0.12;
        w->p = w->cuped ? w->cuped_abs.p : w->abs.p;
        w->p_holm = fmin(1.0, 3 * w->p);
        w->p_bh = fmin(1.0, 2 * w->p);
        w->p_seq = 0.03 * x;
        t->mom[0][m] = (fw_exp_moments){5, 10 * x, 5, 30 * x * x, 5, 10 * x, 8 * x, 20 * x * x, 25 * x * x};
        t->mom[1][m] = (fw_exp_moments){5, 11 * x, 5, 33 * x * x, 5, 11 * x, 8 * x, 21 * x * x, 26 * x * x};
    }
    t->planned = N_DAYS;
    t->alpha = 0.05;
}

/* Counters of arm a on day d; impressions are 0 for the control arm on day 1, so its ctr
 * must read back as NaN. */
static void fill_counters(fixture *fx)
{
    for (int d = 0; d < N_DAYS; d++)
        for (int a = 0; a < N_ARMS; a++) {
            uint64_t *c = &fx->counters[d][a * N_COUNTERS];
            c[C_impressions] = (d == 1 && a == 0) ? 0 : (uint64_t)(5000 + 300 * d + 50 * a);
            c[C_opens] = (uint64_t)(400 + 30 * d + 5 * a);
            c[C_prev_active_users] = (uint64_t)(900 + d);
            c[C_retained_users] = (uint64_t)(600 + 10 * d + a);
            c[C_sessions] = (uint64_t)(1000 * (d + 1) + 100 * a + 7);
        }
}

/* Stage s on day d: a few values spread over three decades; the feed stage is empty on day 1
 * (percentiles, max and mean of an empty histogram are 0). */
static void fill_latency(fixture *fx)
{
    for (int d = 0; d < N_DAYS; d++)
        for (int s = 0; s < FW_STAGE__COUNT; s++) {
            fw_hist *h = &fx->lat[d][s];
            assert_int_equal(fw_hist_init(h, 1, INT64_C(100000000000), 2), FW_OK);
            if (d == 1 && s == FW_STAGE_FEED)
                continue;
            for (int k = 0; k < 5 + s + d; k++)
                fw_hist_record(h, INT64_C(1000) * (s + 1) * (d + 1) + INT64_C(37) * k * k * k);
            fw_hist_record_n(h, INT64_C(2500000) * (s + 1), (uint64_t)(d + 1));
        }
}

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    strcpy(fx->dir, "/tmp/fw_test_results.XXXXXX");
    if (!mkdtemp(fx->dir)) {
        free(fx);
        return -1;
    }
    snprintf(fx->path, sizeof fx->path, "%s/run.h5", fx->dir);
    fill_info(&fx->info);
    fill_assignment(fx);
    if (fw_user_aggs_init(&fx->aggs, N_USERS) != FW_OK)
        return -1;
    for (int p = 0; p < 2; p++)
        for (int m = 0; m < FW_UM__COUNT; m++)
            for (uint32_t u = 0; u < N_USERS; u++)
                fx->aggs.v[p][m][u] = (uint32_t)(100 * p + 10 * m + u);
    fill_experiment(&fx->exp);
    for (uint32_t u = 0; u < N_USERS; u++)
        fx->n_followers[u] = 3 * u * u + 1;
    fill_counters(fx);
    fill_latency(fx);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    DIR *dir = opendir(fx->dir);
    if (dir) {
        struct dirent *e;
        while ((e = readdir(dir))) {
            char p[512];
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            snprintf(p, sizeof p, "%s/%s", fx->dir, e->d_name);
            unlink(p);
        }
        closedir(dir);
    }
    rmdir(fx->dir);
    for (int d = 0; d < N_DAYS; d++)
        for (int s = 0; s < FW_STAGE__COUNT; s++)
            fw_hist_fini(&fx->lat[d][s]);
    fw_user_aggs_fini(&fx->aggs);
    free(fx);
    return 0;
}

static fw_recorder *make_recorder(fixture *fx)
{
    fw_recorder *r = fw_recorder_create(fx->path, &fx->info);
    assert_non_null(r);
    fw_recorder_set_users(r, &fx->asg, &fx->aggs, 2);
    fw_recorder_set_experiment(r, &fx->exp, "user", 0.05);
    fw_recorder_set_followers(r, N_CREATORS, creator_user, fx->n_followers);
    return r;
}

static void add_day(fixture *fx, fw_recorder *r, int d)
{
    uint64_t work[FW_WORK__COUNT];
    for (int k = 0; k < FW_WORK__COUNT; k++)
        work[k] = 1000u * (uint64_t)d + (uint64_t)k;   /* /work is checked end to end */
    assert_int_equal(fw_recorder_add_day(r, fx->counters[d], fx->lat[d], work), FW_OK);
}

static void write_status(fw_recorder *r, const char *status)
{
    char err[512] = "";
    fw_err e = fw_recorder_write(r, status, 4.5, 33.0, err, sizeof err);
    if (e != FW_OK)
        fail_msg("fw_recorder_write(%s): %s: %s", status, fw_err_name(e), err);
}

static fw_results *load_ok(const char *path)
{
    char err[512] = "";
    fw_results *res = NULL;
    fw_err e = fw_results_load(path, &res, err, sizeof err);
    if (e != FW_OK)
        fail_msg("fw_results_load(%s): %s: %s", path, fw_err_name(e), err);
    assert_non_null(res);
    return res;
}

/* Writes the whole three-day run, complete, and loads it. */
static fw_results *complete_run(fixture *fx)
{
    fw_recorder *r = make_recorder(fx);
    for (int d = 0; d < N_DAYS; d++)
        add_day(fx, r, d);
    write_status(r, "complete");
    fw_recorder_destroy(r);
    return load_ok(fx->path);
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* ---- comparisons -------------------------------------------------------------------------- */

/* Equal as doubles, NaN equal to NaN. */
#define assert_same(got, want)                                                             \
    do {                                                                                   \
        double g_ = (got), w_ = (want);                                                    \
        if (!((isnan(g_) && isnan(w_)) || g_ == w_))                                       \
            fail_msg("%s = %.17g, want %.17g", #got, g_, w_);                              \
    } while (0)

static const fw_results_value *attr(const fw_results_attrs *a, const char *name)
{
    const fw_results_value *v = fw_results_attr(a, name);
    if (!v)
        fail_msg("attribute '%s' missing", name);
    return v;
}

static void assert_attr_text(const fw_results_attrs *a, const char *name, const char *want)
{
    const fw_results_value *v = attr(a, name);
    assert_true(v->is_text);
    assert_true(isnan(v->num));
    assert_string_equal(v->text, want);
}

static void assert_attr_num(const fw_results_attrs *a, const char *name, double want)
{
    const fw_results_value *v = attr(a, name);
    assert_false(v->is_text);
    assert_same(v->num, want);
}

static const double *col(const fw_results_cols *c, const char *name)
{
    const double *v = fw_results_col(c, name);
    if (!v)
        fail_msg("column '%s' missing", name);
    return v;
}

static const fw_results_stage *find_stage(const fw_results *r, const char *name)
{
    for (uint32_t i = 0; i < r->n_stages; i++)
        if (!strcmp(r->stages[i].name, name))
            return &r->stages[i];
    fail_msg("stage '%s' missing", name);
    return NULL;
}

/* /days/<arm>: every counter and rate of days [0, n_days). */
static void check_days(const fixture *fx, const fw_results *res, uint32_t n_days)
{
    assert_int_equal(res->n_days, n_days);
    for (uint32_t d = 0; d < n_days; d++)
        assert_int_equal(res->day[d], d);
    assert_int_equal(res->n_arms, N_ARMS);
    for (int a = 0; a < N_ARMS; a++) {
        const fw_results_arm *arm = fw_results_find_arm(res, arm_names[a]);
        assert_non_null(arm);
        assert_int_equal(arm->days.n, N_COUNTERS + N_RATES);
        for (int k = 0; k < N_COUNTERS; k++) {
            const double *v = col(&arm->days, counter_desc[k].name);
            for (uint32_t d = 0; d < n_days; d++)
                assert_same(v[d], (double)fx->counters[d][a * N_COUNTERS + k]);
        }
        /* The rates by hand. */
        const double *ctr = col(&arm->days, "ctr"), *ret = col(&arm->days, "retention"),
                     *ops = col(&arm->days, "opens_per_session_milli");
        for (uint32_t d = 0; d < n_days; d++) {
            const uint64_t *c = &fx->counters[d][a * N_COUNTERS];
            if (c[C_impressions] == 0)
                assert_true(isnan(ctr[d]));
            else
                assert_same(ctr[d], (double)c[C_opens] / (double)c[C_impressions]);
            assert_same(ret[d], (double)c[C_retained_users] / (double)c[C_prev_active_users]);
            assert_same(ops[d], 1e-3 * (double)c[C_opens] / (double)c[C_sessions]);
        }
    }
}

/* ---- the tests ---------------------------------------------------------------------------- */

static void test_provenance(void **state)
{
    fixture *fx = *state;
    fw_results *res = complete_run(fx);
    const fw_results_attrs *root = &res->root;
    assert_string_equal(res->path, fx->path);
    assert_attr_text(root, "flywheel_version", "9.8.7-test");
    assert_attr_text(root, "git_revision", "0123456789abcdef");
    assert_attr_text(root, "scenario_name", "tiny");
    assert_attr_text(root, "scenario_path", "/nowhere/tiny.yaml");
    assert_attr_text(root, "scenario_text", scenario_text);
    assert_attr_text(root, "scenario_resolved", "{\"name\": \"tiny\"}");
    assert_attr_text(root, "overrides", "world.users=10");
    assert_attr_text(root, "status", "complete");
    assert_string_equal(attr(root, "seed")->text, "18446744073709551557");
    assert_same(attr(root, "seed")->num, (double)SEED);
    assert_attr_num(root, "threads", 3);
    assert_string_equal(attr(root, "threads")->text, "3");
    assert_attr_num(root, "days_planned", 5);
    assert_attr_num(root, "days_completed", N_DAYS);
    assert_attr_num(root, "ticks_per_day", 24);
    assert_attr_num(root, "wall_seconds", 4.5);
    assert_string_equal(attr(root, "wall_seconds")->text, "4.5");
    assert_attr_num(root, "peak_rss_mib", 33.0);
    assert_attr_num(root, "generation_seconds", 1.5);
    assert_attr_num(root, "generation_peak_rss_mib", 12.25);
    /* Times are ISO 8601 UTC, and the run ends no earlier than it starts. */
    const char *t0 = attr(root, "start_time")->text, *t1 = attr(root, "end_time")->text;
    assert_int_equal(strlen(t0), 20);
    assert_int_equal(t0[19], 'Z');
    assert_true(strcmp(t0, t1) <= 0);
    fw_results_destroy(res);
}

static void test_days(void **state)
{
    fixture *fx = *state;
    fw_results *res = complete_run(fx);
    check_days(fx, res, N_DAYS);
    const fw_results_arm *arm = fw_results_find_arm(res, "treatment");
    for (uint32_t i = 0; i < arm->days.n; i++) {
        const fw_results_series *s = &arm->days.col[i];
        int found = 0;
        for (int k = 0; k < N_COUNTERS; k++)
            if (!strcmp(s->name, counter_desc[k].name)) {
                assert_string_equal(s->units, counter_desc[k].unit);
                found++;
            }
        for (int k = 0; k < N_RATES; k++)
            if (!strcmp(s->name, rate_desc[k].name)) {
                assert_string_equal(s->units, rate_desc[k].unit);
                found++;
            }
        assert_int_equal(found, 1);
    }
    assert_null(fw_results_find_arm(res, "nobody"));
    fw_results_destroy(res);
}

/* The string attribute name of object path in f equals want. */
static void assert_attr_file(hid_t f, const char *path, const char *name, const char *want)
{
    char *got = fw_h5_read_str_attr(f, path, name);
    if (!got)
        fail_msg("%s: no string attribute %s", path, name);
    assert_string_equal(got, want);
    free(got);
}

/* What parts describe: a group, day series of two types, 1-D and 2-D tables (one with a
 * string attribute), each written where and as described; a top-level group whose only
 * series has no day is left out, and so is a table with no rows. Read back with HDF5. */
static void test_items(void **state)
{
    fixture *fx = *state;
    fw_recorder *r = make_recorder(fx);
    static const fw_counter_desc cnt_cols[] = {{"a", "things", "the a column"}, {"b", "things", "the b column"}};
    static const fw_counter_desc f_cols[] = {{"mean", "1", "a mean"}};
    uint32_t sid, fid, eid;
    assert_int_equal(fw_recorder_group(r, "cap", "a capability"), FW_OK);
    assert_int_equal(fw_recorder_series(r, "cap/days", "its days", FW_REC_U64, 2, cnt_cols, &sid), FW_OK);
    assert_int_equal(fw_recorder_series(r, "cap/quality", NULL, FW_REC_F64, 1, f_cols, &fid), FW_OK);
    assert_int_equal(fw_recorder_series(r, "empty/days", "never a day", FW_REC_U64, 2, cnt_cols, &eid), FW_OK);
    uint32_t t1[4] = {7, 8, 9, 10}, t1_rows = 4, none_rows = 0;
    double t2[6] = {0.5, 1.5, 2.5, 3.5, 4.5, 5.5};
    uint32_t t2_rows = 2;
    const void *t1p = t1, *t2p = t2, *nonep = t1;
    const char *arms = "control,treatment";
    assert_int_equal(fw_recorder_table(r, &(fw_rec_table){.path = "cap/one", .unit = "items", .doc = "a 1-D table",
                                                          .type = FW_REC_U32, .data = &t1p, .rows = &t1_rows,
                                                          .labels = {"item"}}),
                     FW_OK);
    assert_int_equal(fw_recorder_table(r, &(fw_rec_table){.path = "cap/two", .unit = "cents", .doc = "a 2-D table",
                                                          .type = FW_REC_F64, .data = &t2p, .rows = &t2_rows,
                                                          .cols = 3, .labels = {"brand", "arm"},
                                                          .attr_name = "arms", .attr_value = &arms}),
                     FW_OK);
    assert_int_equal(fw_recorder_table(r, &(fw_rec_table){.path = "cap/none", .type = FW_REC_U32, .data = &nonep,
                                                          .rows = &none_rows, .labels = {"item"}}),
                     FW_OK);
    for (int d = 0; d < N_DAYS; d++) {
        uint64_t row[2] = {(uint64_t)(10 * d), (uint64_t)(10 * d + 1)};
        double q = 0.25 * d;
        assert_int_equal(fw_recorder_push(r, sid, row), FW_OK);
        assert_int_equal(fw_recorder_push(r, fid, &q), FW_OK);
        add_day(fx, r, d);
    }
    write_status(r, "complete");
    fw_recorder_destroy(r);

    hid_t f = H5Fopen(fx->path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    uint64_t a[N_DAYS], b[N_DAYS];
    double q[N_DAYS], two[6];
    uint32_t one[4];
    assert_true(H5LTread_dataset(f, "/cap/days/a", H5T_NATIVE_UINT64, a) >= 0);
    assert_true(H5LTread_dataset(f, "/cap/days/b", H5T_NATIVE_UINT64, b) >= 0);
    assert_true(H5LTread_dataset_double(f, "/cap/quality/mean", q) >= 0);
    for (int d = 0; d < N_DAYS; d++) {
        assert_int_equal(a[d], 10 * d);
        assert_int_equal(b[d], 10 * d + 1);
        assert_same(q[d], 0.25 * d);
    }
    assert_attr_file(f, "/cap", "description", "a capability");
    assert_attr_file(f, "/cap/days", "description", "its days");
    assert_attr_file(f, "/cap/days/b", "units", "things");
    assert_true(H5LTread_dataset(f, "/cap/one", H5T_NATIVE_UINT32, one) >= 0);
    for (int k = 0; k < 4; k++)
        assert_int_equal(one[k], t1[k]);
    hsize_t dims[2];
    assert_true(H5LTget_dataset_info(f, "/cap/two", dims, NULL, NULL) >= 0);
    assert_int_equal(dims[0], 2);
    assert_int_equal(dims[1], 3);
    assert_true(H5LTread_dataset_double(f, "/cap/two", two) >= 0);
    for (int k = 0; k < 6; k++)
        assert_same(two[k], t2[k]);
    assert_attr_file(f, "/cap/two", "arms", arms);
    assert_attr_file(f, "/cap/two", "units", "cents");
    assert_int_equal(H5Lexists(f, "/cap/none", H5P_DEFAULT), 0);
    assert_int_equal(H5Lexists(f, "/empty", H5P_DEFAULT), 0);
    H5Fclose(f);
}

static void test_arms(void **state)
{
    fixture *fx = *state;
    fw_results *res = complete_run(fx);
    for (int a = 0; a < N_ARMS; a++) {
        const fw_results_arm *arm = fw_results_find_arm(res, arm_names[a]);
        assert_non_null(arm);
        assert_attr_num(&arm->attrs, "weight", arm_weights[a]);
        assert_attr_num(&arm->attrs, "users", (double)arm_users[a]);
        assert_attr_text(&arm->attrs, "layer", arm_layers[a]);
    }
    fw_results_destroy(res);
}

static void test_world(void **state)
{
    fixture *fx = *state;
    fw_results *res = complete_run(fx);
    const fw_results_attrs *w = &res->world;
    assert_true(res->has_world);
    assert_attr_num(w, "n_users", N_USERS);
    assert_attr_num(w, "n_creators", N_CREATORS);
    assert_attr_num(w, "n_notes_initial", 123);
    assert_attr_num(w, "n_follow_edges", 45);
    assert_attr_num(w, "n_brands", 6);
    assert_attr_num(w, "n_products", 78);
    assert_attr_num(w, "expected_dau_mau", 0.3125);
    assert_attr_num(w, "follower_gini", 0.6180339887498949);
    assert_string_equal(attr(w, "follower_gini")->text, "0.618034");
    assert_attr_num(w, "top1pct_creator_follower_share", 0.1);
    assert_attr_num(w, "top10pct_creator_note_share", 0.4375);
    assert_int_equal(res->n_creators, N_CREATORS);
    assert_non_null(res->creator_followers);
    for (int c = 0; c < N_CREATORS; c++)
        assert_int_equal(res->creator_followers[c], fx->n_followers[creator_user[c]]);
    fw_results_destroy(res);
}

static void test_latency(void **state)
{
    fixture *fx = *state;
    fw_results *res = complete_run(fx);
    const fw_hist *h0 = &fx->lat[0][0];
    assert_int_equal(res->n_bins, h0->n_counts);
    assert_int_equal(res->n_lat_days, N_DAYS);
    assert_int_equal(res->n_stages, FW_STAGE__COUNT);
    for (int32_t b = 0; b < h0->n_counts; b++) {
        assert_int_equal(res->bin_lower_ns[b], fw_hist_bin_lower(h0, b));
        assert_int_equal(res->bin_upper_ns[b], fw_hist_bin_upper(h0, b));
    }
    static const double pcts[] = {50.0, 90.0, 99.0, 99.9};
    static const char *const pct_names[] = {"p50", "p90", "p99", "p999"};
    for (int s = 0; s < FW_STAGE__COUNT; s++) {
        const fw_results_stage *st = find_stage(res, fw_stage_name(s));
        assert_non_null(st->counts);
        for (int d = 0; d < N_DAYS; d++) {
            const fw_hist *h = &fx->lat[d][s];
            uint64_t total = 0;
            for (int32_t b = 0; b < h->n_counts; b++) {
                assert_int_equal(st->counts[(size_t)d * res->n_bins + b], h->counts[b]);
                total += st->counts[(size_t)d * res->n_bins + b];
            }
            assert_int_equal(total, h->total);
            for (int p = 0; p < 4; p++)
                assert_same(col(&st->stats, pct_names[p])[d], (double)fw_hist_percentile(h, pcts[p]));
            assert_same(col(&st->stats, "max")[d], h->total ? (double)h->max : 0.0);
            assert_same(col(&st->stats, "mean")[d], fw_hist_mean(h));
            assert_same(col(&st->stats, "count")[d], (double)h->total);
        }
    }
    /* The empty histogram (feed, day 1) and a full one, by value. */
    const fw_results_stage *feed = find_stage(res, "feed");
    assert_same(col(&feed->stats, "p50")[1], 0.0);
    assert_same(col(&feed->stats, "count")[1], 0.0);
    assert_same(col(&feed->stats, "count")[2], 5 + 2 + 3);
    assert_true(col(&feed->stats, "p99")[2] >= 2500000 * 0.99);
    fw_results_destroy(res);
}

static void test_experiment(void **state)
{
    fixture *fx = *state;
    fw_results *res = complete_run(fx);
    assert_true(res->has_experiment);
    assert_attr_text(&res->experiment, "unit", "user");
    assert_attr_num(&res->experiment, "alpha", 0.05);
    assert_attr_num(&res->experiment, "srm_chi2", 0.375);
    assert_attr_num(&res->experiment, "srm_p", 0.5403);
    assert_attr_num(&res->experiment, "days", N_DAYS);
    assert_attr_num(&res->experiment, "cuped", 1);
    assert_int_equal(res->n_metrics, FW_EM__COUNT);
    for (int m = 0; m < FW_EM__COUNT; m++)
        assert_string_equal(res->metric[m], fw_experiment_metric_name[m]);
    assert_int_equal(res->n_tests, 1);   /* the control arm is not tested */
    const fw_results_test *t = &res->tests[0];
    assert_string_equal(t->arm, "treatment");
    assert_attr_text(&t->attrs, "control", "control");
    assert_attr_text(&t->attrs, "layer", "main");
    assert_attr_num(&t->attrs, "srm_p", 0.5403);
    assert_attr_num(&t->attrs, "srm_chi2", 0.375);
    assert_int_equal(t->fields.n, 30);
    for (int m = 0; m < FW_EM__COUNT; m++)
        assert_string_equal(res->metric_unit[m], fw_experiment_metric_unit[m]);
    for (int m = 0; m < FW_EM__COUNT; m++) {
        const fw_exp_row *w = &fx->exp.row[1][m];
        const fw_stat_result *c = &w->cuped_rel, *ca = &w->cuped_abs;
        /* A row that is not ok reads back as NaN in every field but cuped. */
#define WANT(v) (w->ok ? (double)(v) : NAN)
#define WANT_CUPED(v) WANT(w->cuped ? (v) : NAN)
        assert_same(col(&t->fields, "control")[m], WANT(w->abs.control));
        assert_same(col(&t->fields, "treatment")[m], WANT(w->abs.treatment));
        assert_same(col(&t->fields, "lift")[m], WANT(w->rel.delta));
        assert_same(col(&t->fields, "lift_se_log")[m], WANT(w->rel.se));
        assert_same(col(&t->fields, "lift_ci_lo")[m], WANT(w->rel.ci_lo));
        assert_same(col(&t->fields, "lift_ci_hi")[m], WANT(w->rel.ci_hi));
        assert_same(col(&t->fields, "delta")[m], WANT(w->abs.delta));
        assert_same(col(&t->fields, "delta_se")[m], WANT(w->abs.se));
        assert_same(col(&t->fields, "delta_ci_lo")[m], WANT(w->abs.ci_lo));
        assert_same(col(&t->fields, "delta_ci_hi")[m], WANT(w->abs.ci_hi));
        assert_same(col(&t->fields, "delta_p")[m], WANT(w->abs.p));
        assert_same(col(&t->fields, "cuped")[m], w->cuped);
        assert_same(col(&t->fields, "cuped_lift")[m], WANT_CUPED(c->delta));
        assert_same(col(&t->fields, "cuped_ci_lo")[m], WANT_CUPED(c->ci_lo));
        assert_same(col(&t->fields, "cuped_ci_hi")[m], WANT_CUPED(c->ci_hi));
        assert_same(col(&t->fields, "cuped_control")[m], WANT_CUPED(ca->control));
        assert_same(col(&t->fields, "cuped_treatment")[m], WANT_CUPED(ca->treatment));
        assert_same(col(&t->fields, "cuped_delta")[m], WANT_CUPED(ca->delta));
        assert_same(col(&t->fields, "cuped_delta_se")[m], WANT_CUPED(ca->se));
        assert_same(col(&t->fields, "cuped_p")[m], WANT_CUPED(ca->p));
        assert_same(col(&t->fields, "cuped_theta")[m], WANT_CUPED(w->theta));
        assert_same(col(&t->fields, "df")[m], WANT(w->cuped ? ca->df : w->abs.df));
        assert_same(col(&t->fields, "mde")[m], WANT(w->mde));
        assert_same(col(&t->fields, "mde_rel")[m], WANT(w->mde_rel));
        assert_same(col(&t->fields, "p")[m], WANT(w->p));
        assert_same(col(&t->fields, "p_holm")[m], WANT(w->p_holm));
        assert_same(col(&t->fields, "p_bh")[m], WANT(w->p_bh));
        assert_same(col(&t->fields, "p_seq")[m], WANT(w->p_seq));
#undef WANT_CUPED
#undef WANT
    }
    /* Spot checks by value, so a shared mistake in WANT cannot hide a wrong file. */
    assert_same(col(&t->fields, "lift")[0], 0.1);
    assert_same(col(&t->fields, "cuped_lift")[0], 0.09);
    assert_true(isnan(col(&t->fields, "cuped_lift")[1]));
    assert_true(isnan(col(&t->fields, "lift")[4]));
    assert_same(col(&t->fields, "p_seq")[2], 0.03 * 3);
    assert_same(col(&t->fields, "p")[0], 0.0004);   /* CUPED's absolute p */
    assert_same(col(&t->fields, "p")[1], 0.002 * 2);
    fw_results_destroy(res);
}

/* While running only PATH.partial exists, and it reads back as the days so far; once
 * complete only PATH does. */
static void test_partial_then_complete(void **state)
{
    fixture *fx = *state;
    char partial[160], tmp[176], err[512];
    snprintf(partial, sizeof partial, "%s.partial", fx->path);
    snprintf(tmp, sizeof tmp, "%s.partial.tmp", fx->path);
    fw_recorder *r = make_recorder(fx);
    assert_string_equal(fw_recorder_path(r), fx->path);
    assert_string_equal(fw_recorder_partial_path(r), partial);
    assert_false(exists(partial));   /* create writes nothing */

    add_day(fx, r, 0);
    write_status(r, "running");
    assert_true(exists(partial));
    assert_false(exists(fx->path));
    assert_false(exists(tmp));
    fw_results *res = load_ok(partial);
    assert_attr_text(&res->root, "status", "running");
    assert_attr_num(&res->root, "days_completed", 1);
    check_days(fx, res, 1);
    assert_int_equal(res->n_lat_days, 1);
    const fw_results_stage *st = find_stage(res, "feed_rank");
    assert_same(col(&st->stats, "p50")[0], (double)fw_hist_percentile(&fx->lat[0][FW_STAGE_FEED_RANK], 50));
    fw_results_destroy(res);
    res = NULL;
    assert_int_equal(fw_results_load(fx->path, &res, err, sizeof err), FW_ERR_NOTFOUND);
    assert_null(res);

    /* The next day's write goes into the file the last one kept in memory. */
    add_day(fx, r, 1);
    write_status(r, "running");
    res = load_ok(partial);
    assert_attr_num(&res->root, "days_completed", 2);
    check_days(fx, res, 2);
    assert_int_equal(res->n_lat_days, 2);
    fw_results_destroy(res);
    res = NULL;

    add_day(fx, r, 2);
    write_status(r, "complete");
    fw_recorder_destroy(r);
    assert_true(exists(fx->path));
    assert_false(exists(partial));
    assert_false(exists(tmp));
    res = load_ok(fx->path);
    assert_attr_text(&res->root, "status", "complete");
    assert_attr_num(&res->root, "days_completed", N_DAYS);
    check_days(fx, res, N_DAYS);
    fw_results_destroy(res);
}

/* A failed load leaves *out alone and names the file in its message. */
static void expect_load_error(const char *path, fw_err want, const char *phrase)
{
    char err[512] = "";
    fw_results *sentinel = (fw_results *)&err, *res = sentinel;
    fw_err e = fw_results_load(path, &res, err, sizeof err);
    if (e != want)
        fail_msg("fw_results_load(%s) = %s, want %s: %s", path, fw_err_name(e), fw_err_name(want), err);
    assert_ptr_equal(res, sentinel);
    if (strncmp(err, path, strlen(path)) != 0 || !strstr(err, phrase))
        fail_msg("message '%s' should start with '%s' and say '%s'", err, path, phrase);
}

static void test_load_missing(void **state)
{
    fixture *fx = *state;
    expect_load_error(fx->path, FW_ERR_NOTFOUND, "cannot open");
}

static void test_load_not_hdf5(void **state)
{
    fixture *fx = *state;
    FILE *f = fopen(fx->path, "w");
    assert_non_null(f);
    fputs("name: tiny\nthis is YAML, not HDF5\n", f);
    fclose(f);
    expect_load_error(fx->path, FW_ERR_PARSE, "not an HDF5 file");
    /* An empty file is not HDF5 either. */
    f = fopen(fx->path, "w");
    assert_non_null(f);
    fclose(f);
    expect_load_error(fx->path, FW_ERR_PARSE, "not an HDF5 file");
}

/* An HDF5 file with a /days group (and optionally the version attribute). */
static void make_foreign_hdf5(const char *path, int with_version, int with_days)
{
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(f >= 0);
    if (with_days) {
        hid_t g = H5Gcreate2(f, "days", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        assert_true(g >= 0);
        assert_true(H5Gclose(g) >= 0);
    }
    hid_t sp = H5Screate(H5S_SCALAR);
    assert_true(sp >= 0);
    double x = 1.0;
    hid_t a = H5Acreate2(f, with_version ? "flywheel_version" : "other_version", H5T_NATIVE_DOUBLE,
                         sp, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(a >= 0);
    assert_true(H5Awrite(a, H5T_NATIVE_DOUBLE, &x) >= 0);
    assert_true(H5Aclose(a) >= 0);
    assert_true(H5Sclose(sp) >= 0);
    assert_true(H5Fclose(f) >= 0);
}

static void test_load_no_version(void **state)
{
    fixture *fx = *state;
    make_foreign_hdf5(fx->path, 0, 1);
    expect_load_error(fx->path, FW_ERR_PARSE, "no 'flywheel_version' attribute");
}

static void test_load_no_days(void **state)
{
    fixture *fx = *state;
    make_foreign_hdf5(fx->path, 1, 0);
    expect_load_error(fx->path, FW_ERR_PARSE, "no /days group");
}

/* ---- hardening (issue 15): corrupt, crafted and odd input files ----------------------------- */

/* Writes len bytes of b at offset off of path. */
static void poke(const char *path, long long off, const void *b, size_t len)
{
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    assert_int_equal(fseeko(f, (off_t)off, SEEK_SET), 0);
    assert_int_equal(fwrite(b, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* Flips bit `bit` of the byte at offset off of path. */
static void flip_bit(const char *path, long long off, int bit)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseeko(f, (off_t)off, SEEK_SET), 0);
    int c = fgetc(f);
    assert_true(c != EOF);
    fclose(f);
    unsigned char b = (unsigned char)(c ^ (1 << bit));
    poke(path, off, &b, 1);
}

/* Where the data of dataset name of the file at path starts (its first chunk when chunked),
 * and its size in bytes. */
static void first_chunk(const char *path, const char *name, long long *off, long long *size)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    assert_true(d >= 0);
    hsize_t offset[2], sz = 0;
    haddr_t addr = H5Dget_offset(d);
    unsigned mask = 0;
    hid_t sp = H5Dget_space(d);
    assert_true(sp >= 0);
    if (addr != HADDR_UNDEF)   /* contiguous */
        sz = H5Dget_storage_size(d);
    else
        assert_true(H5Dget_chunk_info(d, sp, 0, offset, &mask, &addr, &sz) >= 0);
    *off = (long long)addr;
    *size = (long long)sz;
    assert_true(H5Sclose(sp) >= 0 && H5Dclose(d) >= 0 && H5Fclose(f) >= 0);
}

/* A flipped bit in a dataset the recorder wrote is an error (Fletcher-32), not another
 * number; the file loads before the flip, and fw_results_check agrees with the loader. */
static void test_flipped_data_bit(void **state)
{
    fixture *fx = *state;
    /* Uncompressed (a level the scenario may choose): deflate would notice some flips by
     * chance, a plain chunk none. */
    fx->info.compression = 0;
    fw_results_destroy(complete_run(fx));
    char err[512] = "";
    assert_int_equal(fw_results_check(fx->path, err, sizeof err), FW_OK);
    long long off, size;
    first_chunk(fx->path, "/days/control/impressions", &off, &size);
    assert_true(size > 0);
    flip_bit(fx->path, off + size / 2, 3);
    expect_load_error(fx->path, FW_ERR_IO, "cannot read /days/control/impressions");
    assert_int_equal(fw_results_check(fx->path, err, sizeof err), FW_ERR_IO);
}

/* A flipped bit in a dataset's object header (its type, shape, filters, attributes) is an
 * error too: the recorder writes HDF5 1.8's format, whose object headers carry checksums. */
static void test_flipped_header_bit(void **state)
{
    fixture *fx = *state;
    fw_results_destroy(complete_run(fx));
    hid_t f = H5Fopen(fx->path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    H5O_info_t info;
    assert_true(H5Oget_info_by_name2(f, "/days/control/impressions", &info, H5O_INFO_BASIC | H5O_INFO_HDR,
                                     H5P_DEFAULT) >= 0);
    assert_true(H5Fclose(f) >= 0);
    assert_true(info.hdr.version >= 2);
    /* byte 24 of the header: inside its first message (the dataspace, written first) */
    flip_bit(fx->path, (long long)info.addr + 24, 1);
    char err[512] = "";
    /* fw_results_load (its check runs in a child): libhdf5 1.10 leaks the object header it
     * refused (424 bytes, H5O__obj_class), which LeakSanitizer would lay at this process. */
    fw_results *r = NULL;
    fw_err e = fw_results_load(fx->path, &r, err, sizeof err);
    if (e == FW_OK) {
        fw_results_destroy(r);
        fail_msg("a flipped bit in the header of /days/control/impressions was accepted");
    }
    assert_non_null(strstr(err, fx->path));
}

/* The reference to /experiment/metric's first string says it is shorter than the string
 * stored: HDF5 would copy the stored string into a buffer of the shorter length. */
static void test_corrupt_string_reference(void **state)
{
    fixture *fx = *state;
    fw_results_destroy(complete_run(fx));
    hid_t f = H5Fopen(fx->path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    hid_t d = H5Dopen2(f, "/experiment/metric", H5P_DEFAULT);
    assert_true(d >= 0);
    haddr_t off = H5Dget_offset(d);
    assert_true(off != HADDR_UNDEF);
    assert_true(H5Dclose(d) >= 0 && H5Fclose(f) >= 0);
    unsigned char len1[4] = {1, 0, 0, 0};   /* the first string's length: 1 */
    poke(fx->path, (long long)off, len1, sizeof len1);
    expect_load_error(fx->path, FW_ERR_PARSE, "/experiment/metric: string 0 is corrupt");
}

/* The byte offset of the first "GCOL" (a global heap collection) in path, or -1. */
static long long find_gcol(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    long long at = -1, pos = 0;
    int c, matched = 0;
    while (at < 0 && (c = fgetc(f)) != EOF) {
        matched = c == "GCOL"[matched] ? matched + 1 : c == 'G';
        pos++;
        if (matched == 4)
            at = pos - 4;
    }
    fclose(f);
    return at;
}

/* A global heap object whose size runs past its collection: refused before HDF5 reads it. */
static void test_corrupt_string_heap(void **state)
{
    fixture *fx = *state;
    fw_results_destroy(complete_run(fx));
    long long at = find_gcol(fx->path);
    assert_true(at > 0);
    unsigned char huge[8] = {0, 0, 0, 0, 0, 0, 0, 0x40};   /* the first object's size: 2^62 */
    poke(fx->path, at + 16 + 8, huge, sizeof huge);
    expect_load_error(fx->path, FW_ERR_PARSE, "corrupt string storage");
}

static void put_str_attr(hid_t f, const char *name, const char *value);
static void put_num_attr(hid_t f, const char *name, hid_t t, const void *v);

/* A string attribute naming the file a Flywheel result. */
static void put_version(hid_t f)
{
    hid_t t = H5Tcopy(H5T_C_S1), sp = H5Screate(H5S_SCALAR);
    const char *v = "0.test";
    assert_true(t >= 0 && sp >= 0 && H5Tset_size(t, H5T_VARIABLE) >= 0);
    hid_t a = H5Acreate2(f, "flywheel_version", t, sp, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(a >= 0 && H5Awrite(a, t, &v) >= 0);
    assert_true(H5Aclose(a) >= 0 && H5Sclose(sp) >= 0 && H5Tclose(t) >= 0);
}

/* Creates parent/name, 1-D int32 of n elements, chunked (256) and extendible; writes data
 * when it is not NULL (else the file stores none of it). */
static void put_1d(hid_t parent, const char *name, hsize_t n, const int32_t *data)
{
    hsize_t maxd = H5S_UNLIMITED, chunk = 256;
    hid_t sp = H5Screate_simple(1, &n, &maxd), pl = H5Pcreate(H5P_DATASET_CREATE);
    assert_true(sp >= 0 && pl >= 0 && H5Pset_chunk(pl, 1, &chunk) >= 0);
    hid_t d = H5Dcreate2(parent, name, H5T_STD_I32LE, sp, H5P_DEFAULT, pl, H5P_DEFAULT);
    assert_true(d >= 0);
    if (data)
        assert_true(H5Dwrite(d, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0);
    assert_true(H5Dclose(d) >= 0 && H5Pclose(pl) >= 0 && H5Sclose(sp) >= 0);
}

/* A result of a few KB: /days/day of n_days (written when days is not NULL) and one arm
 * with one column of n_col values. */
static void make_result(const char *path, hsize_t n_days, const int32_t *days, hsize_t n_col, const int32_t *col)
{
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(f >= 0);
    put_version(f);
    hid_t g = H5Gcreate2(f, "days", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(g >= 0);
    put_1d(g, "day", n_days, days);
    hid_t a = H5Gcreate2(g, "control", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(a >= 0);
    put_1d(a, "impressions", n_col, col);
    assert_true(H5Gclose(a) >= 0 && H5Gclose(g) >= 0 && H5Fclose(f) >= 0);
}

/* A small file claiming 3*10^7 days (issue 15 saw 3*10^8 make report allocate 1.2 GB and
 * exit 0) is refused before anything that size is allocated. */
static void test_claims_more_than_stored(void **state)
{
    fixture *fx = *state;
    make_result(fx->path, 30000000, NULL, 3, (const int32_t[]){1, 2, 3});
    struct stat st;
    assert_int_equal(stat(fx->path, &st), 0);
    assert_true(st.st_size < 64 * 1024);
    expect_load_error(fx->path, FW_ERR_PARSE, "/days/day: claims 30000000 elements");
}

/* Columns that do not fit /days/day, and days that go backwards, are layout errors. */
static void test_wrong_layout(void **state)
{
    fixture *fx = *state;
    const int32_t days[3] = {0, 1, 2}, col[5] = {1, 2, 3, 4, 5};
    make_result(fx->path, 3, days, 5, col);
    expect_load_error(fx->path, FW_ERR_PARSE, "/days/control/impressions: expected a 1-D array of 3 numbers");
    make_result(fx->path, 3, (const int32_t[]){0, 2, 1}, 3, col);
    expect_load_error(fx->path, FW_ERR_PARSE, "/days/day: day 1 at index 2 is not after the day before it");
    make_result(fx->path, 3, days, 3, col);
    fw_results_destroy(load_ok(fx->path));
}

/* Root attributes carry no checksum: the ones report relies on are checked for what they
 * can be (a flipped bit in days_completed, a count stored as a string). */
static void test_root_attrs(void **state)
{
    fixture *fx = *state;
    const int32_t days[3] = {0, 1, 2};
    make_result(fx->path, 3, days, 3, days);
    hid_t f = H5Fopen(fx->path, H5F_ACC_RDWR, H5P_DEFAULT);
    int64_t five = 5;
    assert_true(f >= 0);
    put_num_attr(f, "days_completed", H5T_NATIVE_INT64, &five);
    assert_true(H5Fclose(f) >= 0);
    expect_load_error(fx->path, FW_ERR_PARSE, "days_completed of / is 5 but /days/day has 3 days");
    make_result(fx->path, 3, days, 3, days);
    f = H5Fopen(fx->path, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(f >= 0);
    put_str_attr(f, "seed", "eleven");
    assert_true(H5Fclose(f) >= 0);
    expect_load_error(fx->path, FW_ERR_PARSE, "attribute 'seed' of / is 'eleven': expected a count");
}

/* Fails the test when a call does not return within 10 s (the SIGALRM default kills us). */
static void deadline(void) { alarm(10); }

/* A FIFO given as a result or a bench file is refused at once, never opened for reading
 * (which would wait for a writer for ever). */
static void test_fifo_input(void **state)
{
    fixture *fx = *state;
    assert_int_equal(mkfifo(fx->path, 0600), 0);
    deadline();
    expect_load_error(fx->path, FW_ERR_PARSE, "not a regular file (a FIFO)");
    fw_bench b;
    char err[512] = "";
    assert_int_equal(fw_bench_load(fx->path, &b, err, sizeof err), FW_ERR_PARSE);
    assert_non_null(strstr(err, "not a regular file"));
    alarm(0);
    expect_load_error(fx->dir, FW_ERR_PARSE, "not a regular file (a directory)");
}

/* A bench file with a string attribute name = value. */
static void put_str_attr(hid_t f, const char *name, const char *value)
{
    hid_t t = H5Tcopy(H5T_C_S1), sp = H5Screate(H5S_SCALAR);
    assert_true(t >= 0 && sp >= 0 && H5Tset_size(t, H5T_VARIABLE) >= 0);
    hid_t a = H5Acreate2(f, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(a >= 0 && H5Awrite(a, t, &value) >= 0);
    assert_true(H5Aclose(a) >= 0 && H5Sclose(sp) >= 0 && H5Tclose(t) >= 0);
}

static void put_num_attr(hid_t f, const char *name, hid_t t, const void *v)
{
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(f, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(a >= 0 && H5Awrite(a, t, v) >= 0);
    assert_true(H5Aclose(a) >= 0 && H5Sclose(sp) >= 0);
}

/* A crafted baseline of a few KB: repeat `rep` and /figures/values [n, rep], chunked and never
 * written. With n * rep = 2^61, (n * rep + 1) * sizeof(double) wraps to 8: the loader once
 * allocated 8 bytes and had HDF5 write 2^61 doubles into them. */
static void make_bench(const char *path, hsize_t n, uint32_t rep)
{
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(f >= 0);
    int32_t fmt = 1, threads = 1;
    uint64_t seed = 1;
    put_num_attr(f, "flywheel_bench", H5T_NATIVE_INT32, &fmt);
    put_num_attr(f, "threads", H5T_NATIVE_INT32, &threads);
    put_num_attr(f, "repeat", H5T_NATIVE_UINT32, &rep);
    put_num_attr(f, "seed", H5T_NATIVE_UINT64, &seed);
    put_str_attr(f, "scenario_name", "crafted");
    put_str_attr(f, "scenario_resolved", "name: crafted\n");
    put_str_attr(f, "flywheel_version", "0.test");
    put_str_attr(f, "git_revision", "none");
    hid_t g = H5Gcreate2(f, "figures", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t dims[2] = {n, rep}, maxd[2] = {H5S_UNLIMITED, rep}, chunk[2] = {1, rep};
    hid_t sp = H5Screate_simple(2, dims, maxd), pl = H5Pcreate(H5P_DATASET_CREATE);
    assert_true(g >= 0 && sp >= 0 && pl >= 0 && H5Pset_chunk(pl, 2, chunk) >= 0);
    hid_t d = H5Dcreate2(g, "values", H5T_IEEE_F64LE, sp, H5P_DEFAULT, pl, H5P_DEFAULT);
    assert_true(d >= 0);
    assert_true(H5Dclose(d) >= 0 && H5Pclose(pl) >= 0 && H5Sclose(sp) >= 0);
    assert_true(H5Gclose(g) >= 0 && H5Fclose(f) >= 0);
}

static void expect_bench_error(const char *path, fw_err want, const char *phrase)
{
    fw_bench b;
    char err[512] = "";
    fw_err e = fw_bench_load(path, &b, err, sizeof err);
    if (e != want)
        fail_msg("fw_bench_load(%s) = %s, want %s: %s", path, fw_err_name(e), fw_err_name(want), err);
    if (strncmp(err, path, strlen(path)) != 0 || !strstr(err, phrase))
        fail_msg("message '%s' should start with '%s' and say '%s'", err, path, phrase);
}

static void test_bench_sizes_bounded(void **state)
{
    fixture *fx = *state;
    make_bench(fx->path, (hsize_t)1 << 59, 4);   /* the product wraps the allocation's size */
    expect_bench_error(fx->path, FW_ERR_PARSE, "/figures/values: impossibly large shape");
    make_bench(fx->path, 1000000, 4);            /* 32 MB declared, nothing stored */
    expect_bench_error(fx->path, FW_ERR_PARSE, "/figures/values: claims 4000000 elements");
    make_bench(fx->path, 1, 2000000);            /* more repetitions than a bench runs */
    expect_bench_error(fx->path, FW_ERR_PARSE, "repeat = 2000000 is out of range");
}

/* A bench file as flywheel bench saves it, with a bit of its values flipped: an error. */
static void test_bench_flipped_bit(void **state)
{
    fixture *fx = *state;
    fw_bench b;
    char err[512] = "";
    assert_int_equal(fw_bench_init(&b, 3, "s", "name: s\n", "0.test", "rev", 1, 1), FW_OK);
    for (uint32_t r = 0; r < 3; r++)
        assert_int_equal(fw_bench_set(&b, "wall_time", "s", FW_BENCH_TIME, r, 1.5 + r), FW_OK);
    assert_int_equal(fw_bench_save(fx->path, &b, NULL, err, sizeof err), FW_OK);
    fw_bench_fini(&b);
    assert_int_equal(fw_bench_load(fx->path, &b, err, sizeof err), FW_OK);
    assert_true(b.n_fig == 1 && b.fig[0].v[2] == 3.5);
    fw_bench_fini(&b);
    long long off, size;
    first_chunk(fx->path, "/figures/values", &off, &size);
    flip_bit(fx->path, off + 3, 0);
    expect_bench_error(fx->path, FW_ERR_IO, "/figures/values");
}

static void test_destroy_null(void **state)
{
    (void)state;
    fw_results_destroy(NULL);
    fw_recorder_destroy(NULL);
}

/* ---- the superblock checksum of an in-memory file's image --------------------------------- */

static void test_image_superblock(void **state)
{
    (void)state;
    char path[] = "/tmp/fw_sb_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    /* A file HDF5 closed itself: our checksum of its superblock is the one it wrote. */
    hid_t f = fw_h5_create(path);
    assert_true(f >= 0);
    assert_true(H5Fclose(f) >= 0);
    unsigned char sb[48];
    FILE *in = fopen(path, "rb");
    assert_non_null(in);
    assert_int_equal(fread(sb, 1, sizeof sb, in), sizeof sb);
    fclose(in);
    assert_int_equal(sb[8], 2);   /* the 1.8 format's superblock */
    uint32_t stored = sb[44] | (uint32_t)sb[45] << 8 | (uint32_t)sb[46] << 16 | (uint32_t)sb[47] << 24;
    assert_int_equal(fw_h5_checksum(sb, 44), stored);
    /* An image of an open in-memory file: as libhdf5 1.10 gives it, it does not open; fixed,
     * it does, with its data. */
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    assert_true(H5Pset_fapl_core(fapl, 1 << 16, 0) >= 0);
    assert_true(H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_LATEST) >= 0);
    f = H5Fcreate("image.h5", H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    assert_true(f >= 0);
    int v = 42;
    assert_true(H5LTmake_dataset_int(f, "v", 0, NULL, &v) >= 0);
    assert_true(H5Fflush(f, H5F_SCOPE_GLOBAL) >= 0);
    ssize_t n = H5Fget_file_image(f, NULL, 0);
    assert_true(n > 48);
    unsigned char *img = malloc((size_t)n);
    assert_non_null(img);
    assert_int_equal(H5Fget_file_image(f, img, (size_t)n), n);
    H5Fclose(f);
    H5Pclose(fapl);
    assert_int_equal(fw_h5_fix_image_superblock(img, (size_t)n), 0);
    FILE *out = fopen(path, "wb");
    assert_non_null(out);
    assert_int_equal(fwrite(img, 1, (size_t)n, out), (size_t)n);
    fclose(out);
    free(img);
    f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    int back = 0;
    assert_true(H5LTread_dataset_int(f, "v", &back) >= 0);
    assert_int_equal(back, 42);
    H5Fclose(f);
    unlink(path);
    unsigned char junk[16] = "not hdf5 at all";
    assert_int_equal(fw_h5_fix_image_superblock(junk, sizeof junk), -1);
}

/* ---- writing into a file written before (the recorder's day after day) ------------------- */

static haddr_t addr_of(hid_t f, const char *path)
{
    H5O_info_t oi;
    assert_true(H5Oget_info_by_name(f, path, &oi, H5P_DEFAULT) >= 0);
    return oi.addr;
}

static hsize_t len_of(hid_t f, const char *path)
{
    hid_t d = H5Dopen2(f, path, H5P_DEFAULT), sp = H5Dget_space(d);
    hsize_t n = 0;
    assert_int_equal(H5Sget_simple_extent_dims(sp, &n, NULL), 1);
    H5Sclose(sp);
    H5Dclose(d);
    return n;
}

static hsize_t chunk_of(hid_t f, const char *path)
{
    hid_t d = H5Dopen2(f, path, H5P_DEFAULT), pl = H5Dget_create_plist(d);
    hsize_t c = 0;
    assert_int_equal(H5Pget_chunk(pl, 1, &c), 1);
    H5Pclose(pl);
    H5Dclose(d);
    return c;
}

static int64_t i64_attr(hid_t obj, const char *name)
{
    int64_t v = -1;
    assert_int_equal(fw_h5_read_num_attr(obj, name, H5T_NATIVE_INT64, &v), 0);
    return v;
}

/* Each writer finds what an earlier call wrote: a growing series is extended in place (same
 * object, its scale attached once, its attributes as created), equal strings and attributes
 * are left as they are and others replaced, a dataset whose chunks no longer fit is created
 * again, unless a dimension scale refers to it: then the call fails and the dataset stays. */
static void test_rewrite_in_place(void **state)
{
    (void)state;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    assert_true(H5Pset_fapl_core(fapl, 1 << 16, 0) >= 0);
    assert_true(H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_LATEST) >= 0);
    hid_t f = H5Fcreate("rewrite.h5", H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    assert_true(f >= 0);
    int32_t day[4] = {0, 1, 2, 3};
    double v1[1] = {0.5}, v3[3] = {0.25, 0.75, -1.0};
    hid_t g = fw_h5_group(f, "days", "first");
    assert_true(g >= 0);
    assert_int_equal(fw_h5_write_series(g, "day", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, 4, day, 1, "day", "index",
                                        -1, "day"), 0);
    hid_t sc = H5Dopen2(g, "day", H5P_DEFAULT);
    assert_int_equal(fw_h5_make_scale(sc, "day"), 0);
    assert_int_equal(fw_h5_write_series(g, "x", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, 4, v1, 1, "m", "a series", sc,
                                        "day"), 0);
    assert_int_equal(fw_h5_attr_i64(g, "n", 1), 0);
    assert_int_equal(fw_h5_write_strings(g, "names", (const char *const[]){"a", "b"}, 2, NULL, "names"), 0);
    const char *const one[1] = {"only"};
    assert_int_equal(fw_h5_write_1d(g, "plain", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, day, 1, NULL, NULL, -1, "row"), 0);
    assert_int_equal(fw_h5_write_1d(g, "tied", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, day, 1, NULL, NULL, sc, "day"), 0);
    haddr_t x0 = addr_of(f, "days/x"), names0 = addr_of(f, "days/names");
    H5Dclose(sc);
    H5Gclose(g);

    /* The same writes, three days on. */
    g = fw_h5_group(f, "days", "second");
    assert_true(g >= 0);
    assert_int_equal(fw_h5_write_series(g, "day", H5T_STD_I32LE, H5T_NATIVE_INT32, 3, 4, day, 1, "day", "index",
                                        -1, "day"), 0);
    sc = H5Dopen2(g, "day", H5P_DEFAULT);
    assert_int_equal(fw_h5_make_scale(sc, "day"), 0);
    assert_int_equal(fw_h5_write_series(g, "x", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 3, 4, v3, 1, "m", "a series", sc,
                                        "day"), 0);
    assert_int_equal(fw_h5_attr_i64(g, "n", 3), 0);
    assert_int_equal(fw_h5_write_strings(g, "names", (const char *const[]){"a", "b"}, 2, NULL, "names"), 0);
    assert_int_equal(fw_h5_write_strings(g, "other", one, 1, NULL, NULL), 0);
    assert_int_equal(fw_h5_write_strings(g, "other", (const char *const[]){"now", "two"}, 2, NULL, NULL), 0);
    assert_int_equal(fw_h5_write_1d(g, "plain", H5T_STD_I32LE, H5T_NATIVE_INT32, 3, day, 1, NULL, NULL, -1, "row"), 0);
    /* chunks of one value no longer hold three, and the scale refers to it: refused */
    assert_true(fw_h5_write_1d(g, "tied", H5T_STD_I32LE, H5T_NATIVE_INT32, 3, day, 1, NULL, NULL, sc, "day") < 0);
    H5Dclose(sc);

    assert_true(addr_of(f, "days/x") == x0);             /* extended, not created again */
    assert_true(addr_of(f, "days/names") == names0);     /* equal strings: left as they were */
    assert_int_equal(chunk_of(f, "days/plain"), 3);     /* its chunks held 1: created again */
    assert_int_equal(chunk_of(f, "days/x"), 4);
    assert_int_equal(len_of(f, "days/x"), 3);
    assert_int_equal(len_of(f, "days/plain"), 3);
    assert_int_equal(len_of(f, "days/tied"), 1);         /* the refused one is as it was */
    double back[3];
    assert_true(H5LTread_dataset_double(g, "x", back) >= 0);
    assert_memory_equal(back, v3, sizeof v3);
    assert_int_equal(i64_attr(g, "n"), 3);
    hid_t st = fw_h5_str_type();
    char *two[2] = {NULL, NULL};
    assert_true(H5LTread_dataset(g, "other", st, two) >= 0);   /* other strings: replaced */
    assert_string_equal(two[0], "now");
    assert_string_equal(two[1], "two");
    H5free_memory(two[0]);
    H5free_memory(two[1]);
    H5Tclose(st);
    char *doc = fw_h5_read_str_attr(f, "days", "description");
    assert_string_equal(doc, "first");   /* a group's description is the one it was created with */
    free(doc);
    char *unit = fw_h5_read_str_attr(f, "days/x", "units");
    assert_string_equal(unit, "m");
    free(unit);
    /* The scale lists x and tied once each, however often they were written. */
    hid_t d = H5Dopen2(g, "day", H5P_DEFAULT), a = H5Aopen(d, "REFERENCE_LIST", H5P_DEFAULT), sp = H5Aget_space(a);
    assert_int_equal(H5Sget_simple_extent_npoints(sp), 2);
    H5Sclose(sp);
    H5Aclose(a);
    H5Dclose(d);
    d = H5Dopen2(g, "x", H5P_DEFAULT);
    assert_int_equal(H5DSget_num_scales(d, 0), 1);
    H5Dclose(d);
    H5Gclose(g);
    H5Fclose(f);
    H5Pclose(fapl);
}

/* ---- a reader's check in a child: libhdf5's own crashes and hangs become errors ---------- */

static fw_err check_crashes(const char *path, char *errbuf, size_t errlen)
{
    (void)path, (void)errbuf, (void)errlen;
    signal(SIGSEGV, SIG_DFL);   /* as libhdf5 dies on a corrupt file: not cmocka's handler */
    raise(SIGSEGV);
    return FW_OK;
}

static fw_err check_hangs(const char *path, char *errbuf, size_t errlen)
{
    (void)path, (void)errbuf, (void)errlen;
    for (;;)
        pause();
    return FW_OK;
}

static fw_err check_refuses(const char *path, char *errbuf, size_t errlen)
{
    snprintf(errbuf, errlen, "%s: not laid out as a result", path);
    return FW_ERR_PARSE;
}

static fw_err check_accepts(const char *path, char *errbuf, size_t errlen)
{
    (void)path, (void)errbuf, (void)errlen;
    return FW_OK;
}

static void test_isolated_check(void **state)
{
    (void)state;
    char msg[512] = "";
    assert_int_equal(fw_h5_isolated(check_crashes, "x.h5", 30, msg, sizeof msg), FW_ERR_PARSE);
    assert_non_null(strstr(msg, "x.h5: the HDF5 library crashed reading it (signal 11)"));
    msg[0] = '\0';
    assert_int_equal(fw_h5_isolated(check_hangs, "y.h5", 1, msg, sizeof msg), FW_ERR_PARSE);
    assert_non_null(strstr(msg, "y.h5: reading it took more than 1 s"));
    msg[0] = '\0';
    assert_int_equal(fw_h5_isolated(check_refuses, "z.h5", 30, msg, sizeof msg), FW_ERR_PARSE);
    assert_string_equal(msg, "z.h5: not laid out as a result");
    msg[0] = '\0';
    assert_int_equal(fw_h5_isolated(check_accepts, "ok.h5", 30, msg, sizeof msg), FW_OK);
    assert_string_equal(msg, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_provenance, setup, teardown),
        cmocka_unit_test_setup_teardown(test_days, setup, teardown),
        cmocka_unit_test_setup_teardown(test_items, setup, teardown),
        cmocka_unit_test_setup_teardown(test_arms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_world, setup, teardown),
        cmocka_unit_test_setup_teardown(test_latency, setup, teardown),
        cmocka_unit_test_setup_teardown(test_experiment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_partial_then_complete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_not_hdf5, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_no_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_no_days, setup, teardown),
        cmocka_unit_test(test_destroy_null),
        cmocka_unit_test_setup_teardown(test_flipped_data_bit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flipped_header_bit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_string_reference, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_string_heap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_claims_more_than_stored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_layout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_root_attrs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fifo_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bench_sizes_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bench_flipped_bit, setup, teardown),
        cmocka_unit_test(test_isolated_check),
        cmocka_unit_test(test_image_superblock),
        cmocka_unit_test(test_rewrite_in_place),
    };
    const char *only = getenv("FW_TEST_FILTER");   /* e.g. FW_TEST_FILTER='test_bench_*' */
    if (only)
        cmocka_set_test_filter(only);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
