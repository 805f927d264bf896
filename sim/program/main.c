/* The flywheel program: argument parsing, signals, exit codes. The only place that reads
 * the environment or installs signal handlers.
 * Exit codes: 0 ok, 1 run failed or was interrupted, 2 bad input. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "program/bench.h"
#include "driver/mpi.h"
#include "flywheel/engine.h"
#include "driver/clock.h"
#include "io/report.h"
#include "io/results.h"
#include "fw_version.h"
#include "driver/run.h"
#include "io/scenario.h"

enum { EXIT_RUN_FAILED = 1, EXIT_BAD_INPUT = 2 };

static volatile sig_atomic_t stop_requested;
/* Several ranks: the run ended the same way on every rank (a stop agreed at a barrier), so a
 * non-zero status needs no MPI_Abort (which could cut rank 0's last write short). */
static int mpi_ended_together;

static void on_signal(int sig)
{
    /* What is kept is the command's to say when it stops (run: the .partial file; bench: the
     * finished repetitions). */
    static const char msg[] = "\nflywheel: stopping at the end of the current tick or generation step (signal again to abort)\n";
    if (stop_requested) {
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    stop_requested = 1;
    ssize_t rc = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)rc;
}

static const char usage_main[] =
    "usage: flywheel COMMAND [options]\n"
    "\n"
    "Flywheel simulates a content-commerce platform -- its feed (a baseline and a learning\n"
    "recommender, engine.feed.algorithm), search (engine.search.mode), shop (product cards on\n"
    "notes, carts, orders, payment, stock, returns; engine.shop), native ads (auctions,\n"
    "pacing, attribution; engine.ads) and the brand-creator marketplace (engine.market) --\n"
    "driven by a synthetic world of users, creators, brands, products and notes, and records\n"
    "what happened to HDF5.\n"
    "\n"
    "commands:\n"
    "  run SCENARIO       run a scenario and write results/NAME.h5\n"
    "  validate SCENARIO  check a scenario file without running it\n"
    "  defaults           print every knob with its built-in default, as a commented\n"
    "                     scenario, and the settings by which scenarios/default.yaml differs\n"
    "  generate SCENARIO  generate the world only; report its size, time and memory\n"
    "  bench SCENARIO     run a scenario N times; timings, work and quality, compared\n"
    "                     with a saved baseline (exit 1 on a regression)\n"
    "  report RESULT.h5 [RESULT2.h5]\n"
    "                     figures (gnuplot) and index.html for a result, or two compared\n"
    "\n"
    "options:\n"
    "  -h, --help         this help (also: flywheel COMMAND --help)\n"
    "  -V, --version      version and git revision\n"
    "\n"
    "examples:\n"
    "  flywheel run scenarios/default.yaml\n"
    "  flywheel run scenarios/default.yaml --days 2 --set world.n_users=5000 -o /tmp/small.h5\n"
    "  flywheel validate my.yaml && flywheel run my.yaml --threads 2\n"
    "  flywheel run scenarios/rec_vs_baseline.yaml --report   (recommender A/B)\n"
    "  flywheel run scenarios/search_ab.yaml --report         (keyword vs intent search)\n"    "  flywheel run scenarios/profile_ab.yaml --report        (shop: separate vs unified profile)\n"
    "  flywheel run scenarios/ad_load.yaml --report           (ads: 10% vs 20% ad load)\n"
    "  flywheel run scenarios/default.yaml --report  # results/default_report/index.html\n"
    "  flywheel report results/a.h5 results/b.h5 -o /tmp/a_vs_b\n"
    "\n"
    "exit codes: 0 ok, 1 run failed or interrupted or a report figure failed, 2 bad input\n";

static const char usage_run[] =
    "usage: flywheel run SCENARIO [options]\n"
    "       flywheel run --resume FILE.partial [SCENARIO] [options]\n"
    "\n"
    "Runs SCENARIO (YAML; every key optional, see `flywheel defaults`) for its days and\n"
    "writes one HDF5 file: while running it is FILE.partial, rewritten whole at each day's\n"
    "end, and renamed to FILE when the run completes; a FILE already there (an earlier run's)\n"
    "is then kept as its previous version, NAME.prev.h5, named in the summary. Ctrl-C (SIGINT)\n"
    "or SIGTERM finish the current tick and keep FILE.partial with every finished day. A\n"
    "FILE.partial left by an unfinished run is never replaced without --force (exit 2).\n"
    "\n"
    "options:\n"
    "  -o, --output FILE  result file (default: output.file, else output.dir/NAME.h5)\n"
    "  -t, --threads N    OpenMP threads (default: OMP_NUM_THREADS, else all cores), at most\n"
    "                     4096 and one per 64 users; results are identical for any N\n"
    "      --force        replace FILE.partial left by an unfinished run (its days are lost)\n"
    "  -s, --seed S       master seed (same as --set seed=S)\n"
    "  -d, --days D       days to simulate (same as --set days=D)\n"
    "      --set K=V      override a knob, e.g. --set world.n_users=5000; repeatable\n"
    "      --replicates K also rerun with seeds S+1..S+K-1 and assignment salts salt+1..\n"
    "                     (several at once) and store every replicate's tests under\n"
    "                     /replicates: simulation noise beside the effect (default 1)\n"
    "  -q, --quiet        no progress line and no summary\n"
    "      --progress     progress even when stderr is not a terminal (into a log: a line\n"
    "                     every 30 s and at each day's end)\n"
    "      --report       after a successful run, also build its report (`flywheel report\n"
    "                     --help`) into FILE without .h5, plus _report/\n"
    "      --resume FILE.partial\n"
    "                     continue the unfinished run that left FILE.partial (killed, stopped\n"
    "                     or failed) from its last finished day, with its checkpoint\n"
    "                     FILE.ckpt and its state snapshot FILE.snap: the run continues from\n"
    "                     the snapshot's day, and any finished day after it (or every one,\n"
    "                     without a usable snapshot) is re-simulated (not rewritten) and\n"
    "                     checked; FILE ends identical to an uninterrupted run. The\n"
    "                     scenario, overrides and --replicates come from the checkpoint; a\n"
    "                     SCENARIO, -s, -d or --set given must match them (exit 2 otherwise)\n"
    "      --no-snapshot  write no state snapshot (FILE.snap: the whole state, about the\n"
    "                     run's memory, rewritten at each day's end; the summary gives its\n"
    "                     size); a resume then re-simulates the finished days\n"
    "      --snapshot-foreground\n"
    "                     write each day's snapshot in the run's own process, the simulation\n"
    "                     waiting for it; by default a forked copy of the process writes it\n"
    "                     while the next day runs, which costs memory for the pages that day\n"
    "                     changes meanwhile (at most the state's size again); a run that\n"
    "                     holds transparent huge pages writes it itself (a fork would split\n"
    "                     them for the rest of the run), as the summary says\n"
    "  -h, --help         this help\n";

