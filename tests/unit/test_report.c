/* Unit tests for sim/io/report against hand-made fw_results (no HDF5, no simulation): the
 * regressions of issue 15 in the report builder.
 *  - Arms whose names are not plain file names (对照 and 实验, "a b" next to "a_b", a quote)
 *    each get a data file of their own, and each plotted series of the engagement figure
 *    reads its own arm's CTR, titled with its own name.
 *  - A day with no impressions shows its CTR as n/a in index.html (never nan%).
 *  - A gnuplot that never exits (a fake one on PATH that sleeps) is killed after the timeout,
 *    and the report still finishes, every figure noted as not drawn.
 * Each test gets its own mkdtemp folder; gnuplot is never the real one ("true", or the fake),
 * so no PNG is drawn and the figures count as failed: the tests read the data files, scripts
 * and index.html. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "io/report.h"
#include "io/results.h"

enum { N_ARMS = 5, N_DAYS = 3 };

/* The arms: names no file name can hold as they are, and their (impressions, opens) per day.
 * Every arm's CTR differs from every other's; "a_b" has no impressions on its last day. */
static const char *const arm_name[N_ARMS] = {"对照", "实验", "a b", "a_b", "it's"};
static const double impressions[N_ARMS][N_DAYS] = {
    {100, 200, 400}, {100, 200, 400}, {100, 100, 100}, {100, 100, 0}, {1000, 1000, 1000}};
static const double opens[N_ARMS][N_DAYS] = {
    {3, 6, 12}, {31, 62, 124}, {50, 40, 30}, {70, 80, 0}, {5, 6, 7}};

typedef struct fixture {
    char dir[64];
    fw_results *r;
} fixture;

static char *dup_str(const char *s)
{
    char *d = strdup(s);
    assert_non_null(d);
    return d;
}

static fw_results_series column(const char *name, const double *v)
{
    fw_results_series s = {dup_str(name), dup_str(""), malloc(N_DAYS * sizeof(double))};
    assert_non_null(s.v);
    memcpy(s.v, v, N_DAYS * sizeof(double));
    return s;
}

/* The run, as fw_results_load would return it (freed with fw_results_destroy). */
static fw_results *make_results(void)
{
    fw_results *r = calloc(1, sizeof *r);
    assert_non_null(r);
    r->path = dup_str("hand-made.h5");
    r->root.n = 1;
    r->root.v = calloc(1, sizeof *r->root.v);
    assert_non_null(r->root.v);
    r->root.v[0] = (fw_results_value){dup_str("scenario_name"), dup_str("names"), NAN, 1};
    r->n_days = N_DAYS;
    r->day = malloc(N_DAYS * sizeof *r->day);
    assert_non_null(r->day);
    for (int d = 0; d < N_DAYS; d++)
        r->day[d] = d;
    r->n_arms = N_ARMS;
    r->arms = calloc(N_ARMS, sizeof *r->arms);
    assert_non_null(r->arms);
    for (int a = 0; a < N_ARMS; a++) {
        r->arms[a].name = dup_str(arm_name[a]);
        r->arms[a].days.n = 2;
        r->arms[a].days.col = calloc(2, sizeof *r->arms[a].days.col);
        assert_non_null(r->arms[a].days.col);
        r->arms[a].days.col[0] = column("impressions", impressions[a]);
        r->arms[a].days.col[1] = column("opens", opens[a]);
    }
    return r;
}

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    strcpy(fx->dir, "/tmp/fw_test_report.XXXXXX");
    if (!mkdtemp(fx->dir))
        return -1;
    char sub[128];
    snprintf(sub, sizeof sub, "%s/figures", fx->dir);
    if (mkdir(sub, 0700) < 0)
        return -1;
    snprintf(sub, sizeof sub, "%s/data", fx->dir);
    if (mkdir(sub, 0700) < 0)
        return -1;
    snprintf(sub, sizeof sub, "%s/bin", fx->dir);
    if (mkdir(sub, 0700) < 0)
        return -1;
    fx->r = make_results();
    *state = fx;
    return 0;
}