static const char usage_bench[] =
    "usage: flywheel bench SCENARIO [options]\n"
    "\n"
    "Runs SCENARIO --repeat times and records, per repetition: throughput (user-sessions per\n"
    "second per thread), the figure of merit impressions_per_core_s (feed notes, search results\n"
    "and ads served per second of simulation per thread used), wall time, peak memory and the\n"
    "p50/p99 latency of every engine stage\n"
    "(measured: they vary); the engine's work counters (candidates recalled and scored, events,\n"
    "walk steps, ...) and per-arm quality (CTR, interactions per read, retention, oracle NDCG)\n"
    "(deterministic for a seed: identical on any machine). With --baseline, each figure is\n"
    "compared with the baseline's:\n"
    "  timings   regressed when worse by more than --tolerance AND a one-sided Mann-Whitney\n"
    "            U test over the repetitions gives p < --alpha (noise alone does not fail);\n"
    "            stages with fewer than 1000 calls a run are only reported\n"
    "  work      regressed when larger (beyond --work-tolerance, default: exact)\n"
    "  quality   regressed when smaller (beyond --quality-tolerance, default: exact)\n"
    "A deterministic figure that differs between repetitions is a regression too. The table\n"
    "(figure, kind, unit, baseline, now, change, p, verdict) goes to stdout, and the record with\n"
    "the comparison to -o FILE (HDF5).\n"
    "\n"
    "options:\n"
    "  -n, --repeat N         runs (default 5). Timings are judged by a rank test whose smallest p is\n"
    "                         1/C(n+m, n) for n runs against a baseline's m: at --alpha 0.01, 5 against\n"
    "                         5 (p >= 0.004) can flag a regression, 3 against 3 (p >= 0.05) never can,\n"
    "                         so a count that cannot reach --alpha is refused (exit 2), with the\n"
    "                         smallest that can; also when saving a baseline (judged against as many)\n"
    "      --no-timings       record timings but judge only work and quality (any -n, e.g. -n 1)\n"
    "      --baseline FILE    compare with this bench file (same scenario and threads; knobs added\n"
    "                         since it was saved must be at their defaults)\n"
    "      --save-baseline FILE  also write this run's record as a baseline\n"
    "      --tolerance PCT    smallest timing change that can fail (default 20)\n"
    "      --alpha A          significance of the timing test (default 0.01)\n"
    "      --work-tolerance PCT, --quality-tolerance PCT   (default 0: exact)\n"
    "  -o, --output FILE      record + comparison (default output.dir/NAME_bench.h5)\n"
    "  -t, --threads N        threads (default: all cores; a baseline fixes it)\n"
    "      --set K=V          override a knob; repeatable (part of the scenario compared)\n"
    "  -q, --quiet            no per-run lines\n"
    "\n"
    "In CI: save a baseline from the reference build once (flywheel bench scenarios/bench.yaml\n"
    "--save-baseline base.h5), then run each change with --baseline base.h5; exit 1 fails the\n"
    "job. FLYWHEEL_PLANT_DELAY=STAGE=NS (STAGE one of feed_recall, feed_rank, log, end_tick)\n"
    "plants a busy wait of NS nanoseconds per call, to check that a slowdown is caught.\n"
    "exit codes: 0 no regression, 1 regression (or a run failed), 2 bad input\n";

static const char usage_validate[] =
    "usage: flywheel validate SCENARIO [--set K=V]... [--print]\n"
    "\n"
    "Checks SCENARIO (and any --set overrides) like `run` would, without running it.\n"
    "Prints 'ok' and exits 0, or prints each problem as FILE:LINE: key: message and exits 2.\n"
    "  --print   also print the effective scenario (every knob) as YAML\n";

static const char usage_generate[] =
    "usage: flywheel generate SCENARIO [--set K=V]...\n"
    "\n"
    "Generates the scenario's world and reports its size, generation time, peak memory and\n"
    "the concentration of follows and notes. Writes no file.\n";

static const char usage_report[] =
    "usage: flywheel report RESULT.h5 [RESULT2.h5] [-o DIR]\n"
    "\n"
    "Builds a self-contained report folder from a result file. Open DIR/index.html in a\n"
    "browser; it needs nothing outside the folder. In the folder:\n"
    "  index.html        provenance, daily totals per arm, the A/B table (runs with 2+ arms)\n"
    "                    and every figure with a caption saying how to read it\n"
    "  figures/NAME.png  960x540, linked to figures/NAME.svg\n"
    "  figures/NAME.gp   the gnuplot script: restyle it, then `cd DIR/figures && gnuplot NAME.gp`\n"
    "  data/*.dat        the numbers behind each figure, whitespace-separated columns\n"
    "\n"
    "Figures, each drawn when the result has its data: engagement (CTR with a binomial 95%\n"
    "band; interactions per read), activity (daily active users; sessions per user),\n"
    "retention, quality (oracle NDCG; coverage), funnel, latency_percentiles,\n"
    "latency_distribution, followers, lorenz, and\n"
    "forest (A/B lifts with intervals). An arm has the same colour in every figure.\n"
    "\n"
    "With RESULT2.h5 the runs are compared: the engagement, activity and latency_percentiles\n"
    "figures overlay both (series labelled scenario + arm, the second run dashed) and the\n"
    "page shows both runs' provenance; the other figures are of the first run.\n"
    "\n"
    "options:\n"
    "  -o, --output DIR   the report folder (default: RESULT without .h5, plus _report,\n"
    "                     e.g. results/default.h5 -> results/default_report)\n"
    "  -h, --help         this help\n"
    "\n"
    "Needs gnuplot on PATH. A figure gnuplot cannot draw is named on stderr with the reason\n"
    "and noted in index.html; the rest of the report is still written.\n"
    "exit codes: 0 ok, 1 a figure could not be drawn, 2 bad input (a result that cannot be\n"
    "read or is not a Flywheel result, a folder that cannot be created)\n";

/* SIGINT and SIGTERM stop a run after the current tick (on_signal). */
static void catch_stop_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* Loads the scenario, applies overrides and resolves arms; prints the problem and returns
 * nonzero on bad input. */
static int load_scenario(const char *path, char **sets, int n_sets, fw_scenario *sc)
{
    fw_diag diag = {{0}};
    if (fw_scenario_load(path, sc, &diag) != FW_OK) {
        fprintf(stderr, "flywheel: %s\n", diag.msg);
        return -1;
    }
    for (int i = 0; i < n_sets; i++)
        if (fw_scenario_set(sc, sets[i], &diag) != FW_OK) {
            fprintf(stderr, "flywheel: %s\n", diag.msg);
            fw_scenario_fini(sc);
            return -1;
        }
    /* Ranker plug-ins are loaded and started once here, before the world exists, so that a
     * missing or wrong one is bad input (exit 2) and costs nothing. */
    if (fw_scenario_finish(sc, &diag) != FW_OK || fw_scenario_check_plugins(sc, &diag) != FW_OK) {
        fprintf(stderr, "flywheel: %s\n", diag.msg);
        fw_scenario_fini(sc);
        return -1;
    }
    return 0;
}

/* The scenario a baseline recorded (its resolved YAML), as this build resolves it: loaded
 * from a temporary file and written back, so that a knob added since the baseline takes its
 * default. A new string, or NULL when this build cannot read it (a knob it no longer has). */
static char *reresolve(const char *yaml)
{
    const char *tmp_root = getenv("TMPDIR");
    char path[PATH_MAX], *out = NULL;
    size_t len = 0;
    if ((size_t)snprintf(path, sizeof path, "%s/flywheel-baseline-XXXXXX.yaml",
                         tmp_root && *tmp_root ? tmp_root : "/tmp") >= sizeof path)
        return NULL;
    int fd = mkstemps(path, 5);
    if (fd < 0)
        return NULL;
    FILE *f = fdopen(fd, "w");
    fw_scenario s;
    fw_diag diag = {{0}};
    int ok = f && fputs(yaml, f) >= 0;
    if (f)
        ok = fclose(f) == 0 && ok;
    else
        close(fd);
    if (ok && fw_scenario_load(path, &s, &diag) == FW_OK) {
        FILE *mem = fw_scenario_finish(&s, &diag) == FW_OK ? open_memstream(&out, &len) : NULL;
        if (mem) {
            fw_scenario_write_yaml(&s, mem, 0);
            fclose(mem);
        }
        fw_scenario_fini(&s);
    }
    unlink(path);
    return out;
}

static int mkdir_p(const char *dir)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", dir) >= (int)sizeof buf)
        return -1;
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(buf, 0777) < 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return mkdir(buf, 0777) < 0 && errno != EEXIST ? -1 : 0;
}

/* Chooses the output path and makes sure its directory exists and is writable. */
static int output_path(const fw_scenario *sc, const char *opt, char *out, size_t n)
{
    int w;
    if (opt)
        w = snprintf(out, n, "%s", opt);
    else if (sc->output.file && sc->output.file[0])
        w = snprintf(out, n, "%s", sc->output.file);
    else
        w = snprintf(out, n, "%s/%s.h5", sc->output.dir, sc->name);
    if (w < 0 || (size_t)w >= n) {
        fprintf(stderr, "flywheel: output path too long\n");
        return -1;
    }
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", out);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = 0;
        if (dir[0] && mkdir_p(dir) < 0) {
            fprintf(stderr, "flywheel: cannot create output directory %s: %s\n", dir, strerror(errno));
            return -1;
        }
    } else {
        strcpy(dir, ".");
    }
    if (access(dir[0] ? dir : "/", W_OK) < 0) {
        fprintf(stderr, "flywheel: output directory %s is not writable: %s\n", dir, strerror(errno));
        return -1;
    }
    struct stat st;
    if (stat(out, &st) == 0 && S_ISDIR(st.st_mode)) {
        fprintf(stderr, "flywheel: output path %s is a directory; give a file name with -o\n", out);
        return -1;
    }
    return 0;
}

/* Collects --set values (and -s/-d as sets) into a list owned by the caller. */
typedef struct setlist {
    char **v;
    int n;
} setlist;

static int setlist_add(setlist *l, const char *prefix, const char *value)
{
    char **v = realloc(l->v, (size_t)(l->n + 1) * sizeof *v);
    if (!v)
        return -1;
    l->v = v;
    size_t len = strlen(prefix) + strlen(value) + 1;
    if (!(l->v[l->n] = malloc(len)))
        return -1;
    snprintf(l->v[l->n], len, "%s%s", prefix, value);
    l->n++;
    return 0;
}

static void setlist_free(setlist *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
}

/* The default report folder: path without a trailing .h5, plus _report. */
static int report_dir(const char *path, char *out, size_t n)
{
    size_t len = strlen(path);
    if (len > 3 && !strcmp(path + len - 3, ".h5"))
        len -= 3;
    int w = snprintf(out, n, "%.*s_report", (int)len, path);
    return w < 0 || (size_t)w >= n ? -1 : 0;
}

/* Loads paths[0..n), builds their report into dir_opt (NULL: the first path's default)
 * and returns the exit code: 0, 1 when a figure failed or a file could not be written, 2
 * for bad input. */
static int build_report(const char *const *paths, int n, const char *dir_opt)
{
    fw_results *runs[2] = {NULL, NULL};
    char dir[PATH_MAX], sub[PATH_MAX + 16], err[1024];
    int rc = EXIT_BAD_INPUT;
    for (int i = 0; i < n; i++)
        if (fw_results_load(paths[i], &runs[i], err, sizeof err) != FW_OK) {
            fprintf(stderr, "flywheel report: %s\n", err);
            goto done;
        }
    if (dir_opt ? snprintf(dir, sizeof dir, "%s", dir_opt) >= (int)sizeof dir
                : report_dir(paths[0], dir, sizeof dir) < 0) {
        fprintf(stderr, "flywheel report: report folder name too long\n");
        goto done;
    }
    static const char *const subdirs[] = {"", "/figures", "/data"};
    for (size_t k = 0; k < sizeof subdirs / sizeof *subdirs; k++) {
        snprintf(sub, sizeof sub, "%s%s", dir, subdirs[k]);
        if (mkdir_p(sub) < 0) {
            fprintf(stderr, "flywheel report: cannot create folder %s: %s\n", sub, strerror(errno));
            goto done;
        }
    }
    fw_report_opts o = {.dir = dir, .gnuplot = NULL, .err = stderr};
    fw_report_summary sum;
    if (fw_report_build((const fw_results *const *)runs, n, &o, &sum) != FW_OK) {
        rc = EXIT_RUN_FAILED;
        goto done;
    }
    if (sum.n_failed)
        fprintf(stderr, "flywheel report: %d of %d figures could not be drawn; the rest is in %s/\n",
                sum.n_failed, sum.n_figures, dir);
    printf("report: %s/index.html (%d figure%s)\n", dir, sum.n_figures - sum.n_failed,
           sum.n_figures - sum.n_failed == 1 ? "" : "s");
    rc = sum.n_failed ? EXIT_RUN_FAILED : 0;
done:
    for (int i = 0; i < n; i++)
        fw_results_destroy(runs[i]);
    return rc;
}

static int cmd_report(int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, 0, 'o'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *dir = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o': dir = optarg; break;
        case 'h': fputs(usage_report, stdout); return 0;
        default: fputs(usage_report, stderr); return EXIT_BAD_INPUT;
        }
    }
    int n = argc - optind;
    if (n < 1 || n > 2) {
        fprintf(stderr, "flywheel report: expected one or two RESULT.h5 files\n\n%s", usage_report);
        return EXIT_BAD_INPUT;
    }
    return build_report((const char *const *)argv + optind, n, dir);
}

/* Nonzero (with the message) when path's partial file, left by an unfinished run, is there:
 * a new run would replace it (its first write), so it needs --force. */
static int unfinished_partial(const char *path)
{
    char partial[PATH_MAX + 16], what[256] = "an unfinished run";
    struct stat st;
    snprintf(partial, sizeof partial, "%s.partial", path);
    if (lstat(partial, &st) < 0)
        return 0;
    fw_results *r = NULL;
    char err[256];
    if (fw_results_load(partial, &r, err, sizeof err) == FW_OK) {
        const fw_results_value *s = fw_results_attr(&r->root, "status");
        const fw_results_value *d = fw_results_attr(&r->root, "days_completed");
        const fw_results_value *p = fw_results_attr(&r->root, "days_planned");
        if (s && s->is_text && d && p && !d->is_text && !p->is_text)
            snprintf(what, sizeof what, "an unfinished run (status %.40s, %.0f of %.0f days finished)", s->text, d->num,
                     p->num);
        fw_results_destroy(r);
    }
    size_t len = strlen(path);
    int stem = len > 3 && !strcmp(path + len - 3, ".h5") ? (int)(len - 3) : (int)len;
    fprintf(stderr, "flywheel run: %s holds %s, which this run would replace. To continue it, flywheel run "
                    "--resume %s; to keep it, move it away first (e.g. mv %s %.*s.unfinished.h5) or write this "
                    "run elsewhere with -o FILE; to replace it, pass --force\n", partial, what, partial, partial,
            stem, path);
    return 1;
}

/* Nonzero (with the message) when the run's up-front memory estimate exceeds
 * output.max_memory (MiB; 0: 90% of physical memory): refused before anything is allocated,
 * where it would otherwise allocate until the system gives out (50M users take ~48 GB just
 * to generate). */