/* Removes folder path and the files in it (and in its subfolders, one level down). */
static void remove_tree(const char *path, int depth)
{
    DIR *dir = opendir(path);
    if (dir) {
        struct dirent *e;
        while ((e = readdir(dir))) {
            char p[512];
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            snprintf(p, sizeof p, "%s/%s", path, e->d_name);
            if (unlink(p) < 0 && depth > 0)
                remove_tree(p, depth - 1);
        }
        closedir(dir);
    }
    rmdir(path);
}

static int teardown(void **state)
{
    fixture *fx = *state;
    remove_tree(fx->dir, 1);
    fw_results_destroy(fx->r);
    free(fx);
    return 0;
}

/* Builds the report with gnuplot prog (NULL: "gnuplot" on PATH) and timeout; problems go to
 * *err (a new string, the caller frees it). */
static fw_report_summary build(fixture *fx, const char *prog, int timeout_s, char **err)
{
    size_t len = 0;
    FILE *ef = open_memstream(err, &len);
    assert_non_null(ef);
    const fw_results *runs[1] = {fx->r};
    fw_report_opts o = {.dir = fx->dir, .gnuplot = prog, .err = ef, .timeout_s = timeout_s};
    fw_report_summary sum = {-1, -1};
    assert_int_equal(fw_report_build(runs, 1, &o, &sum), FW_OK);
    assert_int_equal(fclose(ef), 0);
    return sum;
}

/* The whole of file dir/name as a new string. */
static char *slurp(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    char *s = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&s, &len);
    int c;
    while ((c = fgetc(f)) != EOF)
        fputc(c, m);
    fclose(f);
    fclose(m);
    return s;
}

/* Column col (1-based) of every data line of dir/data/file into v[N_DAYS]; NaN for "NaN". */
static void read_column(const char *dir, const char *file, int col, double *v)
{
    char *text = slurp(dir, file), *save = NULL;
    int d = 0;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#')
            continue;
        assert_true(d < N_DAYS);
        char *p = line;
        double x = NAN;
        for (int k = 1; k <= col; k++) {
            char *end;
            x = strtod(p, &end);
            assert_true(end != p);
            p = end;
        }
        v[d++] = x;
    }
    assert_int_equal(d, N_DAYS);
    free(text);
}

/* Each series of figures/engagement.gp that plots the CTR: its data file and its title. */
typedef struct series {
    char file[256], title[256];
} series;

static int ctr_series(const char *script, series *out, int max)
{
    int n = 0;
    /* the PNG part only: the script holds the body twice, once per terminal */
    const char *end = strstr(script, "set terminal svg"), *p = script;
    while ((p = strstr(p, "'../data/")) && p < end) {
        const char *q = strchr(p + 1, '\'');
        assert_non_null(q);
        if (strncmp(q, "' using 1:($7*100) with linespoints", 35) != 0) {
            p = q + 1;
            continue;
        }
        assert_true(n < max);
        snprintf(out[n].file, sizeof out[n].file, "data/%.*s", (int)(q - (p + 9)), p + 9);
        const char *t = strstr(q, " title '");
        assert_non_null(t);
        t += 8;
        size_t k = 0;
        for (; *t && !(t[0] == '\'' && t[1] != '\''); t++) {
            if (t[0] == '\'')
                t++;   /* '' is one quote */
            assert_true(k + 1 < sizeof out[n].title);
            out[n].title[k++] = *t;
        }
        out[n].title[k] = 0;
        n++;
        p = t;
    }
    return n;
}