static void fmt_size(char *buf, size_t n, double bytes)
{
    const double MiB = 1024.0 * 1024.0;
    if (bytes >= 1024.0 * MiB)
        snprintf(buf, n, "%.2f GiB", bytes / (1024.0 * MiB));
    else
        snprintf(buf, n, "%.0f MiB", bytes / MiB);
}

static int memory_refused(const char *cmd, const fw_scenario *sc, int threads)
{
    char c_est[32], c_limit[32];
    double est = fw_run_memory_estimate(sc, threads), limit;
    int by_default = sc->output.max_memory == 0;
    if (by_default) {
        long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
        if (pages <= 0 || page <= 0)
            return 0;   /* unknown: nothing to hold it to */
        limit = 0.9 * (double)pages * (double)page;
    } else {
        limit = (double)sc->output.max_memory * 1024.0 * 1024.0;
    }
    /* Note ids are 32-bit: a run that could publish more notes than they hold is refused too
     * (an upper bound: every user active and posting every day). */
    double people, notes;
    fw_run_population(sc, &people, &notes);
    if (notes >= (double)UINT32_MAX) {
        fprintf(stderr, "flywheel %s: this run could hold up to %.3g notes (world.n_notes + world.notes_per_dau x "
                        "world.n_users x (days + world.warmup_days)), more than note ids can number (%u): make the world smaller or the "
                        "run shorter\n", cmd, notes, UINT32_MAX);
        return 1;
    }
    if (est <= limit)
        return 0;
    fmt_size(c_est, sizeof c_est, est);
    fmt_size(c_limit, sizeof c_limit, limit);
    uint32_t groups = fw_scenario_learners(sc);
    fprintf(stderr, "flywheel %s: this run would need about %s of memory by an up-front estimate (%.0f users "
                    "with the run's arrivals, %u notes, %d thread%s%s), more than output.max_memory allows (%s%s): make the world "
                    "smaller (world.n_users, world.n_notes), use fewer threads%s, or raise output.max_memory (MiB)\n",
            cmd, c_est, people, sc->world.n_notes, threads, threads == 1 ? "" : "s",
            groups > 1 ? ", learned state per arm in learner groups" : "", c_limit,
            by_default ? ": 90% of physical memory" : "",
            groups > 1 ? " or fewer learner groups (experiment.learners_per_arm)" : "");
    return 1;
}

/* Whether the threads asked for (-t, else OMP_NUM_THREADS) exceed what a run of s uses. */
static int threads_capped(int requested, int used)
{
    if (requested > 0)
        return requested > used;
    const char *env = getenv("OMP_NUM_THREADS");
    return env && *env && atol(env) > used;
}

/* FLYWHEEL_PLANT_DELAY=STAGE=NS: a busy wait planted in an engine stage (benchmark tests).
 * Returns -1 (message printed) when set but malformed. */
static int plant_from_env(fw_run_opts *o)
{
    const char *v = getenv("FLYWHEEL_PLANT_DELAY");
    o->plant_stage = 0;
    o->plant_ns = 0;
    if (!v || !*v)
        return 0;
    const char *eq = strchr(v, '=');
    char *end = NULL;
    long long ns = eq ? strtoll(eq + 1, &end, 10) : -1;
    for (int s = 0; eq && s < FW_STAGE__COUNT; s++)
        if (strlen(fw_stage_name(s)) == (size_t)(eq - v) && !strncmp(v, fw_stage_name(s), (size_t)(eq - v)) &&
            (s == FW_STAGE_FEED_RECALL || s == FW_STAGE_FEED_RANK || s == FW_STAGE_LOG || s == FW_STAGE_END_TICK) &&
            end && !*end && ns > 0) {
            o->plant_stage = s;
            o->plant_ns = ns;
            fprintf(stderr, "flywheel: FLYWHEEL_PLANT_DELAY: %lld ns planted in every %s call\n", ns, fw_stage_name(s));
            return 0;
        }
    fprintf(stderr, "flywheel: FLYWHEEL_PLANT_DELAY='%s': expected STAGE=NS with STAGE one of feed_recall, "
                    "feed_rank, log, end_tick and NS > 0 nanoseconds\n", v);
    return -1;
}

/* ---- resume (issue 21) ---------------------------------------------------------------- */

/* The scenario a checkpoint recorded: its text as loaded from its path, its overrides, then
 * the extra assignments (-s, -d, --set) given with --resume; as load_scenario. */
static int load_ckpt_scenario(const fw_ckpt *ck, char **sets, int n_sets, fw_scenario *sc)
{
    fw_diag diag = {{0}};
    const char *text = ck->scenario_text ? ck->scenario_text : "";
    if (fw_scenario_load_mem(ck->scenario_path && *ck->scenario_path ? ck->scenario_path : "(defaults)", text,
                             strlen(text), sc, &diag) != FW_OK) {
        fprintf(stderr, "flywheel run --resume: the checkpoint's scenario: %s\n", diag.msg);
        return -1;
    }
    if (!*text && !(ck->scenario_path && *ck->scenario_path)) {   /* a run of pure defaults */
        free(sc->source_path);
        sc->source_path = NULL;
    }
    for (uint32_t k = 0; k < ck->n_overrides + (uint32_t)n_sets; k++) {
        const char *a = k < ck->n_overrides ? ck->overrides[k] : sets[k - ck->n_overrides];
        if (fw_scenario_set(sc, a, &diag) != FW_OK) {
            fprintf(stderr, "flywheel run --resume: %s\n", diag.msg);
            fw_scenario_fini(sc);
            return -1;
        }
    }
    if (fw_scenario_finish(sc, &diag) != FW_OK || fw_scenario_check_plugins(sc, &diag) != FW_OK) {
        fprintf(stderr, "flywheel run --resume: %s\n", diag.msg);
        fw_scenario_fini(sc);
        return -1;
    }
    return 0;
}

/* Checks that partial can be resumed and loads what it needs: the checkpoint beside it (*ck),
 * the scenario (*sc, from scen when given, else the checkpoint's), the result path and the
 * days the partial holds. Prints why not and returns -1 (bad input: exit 2). */
static int prepare_resume(const char *partial, const char *scen, char **sets, int n_sets, fw_scenario *sc,
                          char *path, size_t path_len, fw_ckpt *ck, uint32_t *days)
{
    char why[512], ckpath[PATH_MAX + 16];
    size_t len = strlen(partial);
    fw_results *r = NULL;
    int complete = 0;
    double done = -1;
    if (fw_results_load(partial, &r, why, sizeof why) == FW_OK) {
        const fw_results_value *st = fw_results_attr(&r->root, "status");
        const fw_results_value *d = fw_results_attr(&r->root, "days_completed");
        complete = st && st->is_text && !strcmp(st->text, "complete");
        if (d && !d->is_text)
            done = d->num;
        fw_results_destroy(r);
    } else if (access(partial, F_OK) < 0) {
        fprintf(stderr, "flywheel run --resume: %s: %s\n", partial, strerror(errno));
        return -1;
    } else {
        fprintf(stderr, "flywheel run --resume: %s is not a readable result file: %s\n", partial, why);
        return -1;
    }
    if (complete) {
        fprintf(stderr, "flywheel run --resume: %s is a complete result (status complete): there is nothing to "
                        "resume\n", partial);
        return -1;
    }
    if (len <= 8 || strcmp(partial + len - 8, ".partial") != 0) {
        fprintf(stderr, "flywheel run --resume: expected the FILE.partial an unfinished run left, got %s\n", partial);
        return -1;
    }
    if (len - 8 >= path_len) {
        fprintf(stderr, "flywheel run --resume: path too long: %s\n", partial);
        return -1;
    }
    memcpy(path, partial, len - 8);
    path[len - 8] = '\0';
    if (fw_run_ckpt_path(path, ckpath, sizeof ckpath) < 0) {
        fprintf(stderr, "flywheel run --resume: path too long: %s\n", partial);
        return -1;
    }
    fw_err e = fw_ckpt_read(ckpath, ck, why, sizeof why);
    if (e == FW_ERR_IO) {
        fprintf(stderr, "flywheel run --resume: no checkpoint for %s: cannot read %s (%s); the run finished no "
                        "day, or was started by a flywheel that writes none, and cannot be resumed\n", partial,
                ckpath, why);
        return -1;
    }
    if (e != FW_OK) {
        fprintf(stderr, "flywheel run --resume: the checkpoint %s is corrupt: %s\n", ckpath,
                e == FW_ERR_PARSE ? why : fw_err_str(e));
        fw_ckpt_fini(ck);
        return -1;
    }
    if (strcmp(ck->version, FW_VERSION) || strcmp(ck->git_revision, FW_GIT_REVISION)) {
        fprintf(stderr, "flywheel run --resume: %s was made by flywheel %s (revision %s); this is flywheel %s "
                        "(revision %s), which may not reproduce its days: resume it with that version\n", ckpath,
                ck->version, ck->git_revision, FW_VERSION, FW_GIT_REVISION);
        goto bad;
    }
    if (!(done == ck->days_done || done == ck->days_done + 1.0)) {
        fprintf(stderr, "flywheel run --resume: %s holds %.0f finished days but its checkpoint %s names %u: they "
                        "are not from the same run\n", partial, done, ckpath, ck->days_done);
        goto bad;
    }
    *days = (uint32_t)done;
    if (scen ? load_scenario(scen, sets, n_sets, sc) : load_ckpt_scenario(ck, sets, n_sets, sc))
        goto bad;
    uint64_t hash = 0;
    if (fw_run_scenario_hash(sc, &hash) != FW_OK) {
        fprintf(stderr, "flywheel run --resume: out of memory\n");
        goto bad_sc;
    }
    if (sc->seed != ck->seed) {
        fprintf(stderr, "flywheel run --resume: seed %llu, but %s was run with seed %llu\n",
                (unsigned long long)sc->seed, partial, (unsigned long long)ck->seed);
        goto bad_sc;
    }
    if (sc->days != ck->days_planned) {
        fprintf(stderr, "flywheel run --resume: %u days, but %s was planned for %u\n", sc->days, partial,
                ck->days_planned);
        goto bad_sc;
    }
    if (hash != ck->scenario_hash || *days > sc->days) {
        fprintf(stderr, "flywheel run --resume: %s was made from another scenario: the scenario %s resolves "
                        "differently from the one the run used (compare with its scenario_resolved attribute)\n",
                partial, scen ? scen : "in the checkpoint");
        goto bad_sc;
    }
    return 0;
bad_sc:
    fw_scenario_fini(sc);
bad:
    fw_ckpt_fini(ck);
    return -1;
}

/* FLYWHEEL_STOP_AFTER_DAY=N: the run stops once N days are finished, as if a signal came then
 * (tests of resume, which need a stop at a day rather than at a time). -1 when malformed. */
static int stop_from_env(fw_run_opts *o)
{
    const char *v = getenv("FLYWHEEL_STOP_AFTER_DAY");
    if (!v || !*v)
        return 0;
    char *end;
    long n = strtol(v, &end, 10);
    if (*end || n < 1 || n > 1000000) {
        fprintf(stderr, "flywheel: FLYWHEEL_STOP_AFTER_DAY='%s': expected a number of days in [1, 1000000]\n", v);
        return -1;
    }
    o->stop_after_days = (uint32_t)n;
    return 0;
}

/* FLYWHEEL_SESSION_COSTS=FILE: each recorded tick's session costs into FILE, for
 * bench/schedule.py (README, "Load balance of the ticks"). -1 (message printed) when it
 * cannot be opened, or under several ranks (each would time only its own users). */
static int costs_from_env(fw_run_opts *o)
{
    const char *v = getenv("FLYWHEEL_SESSION_COSTS");
    if (!v || !*v)
        return 0;
    if (fw_mpi_size() > 1) {
        if (fw_mpi_rank() == 0)
            fprintf(stderr, "flywheel: FLYWHEEL_SESSION_COSTS: not under several ranks (mpirun -np %d): each rank "
                            "runs only its own users; record the costs in one process\n", fw_mpi_size());
        return -1;
    }
    if (!(o->session_costs = fopen(v, "wb"))) {
        fprintf(stderr, "flywheel: FLYWHEEL_SESSION_COSTS='%s': cannot open it for writing: %s\n", v, strerror(errno));
        return -1;
    }
    return 0;
}