/* Every arm has a data file of its own, plotted under its own name with its own CTR. */
static void test_arm_names_unique(void **state)
{
    fixture *fx = *state;
    char *err = NULL;
    build(fx, "true", 0, &err);
    free(err);
    char *script = slurp(fx->dir, "figures/engagement.gp");
    series s[2 * N_ARMS];
    int n = ctr_series(script, s, 2 * N_ARMS);
    free(script);
    assert_int_equal(n, N_ARMS);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < i; j++)
            if (!strcmp(s[i].file, s[j].file))
                fail_msg("arms '%s' and '%s' are both plotted from %s", s[i].title, s[j].title, s[i].file);
    for (int a = 0; a < N_ARMS; a++) {
        int found = -1;
        for (int i = 0; i < n; i++)
            if (!strcmp(s[i].title, arm_name[a]))
                found = i;
        if (found < 0)
            fail_msg("no series titled '%s'", arm_name[a]);
        /* the file's name is plain: no spaces, quotes or bytes outside ASCII */
        for (const char *c = s[found].file; *c; c++)
            if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                  strchr("_-./", *c)))
                fail_msg("data file name '%s' holds '%c'", s[found].file, *c);
        double ctr[N_DAYS];
        read_column(fx->dir, s[found].file, 7, ctr);
        for (int d = 0; d < N_DAYS; d++) {
            double want = impressions[a][d] > 0 ? opens[a][d] / impressions[a][d] : NAN;
            if (!((isnan(want) && isnan(ctr[d])) || fabs(ctr[d] - want) < 1e-12))
                fail_msg("arm '%s' day %d: %s holds CTR %g, want %g", arm_name[a], d, s[found].file, ctr[d], want);
        }
    }
}

/* No impressions on a day: its CTR is n/a in the daily table, never nan. */
static void test_ctr_without_impressions(void **state)
{
    fixture *fx = *state;
    char *err = NULL;
    build(fx, "true", 0, &err);
    free(err);
    char *html = slurp(fx->dir, "index.html");
    assert_null(strstr(html, "nan"));
    assert_null(strstr(html, "NaN"));
    const char *arm = strstr(html, "arm a_b");
    assert_non_null(arm);
    const char *row = strstr(arm, "<tr><td>2</td>");   /* a_b's last day */
    assert_non_null(row);
    const char *row_end = strstr(row, "</tr>");
    assert_non_null(row_end);
    const char *na = strstr(row, "<td>n/a</td>");
    if (!na || na > row_end)
        fail_msg("a_b's day 2 shows no n/a CTR: %.*s", (int)(row_end - row), row);
    free(html);
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* A gnuplot on PATH that never exits: killed after the timeout (1 s here), its figure noted,
 * the remaining figures skipped, the report finished in a few seconds. */
static void test_gnuplot_hangs(void **state)
{
    fixture *fx = *state;
    char bin[128], fake[160], path[8192];
    snprintf(bin, sizeof bin, "%s/bin", fx->dir);
    snprintf(fake, sizeof fake, "%s/gnuplot", bin);
    FILE *f = fopen(fake, "w");
    assert_non_null(f);
    fputs("#!/bin/sh\n# a gnuplot that never finishes\nsleep 1000\n", f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(fake, 0700), 0);
    const char *old = getenv("PATH");
    snprintf(path, sizeof path, "%s:%s", bin, old ? old : "/usr/bin:/bin");
    assert_int_equal(setenv("PATH", path, 1), 0);
    alarm(30);   /* a report that waits for ever fails the test (SIGALRM) */
    double t0 = now_s();
    char *err = NULL;
    fw_report_summary sum = build(fx, NULL, 1, &err);
    double took = now_s() - t0;
    alarm(0);
    assert_true(sum.n_figures > 0);
    assert_int_equal(sum.n_failed, sum.n_figures);
    if (took > 10)
        fail_msg("report took %.1f s with a 1 s gnuplot timeout", took);
    if (!strstr(err, "did not finish within 1 s"))
        fail_msg("stderr does not say gnuplot timed out: %s", err);
    free(err);
    char *html = slurp(fx->dir, "index.html");
    assert_non_null(strstr(html, "did not finish within 1 s"));
    free(html);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_arm_names_unique, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ctr_without_impressions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gnuplot_hangs, setup, teardown),
    };
    const char *only = getenv("FW_TEST_FILTER");   /* e.g. FW_TEST_FILTER='test_bench_*' */
    if (only)
        cmocka_set_test_filter(only);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