static int cmd_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, 0, 'o'}, {"threads", required_argument, 0, 't'},
        {"seed", required_argument, 0, 's'},   {"days", required_argument, 0, 'd'},
        {"set", required_argument, 0, 'S'},    {"quiet", no_argument, 0, 'q'},
        {"progress", no_argument, 0, 'P'},     {"help", no_argument, 0, 'h'},
        {"replicates", required_argument, 0, 'R'}, {"report", no_argument, 0, 'r'},
        {"force", no_argument, 0, 'F'},        {"resume", required_argument, 0, 'U'},
        {"no-snapshot", no_argument, 0, 'N'}, {"snapshot-foreground", no_argument, 0, 'W'},
        {0, 0, 0, 0}};
    const char *out_opt = NULL, *resume = NULL;
    int threads = 0, quiet = 0, force_progress = 0, report = 0, force = 0, c, rc = EXIT_BAD_INPUT;
    int replicates_given = 0, no_snapshot = 0, snapshot_foreground = 0;
    uint32_t replicates = 1, resume_days = 0;
    fw_ckpt ck = {0};
    setlist sets = {0};
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:t:s:d:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out_opt = optarg; break;
        case 't': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > 4096) {
                fprintf(stderr, "flywheel run: --threads: expected an integer in [1, 4096], got '%s'\n", optarg);
                goto done;
            }
            threads = (int)v;
            break;
        }
        case 'R': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > 100000) {
                fprintf(stderr, "flywheel run: --replicates: expected an integer in [1, 100000], got '%s'\n", optarg);
                goto done;
            }
            replicates = (uint32_t)v;
            replicates_given = 1;
            break;
        }
        case 's': if (setlist_add(&sets, "seed=", optarg)) goto done; break;
        case 'd': if (setlist_add(&sets, "days=", optarg)) goto done; break;
        case 'S': if (setlist_add(&sets, "", optarg)) goto done; break;
        case 'q': quiet = 1; break;
        case 'P': force_progress = 1; break;
        case 'r': report = 1; break;
        case 'F': force = 1; break;
        case 'U': resume = optarg; break;
        case 'N': no_snapshot = 1; break;
        case 'W': snapshot_foreground = 1; break;
        case 'h': fputs(usage_run, stdout); rc = 0; goto done;
        default: fputs(usage_run, stderr); goto done;
        }
    }
    if (resume ? optind < argc - 1 : optind != argc - 1) {
        fprintf(stderr, "flywheel run: expected one SCENARIO file\n\n%s", usage_run);
        goto done;
    }
    if (resume && fw_mpi_size() > 1) {
        if (fw_mpi_rank() == 0)
            fprintf(stderr, "flywheel run --resume: not under several ranks (mpirun -np %d); resume %s in one "
                            "process, or run it again under mpirun\n", fw_mpi_size(), resume);
        goto done;
    }
    if (resume && (out_opt || force)) {
        fprintf(stderr, "flywheel run --resume: the result goes beside %s; -o and --force do not apply\n", resume);
        goto done;
    }
    fw_scenario sc;
    char path[PATH_MAX];
    if (resume) {
        if (prepare_resume(resume, optind < argc ? argv[optind] : NULL, sets.v, sets.n, &sc, path, sizeof path, &ck,
                           &resume_days))
            goto done;
        if (replicates_given && replicates != (ck.replicates ? ck.replicates : 1)) {
            fprintf(stderr, "flywheel run --resume: --replicates %u, but %s was run with %u\n", replicates, resume,
                    ck.replicates);
            fw_scenario_fini(&sc);
            goto done;
        }
        replicates = ck.replicates ? ck.replicates : 1;
    } else if (load_scenario(argv[optind], sets.v, sets.n, &sc)) {
        goto done;
    }
    int run_threads = fw_run_threads(&sc, threads);
    /* Several ranks: rank 0 alone writes, so it alone asks about an unfinished partial file. */
    if (memory_refused("run", &sc, run_threads) ||
        (!resume && (output_path(&sc, out_opt, path, sizeof path) ||
                     (!force && fw_mpi_rank() == 0 && unfinished_partial(path))))) {
        fw_scenario_fini(&sc);
        goto done;
    }
    if (!quiet && threads_capped(threads, run_threads))
        fprintf(stderr, "flywheel run: using %d thread%s: at most %d, and one per %d users (%u users)\n", run_threads,
                run_threads == 1 ? "" : "s", FW_RUN_MAX_THREADS, FW_RUN_USERS_PER_THREAD, sc.world.n_users);
    catch_stop_signals();
    fw_run_opts o = {.output_path = path, .threads = run_threads,
                     .progress = !quiet && fw_mpi_rank() == 0 && (force_progress || isatty(STDERR_FILENO)),
                     .progress_log = !isatty(STDERR_FILENO),
                     .stop = &stop_requested, .out = quiet ? NULL : stdout,
                     .replicates = replicates, .resume = resume ? &ck : NULL, .resume_days = resume_days,
                     .no_snapshot = no_snapshot, .snapshot_foreground = snapshot_foreground};
    if (plant_from_env(&o) || stop_from_env(&o) || costs_from_env(&o)) {
        fw_scenario_fini(&sc);
        goto done;
    }
    fw_run_report rep;
    fw_err e = fw_run(&sc, &o, &rep);
    if (o.session_costs && fclose(o.session_costs) != 0)
        fprintf(stderr, "flywheel: warning: FLYWHEEL_SESSION_COSTS: cannot write: %s\n", strerror(errno));
    mpi_ended_together = rep.stopped_together;
    /* Several ranks: rank 0 records, and alone says what was kept. */
    if (e == FW_ERR_INTERRUPT && rep.result_path[0] && fw_mpi_rank() == 0)
        fprintf(stderr, "flywheel: interrupted after %u finished day%s; partial result kept at %s%s%s%s\n",
                rep.days_done, rep.days_done == 1 ? "" : "s", rep.result_path,
                rep.days_done ? " (continue it: flywheel run --resume " : "", rep.days_done ? rep.result_path : "",
                rep.days_done ? ")" : "");
    else if (e == FW_ERR_INTERRUPT && resume && fw_mpi_rank() == 0)
        fprintf(stderr, "flywheel: interrupted before the resumed run wrote a day; %s is left as it was\n", resume);
    else if (e == FW_ERR_INTERRUPT && fw_mpi_rank() == 0)
        fprintf(stderr, "flywheel: interrupted before the first write (generating the world or running "
                        "replicates); nothing was recorded\n");
    /* FW_ERR_RANGE out of a run: the engine refused what the scenario's knobs ask of its books
     * (money past what 64-bit counts hold; the message names the knobs): bad input too. */
    rc = e == FW_OK ? 0 : rep.refused || e == FW_ERR_RANGE ? EXIT_BAD_INPUT : EXIT_RUN_FAILED;
    fw_scenario_fini(&sc);
    if (rc == 0 && report && fw_mpi_rank() == 0) {
        const char *one[] = {rep.result_path};
        rc = build_report(one, 1, NULL);
    }
done:
    fw_ckpt_fini(&ck);
    setlist_free(&sets);
    return rc;
}

static int parse_pct(const char *opt, const char *text, double lo, double hi, double *out)
{
    char *end;
    double v = strtod(text, &end);
    if (*end || !(v >= lo && v <= hi)) {
        fprintf(stderr, "flywheel bench: %s: expected a number in [%g, %g], got '%s'\n", opt, lo, hi, text);
        return -1;
    }
    *out = v;
    return 0;
}

/* The fewest runs k (at least 3) for which k runs against k can give p < alpha; 0: none <= 1000. */
static uint32_t runs_symmetric(double alpha)
{
    for (uint32_t k = 3; k <= 1000; k++)
        if (fw_bench_p_min(k, k) < alpha)
            return k;
    return 0;
}

/* Refuses (1, with the message) a run count whose timing test could never flag anything at
 * --alpha: against a baseline of m runs, or, when saving a baseline, against as many runs again. */
static int check_runs(long repeat, const fw_bench *base, int saving, const fw_bench_opts *bo)
{
    if (bo->no_timings || (!base && !saving))
        return 0;
    uint32_t n = (uint32_t)repeat, m = base ? base->n_rep : n;
    if (base && m < 3) {
        fprintf(stderr, "flywheel bench: the baseline has %u run%s and timings need 3 on each side: save a "
                        "baseline with -n %u or more, or pass --no-timings to judge only work and quality\n",
                m, m == 1 ? "" : "s", runs_symmetric(bo->alpha));
        return 1;
    }
    double p = fw_bench_p_min(n, m);
    if (n >= 3 && p < bo->alpha)
        return 0;
    uint32_t need = base ? fw_bench_runs_needed(m, bo->alpha, 1000) : runs_symmetric(bo->alpha);
    fprintf(stderr, "flywheel bench: -n %ld cannot flag a timing regression at --alpha %g: %u run%s against %u "
                    "give%s p >= %.3g%s; ", repeat, bo->alpha, n, n == 1 ? "" : "s", m, n == 1 ? "s" : "", p,
            n < 3 ? " (and timings need 3 runs)" : "");
    if (need)
        fprintf(stderr, "use -n %u or more", need);
    else
        fprintf(stderr, "no -n up to 1000 can");
    fprintf(stderr, ", or pass --no-timings to judge only work and quality\n");
    return 1;
}

/* Ctrl-C in bench after done repetitions: the finished ones are written to out_path (no
 * comparison: too few runs were made to judge), or nothing when none finished. Returns the
 * exit code (1: the bench did not complete). */
static int save_interrupted(fw_bench *now, uint32_t done, const char *out_path)
{
    char errbuf[1024];
    if (done == 0) {
        fprintf(stderr, "flywheel bench: interrupted before the first run finished; nothing recorded\n");
        return EXIT_RUN_FAILED;
    }
    now->n_rep = done;   /* the record's rows hold the first done repetitions */
    if (fw_bench_save(out_path, now, NULL, errbuf, sizeof errbuf) != FW_OK) {
        fprintf(stderr, "flywheel bench: interrupted after %u finished run%s, which could not be kept: %s\n", done,
                done == 1 ? "" : "s", errbuf);
        return EXIT_RUN_FAILED;
    }
    fprintf(stderr, "flywheel bench: interrupted; the %u finished run%s recorded in %s (not compared, no baseline "
                    "saved)\n", done, done == 1 ? " is" : "s are", out_path);
    return EXIT_RUN_FAILED;
}

static int cmd_bench(int argc, char **argv)
{
    static const struct option opts[] = {
        {"repeat", required_argument, 0, 'n'},       {"baseline", required_argument, 0, 'B'},
        {"save-baseline", required_argument, 0, 'W'}, {"tolerance", required_argument, 0, 'T'},
        {"alpha", required_argument, 0, 'A'},        {"work-tolerance", required_argument, 0, 'K'},
        {"quality-tolerance", required_argument, 0, 'Q'}, {"output", required_argument, 0, 'o'},
        {"threads", required_argument, 0, 't'},      {"set", required_argument, 0, 'S'},
        {"quiet", no_argument, 0, 'q'},              {"help", no_argument, 0, 'h'},
        {"no-timings", no_argument, 0, 'N'},         {0, 0, 0, 0}};
    const char *base_path = NULL, *save_path = NULL, *out_opt = NULL;
    fw_bench_opts bo = {.tolerance = 0.20, .alpha = 0.01, .work_tolerance = 0.0, .quality_tolerance = 0.0};
    double pct;
    long repeat = 5, threads = 0;
    int quiet = 0, c, rc = EXIT_BAD_INPUT, have_base = 0, have_now = 0, have_sc = 0;
    setlist sets = {0};
    fw_scenario sc;
    fw_bench base, now;
    fw_bench_cmp cmp = {0};
    char *resolved = NULL, tmpdir[PATH_MAX] = "", errbuf[1024];
    size_t resolved_len = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "n:o:t:qh", opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'n':
            repeat = strtol(optarg, &end, 10);
            if (*end || repeat < 1 || repeat > 1000) {
                fprintf(stderr, "flywheel bench: --repeat: expected an integer in [1, 1000], got '%s'\n", optarg);
                goto done;
            }
            break;
        case 't':
            threads = strtol(optarg, &end, 10);
            if (*end || threads < 1 || threads > 4096) {
                fprintf(stderr, "flywheel bench: --threads: expected an integer in [1, 4096], got '%s'\n", optarg);
                goto done;
            }
            break;
        case 'B': base_path = optarg; break;
        case 'W': save_path = optarg; break;
        case 'o': out_opt = optarg; break;
        case 'T': if (parse_pct("--tolerance", optarg, 0, 1000, &pct)) goto done; bo.tolerance = pct / 100; break;
        case 'K': if (parse_pct("--work-tolerance", optarg, 0, 1000, &pct)) goto done; bo.work_tolerance = pct / 100; break;
        case 'Q': if (parse_pct("--quality-tolerance", optarg, 0, 1000, &pct)) goto done; bo.quality_tolerance = pct / 100; break;
        case 'A': if (parse_pct("--alpha", optarg, 1e-9, 0.5, &bo.alpha)) goto done; break;
        case 'S': if (setlist_add(&sets, "", optarg)) goto done; break;
        case 'q': quiet = 1; break;
        case 'N': bo.no_timings = 1; break;
        case 'h': fputs(usage_bench, stdout); rc = 0; goto done;
        default: fputs(usage_bench, stderr); goto done;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "flywheel bench: expected one SCENARIO file\n\n%s", usage_bench);
        goto done;
    }
    fw_run_opts o = {.threads = (int)threads, .out = NULL, .stop = &stop_requested, .replicates = 1};
    if (plant_from_env(&o))
        goto done;
    if (load_scenario(argv[optind], sets.v, sets.n, &sc))
        goto done;
    have_sc = 1;
    /* The threads every repetition runs with (a baseline must match them), capped. */
    int run_threads = fw_run_threads(&sc, (int)threads);
    if (memory_refused("bench", &sc, run_threads))
        goto done;
    char out_path[PATH_MAX];
    if (out_opt) {
        if (output_path(&sc, out_opt, out_path, sizeof out_path))
            goto done;
    } else {
        char def[PATH_MAX];
        if ((size_t)snprintf(def, sizeof def, "%s/%s_bench.h5", sc.output.dir, sc.name) >= sizeof def ||
            output_path(&sc, def, out_path, sizeof out_path))
            goto done;
    }
    if (base_path) {
        if (fw_bench_load(base_path, &base, errbuf, sizeof errbuf) != FW_OK) {
            fprintf(stderr, "flywheel bench: %s\n", errbuf);
            goto done;
        }
        have_base = 1;
    }
    if (check_runs(repeat, have_base ? &base : NULL, save_path != NULL, &bo))
        goto done;
    FILE *mem = open_memstream(&resolved, &resolved_len);
    if (!mem) {
        fprintf(stderr, "flywheel bench: out of memory\n");
        rc = EXIT_RUN_FAILED;
        goto done;
    }
    fw_scenario_write_yaml(&sc, mem, 0);
    fclose(mem);
    /* A baseline fixes the threads: this run must use as many. */
    if (have_base) {
        char *base_now = strcmp(base.scenario_resolved, resolved) != 0 ? reresolve(base.scenario_resolved) : NULL;
        int differ = strcmp(base.scenario_resolved, resolved) != 0 && (!base_now || strcmp(base_now, resolved) != 0);
        free(base_now);
        if (differ) {
            fprintf(stderr, "flywheel bench: %s was recorded for a different scenario ('%s'; the resolved "
                            "knobs differ): compare like with like, or save a new baseline\n",
                    base_path, base.scenario_name);
            goto done;
        }
        if (base.threads != run_threads) {
            fprintf(stderr, "flywheel bench: %s was recorded with %d threads, this run would use %d: "
                            "pass -t %d\n", base_path, base.threads, run_threads, base.threads);
            goto done;
        }
    }
    o.threads = run_threads;
    const char *tmp_root = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/flywheel-bench-XXXXXX", tmp_root && *tmp_root ? tmp_root : "/tmp");
    if (!mkdtemp(tmpdir)) {
        fprintf(stderr, "flywheel bench: cannot create a temporary folder under %s: %s\n",
                tmp_root && *tmp_root ? tmp_root : "/tmp", strerror(errno));
        tmpdir[0] = 0;
        rc = EXIT_RUN_FAILED;
        goto done;
    }
    rc = EXIT_RUN_FAILED;
    if (fw_bench_init(&now, (uint32_t)repeat, sc.name, resolved, FW_VERSION, FW_GIT_REVISION, sc.seed,
                      run_threads) != FW_OK)
        goto done;
    have_now = 1;
    catch_stop_signals();
    if (!quiet)
        fprintf(stderr, "flywheel bench: %s, %ld run%s, %d thread%s%s%s\n", sc.name, repeat,
                repeat == 1 ? "" : "s", run_threads, run_threads == 1 ? "" : "s",
                have_base ? ", against " : "", have_base ? base_path : "");
    for (long k = 0; k < repeat; k++) {
        char path[PATH_MAX + 32];
        snprintf(path, sizeof path, "%s/run%ld.h5", tmpdir, k);
        o.output_path = path;
        fw_run_report rr;
        fw_err e = fw_run(&sc, &o, &rr);
        if (e != FW_OK) {
            unlink(path);
            char partial[PATH_MAX + 48];
            snprintf(partial, sizeof partial, "%s.partial", path);
            unlink(partial);
            snprintf(partial, sizeof partial, "%s.ckpt", path);   /* the resume checkpoint (issue 21) */
            unlink(partial);
            if (e == FW_ERR_INTERRUPT)
                rc = save_interrupted(&now, (uint32_t)k, out_path);
            goto done;
        }
        fw_results *r = NULL;
        if (fw_results_load(path, &r, errbuf, sizeof errbuf) != FW_OK) {
            fprintf(stderr, "flywheel bench: %s\n", errbuf);
            unlink(path);
            goto done;
        }
        fw_err ce = fw_bench_collect(&now, (uint32_t)k, r, &rr);
        fw_results_destroy(r);
        unlink(path);
        if (ce != FW_OK) {
            fprintf(stderr, "flywheel bench: out of memory\n");
            goto done;
        }
        if (!quiet)
            fprintf(stderr, "  run %ld/%ld: %.1f s, %.0f user-sessions/s, %.0f impressions/s/core\n", k + 1, repeat,
                    rr.wall_s, rr.sim_s > 0 ? rr.sessions / rr.sim_s : 0.0, fw_run_impressions_per_core_s(&rr));
    }
    if (fw_bench_compare(have_base ? &base : NULL, &now, &bo, &cmp) != FW_OK) {
        fprintf(stderr, "flywheel bench: out of memory\n");
        goto done;
    }
    if (have_base)
        printf("flywheel bench: %s, %ld runs now vs %u in %s (git %s); timings: tolerance %g%%, alpha %g\n",
               sc.name, repeat, base.n_rep, base_path, base.git_revision, 100 * bo.tolerance, bo.alpha);
    else
        printf("flywheel bench: %s, %ld runs (no baseline: medians only)\n", sc.name, repeat);
    fw_bench_print(&cmp, have_base, stdout);
    if (fw_bench_save(out_path, &now, &cmp, errbuf, sizeof errbuf) != FW_OK ||
        (save_path && fw_bench_save(save_path, &now, NULL, errbuf, sizeof errbuf) != FW_OK)) {
        fprintf(stderr, "flywheel bench: %s\n", errbuf);
        goto done;
    }
    printf("record: %s%s%s\n", out_path, save_path ? "; baseline saved: " : "", save_path ? save_path : "");
    rc = cmp.n_regressed ? EXIT_RUN_FAILED : 0;
    if (cmp.n_regressed)
        printf("flywheel bench: %u figure%s regressed\n", cmp.n_regressed, cmp.n_regressed == 1 ? "" : "s");
done:
    if (tmpdir[0])
        rmdir(tmpdir);
    fw_bench_cmp_fini(&cmp);
    if (have_now)
        fw_bench_fini(&now);
    if (have_base)
        fw_bench_fini(&base);
    if (have_sc)
        fw_scenario_fini(&sc);
    free(resolved);
    setlist_free(&sets);
    return rc;
}

static int cmd_validate(int argc, char **argv, int generate)
{
    static const struct option opts[] = {
        {"set", required_argument, 0, 'S'}, {"print", no_argument, 0, 'p'},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int c, print = 0, rc = EXIT_BAD_INPUT;
    const char *usage = generate ? usage_generate : usage_validate;
    setlist sets = {0};
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'S': if (setlist_add(&sets, "", optarg)) goto done; break;
        case 'p': print = 1; break;
        case 'h': fputs(usage, stdout); rc = 0; goto done;
        default: fputs(usage, stderr); goto done;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "flywheel: expected one SCENARIO file\n\n%s", usage);
        goto done;
    }
    fw_scenario sc;
    if (load_scenario(argv[optind], sets.v, sets.n, &sc))
        goto done;
    if (generate) {
        /* The run's estimate, though generation alone needs less: 50M users would otherwise
         * allocate until the system gives out. */
        rc = memory_refused("generate", &sc, 1) ? EXIT_BAD_INPUT
             : fw_run_generate_only(&sc, stdout) == FW_OK ? 0 : EXIT_RUN_FAILED;
    } else {
        if (print)
            fw_scenario_write_yaml(&sc, stdout, 1);
        printf("%s: ok (%u days, %u users, %u arm%s)\n", argv[optind], sc.days, sc.world.n_users,
               sc.n_arms, sc.n_arms == 1 ? "" : "s");
        rc = 0;
    }
    fw_scenario_fini(&sc);
done:
    setlist_free(&sets);
    return rc;
}

static int cmd_defaults(void)
{
    fw_scenario sc;
    if (fw_scenario_defaults(&sc) != FW_OK)
        return EXIT_RUN_FAILED;
    printf("# The built-in defaults: what a scenario gets for every key it leaves out. The\n"
           "# default scenario, scenarios/default.yaml, is these but for the platform's settings\n"
           "# (the recommender as the feed, warmed up, satiation, rates recalibrated under it):\n");
    for (size_t i = 0; i < fw_scenario_platform_n; i++)
        printf("#   --set %s\n", fw_scenario_platform[i]);
    printf("\n");
    fw_scenario_write_yaml(&sc, stdout, 1);
    fw_scenario_fini(&sc);
    return 0;
}

static int dispatch(int argc, char **argv);

/* Issue 21: under mpirun (an FW_MPI build) every rank runs main; only `run` is spread over
 * ranks. A rank that ends with an error ends the whole job with its status (MPI_Abort), so
 * no rank waits forever in a collective for one that left. */
int main(int argc, char **argv)
{
    fw_mpi_init(&argc, &argv);
    if (fw_mpi_size() > 1 && (argc < 2 || strcmp(argv[1], "run") != 0)) {
        if (fw_mpi_rank() == 0)
            fprintf(stderr, "flywheel: under mpirun only `flywheel run` runs (on several ranks); run '%s' in "
                            "one process\n", argc < 2 ? "" : argv[1]);
        else
            sleep(5);   /* rank 0 prints, then ends the job (below, on bad input) */
        fw_mpi_abort(EXIT_BAD_INPUT);
    }
    int rc = dispatch(argc, argv);
    if (rc != 0 && fw_mpi_size() > 1 && !mpi_ended_together) {
        /* Bad input is found by every rank alike, and most such messages are rank 0's alone:
         * the other ranks give rank 0 time to print it and end the job first (aborting first,
         * they could end rank 0 before it printed). Waiting in a collective instead could hang
         * where only some ranks found the input bad (a file missing on one host). */
        if (rc == EXIT_BAD_INPUT && fw_mpi_rank() > 0)
            sleep(5);
        fw_mpi_abort(rc);
    }
    fw_mpi_finalize();
    return rc;
}

static int dispatch(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage_main, stderr);
        return EXIT_BAD_INPUT;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        fputs(usage_main, stdout);
        return 0;
    }
    if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version")) {
        printf("flywheel %s (%s)\n", FW_VERSION, FW_GIT_REVISION);
        return 0;
    }
    if (!strcmp(cmd, "run"))
        return cmd_run(argc - 1, argv + 1);
    if (!strcmp(cmd, "validate"))
        return cmd_validate(argc - 1, argv + 1, 0);
    if (!strcmp(cmd, "generate"))
        return cmd_validate(argc - 1, argv + 1, 1);
    if (!strcmp(cmd, "bench"))
        return cmd_bench(argc - 1, argv + 1);
    if (!strcmp(cmd, "report"))
        return cmd_report(argc - 1, argv + 1);
    if (!strcmp(cmd, "defaults"))
        return cmd_defaults();
    fprintf(stderr, "flywheel: unknown command '%s'\n\n%s", cmd, usage_main);
    return EXIT_BAD_INPUT;
}
