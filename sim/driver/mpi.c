/* The message-passing layer (mpi.h): Open MPI when built with FW_MPI=ON, one process otherwise. */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "driver/mpi.h"

#ifdef FW_HAVE_MPI
#include <mpi.h>
#endif

static int g_rank = 0, g_size = 1, g_started = 0;
#ifdef FW_HAVE_MPI
/* The most bytes one MPI_Allgatherv receives: its counts and displacements are ints, so a
 * tick's exchange above this goes in rounds (fw_mpi_exchange). FLYWHEEL_MPI_ROUND_BYTES
 * (a smaller positive number) makes the rounds small enough for a test to reach them. */
static size_t g_round = (size_t)INT_MAX;
#endif

int fw_mpi_built(void)
{
#ifdef FW_HAVE_MPI
    return 1;
#else
    return 0;
#endif
}

#ifdef FW_HAVE_MPI
/* A rank that crashes ends with status 1 (run failed) rather than its signal, so mpirun,
 * which ends the job when one rank exits non-zero, says 1 as a one-process run would. */
static void on_crash(int sig)
{
    static const char msg[] = "\nflywheel: this rank crashed; ending the run (status 1)\n";
    ssize_t rc = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)rc;
    (void)sig;
    _exit(1);
}
#endif

void fw_mpi_init(int *argc, char ***argv)
{
#ifdef FW_HAVE_MPI
    /* Only under a launcher: a plain `flywheel run` of the MPI build stays one process with
     * no MPI start-up (Open MPI's singleton start probes the network). */
    if (!getenv("OMPI_COMM_WORLD_SIZE") && !getenv("PMIX_RANK") && !getenv("PMI_SIZE"))
        return;
    int provided = 0;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        fprintf(stderr, "flywheel: MPI_Init_thread failed\n");
        exit(1);
    }
    g_started = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    const char *round = getenv("FLYWHEEL_MPI_ROUND_BYTES");
    if (round) {
        char *end;
        unsigned long long v = strtoull(round, &end, 10);
        if (*round < '0' || *round > '9' || *end || v < (unsigned long long)g_size || v > (unsigned long long)INT_MAX) {
            fprintf(stderr, "flywheel: FLYWHEEL_MPI_ROUND_BYTES: expected a number of bytes from %d to %d, got '%s'\n",
                    g_size, INT_MAX, round);
            exit(2);
        }
        g_round = (size_t)v;
    }
    if (g_size > 1) {
        static const int crash[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
        for (size_t k = 0; k < sizeof crash / sizeof *crash; k++)
            signal(crash[k], on_crash);
    }
#else
    (void)argc;
    (void)argv;
#endif
}

void fw_mpi_finalize(void)
{
#ifdef FW_HAVE_MPI
    if (g_started)
        MPI_Finalize();
    g_started = 0;
#endif
}

_Noreturn void fw_mpi_abort(int code)
{
    fflush(stdout);
    fflush(stderr);
#ifdef FW_HAVE_MPI
    if (g_started && g_size > 1)
        MPI_Abort(MPI_COMM_WORLD, code);
#endif
    exit(code);
}

int fw_mpi_rank(void) { return g_rank; }
int fw_mpi_size(void) { return g_size; }
int fw_mpi_started(void) { return g_started; }

void *fw_bytes_add(fw_bytes *b, size_t n)
{
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 65536;
        while (cap < b->n + n)
            cap *= 2;
        unsigned char *v = realloc(b->v, cap);
        if (!v)
            return NULL;
        b->v = v;
        b->cap = cap;
    }
    void *at = b->v + b->n;
    b->n += n;
    return at;
}

void fw_bytes_free(fw_bytes *b)
{
    free(b->v);
    memset(b, 0, sizeof *b);
}

#ifdef FW_HAVE_MPI
/* A tick's exchange above g_round bytes: in rounds, each rank sending at most g_round / size
 * bytes of its message per round (so a round's counts and displacements fit MPI's ints), in
 * order, into a round buffer and from there to each rank's place at dst + at[r]. Every rank
 * knows every size, so all take the same number of rounds. counts and displs: [size] scratch. */
static fw_err exchange_rounds(const unsigned char *mine, size_t n, unsigned char *dst, const size_t *at, int *counts,
                              int *displs)
{
    size_t c = g_round / (size_t)g_size, most = 0;
    for (int r = 0; r < g_size; r++)
        most = at[r + 1] - at[r] > most ? at[r + 1] - at[r] : most;
    unsigned char *buf = malloc(c * (size_t)g_size);
    if (!buf)
        return FW_ERR_NOMEM;
    for (size_t off = 0; off < most; off += c) {
        int sum = 0;
        for (int r = 0; r < g_size; r++) {
            size_t len = at[r + 1] - at[r];
            counts[r] = len > off ? (int)(len - off < c ? len - off : c) : 0;
            displs[r] = sum;
            sum += counts[r];
        }
        MPI_Allgatherv(n > off ? mine + off : mine, counts[g_rank], MPI_BYTE, buf, counts, displs, MPI_BYTE,
                       MPI_COMM_WORLD);
        for (int r = 0; r < g_size; r++)
            memcpy(dst + at[r] + off, buf + displs[r], (size_t)counts[r]);
    }
    free(buf);
    return FW_OK;
}
#endif

fw_err fw_mpi_exchange(const void *mine, size_t n, int flag, fw_bytes *all, size_t *at, int *flag_any,
                       double *sync_s)
{
    *sync_s = 0.0;
    all->n = 0;
    at[0] = 0;
    if (g_size == 1 || !g_started) {
        at[1] = n;
        *flag_any = flag != 0;
        if (n == 0)
            return FW_OK;
        void *dst = fw_bytes_add(all, n);
        if (!dst)
            return FW_ERR_NOMEM;
        memcpy(dst, mine, n);
        return FW_OK;
    }
#ifdef FW_HAVE_MPI
    uint64_t hdr[2] = {n, (uint64_t)(flag != 0)};
    uint64_t *hdrs = malloc((size_t)g_size * 2 * sizeof *hdrs);
    int *counts = malloc((size_t)g_size * sizeof *counts), *displs = malloc((size_t)g_size * sizeof *displs);
    fw_err rc = FW_OK;
    if (!hdrs || !counts || !displs) {
        rc = FW_ERR_NOMEM;
        goto out;
    }
    double t0 = MPI_Wtime();
    MPI_Allgather(hdr, 2, MPI_UINT64_T, hdrs, 2, MPI_UINT64_T, MPI_COMM_WORLD);
    *sync_s = MPI_Wtime() - t0;
    *flag_any = 0;
    uint64_t total = 0;
    for (int r = 0; r < g_size; r++) {
        *flag_any |= hdrs[2 * r + 1] != 0;
        total += hdrs[2 * r];
        at[r + 1] = (size_t)total;
    }
    /* Every rank sees the same total, so every rank takes the same way out. */
    if (total > (uint64_t)SIZE_MAX / 2 || (!fw_bytes_add(all, (size_t)total) && total > 0)) {
        rc = FW_ERR_NOMEM;
        goto out;
    }
    if (total > g_round) {
        rc = exchange_rounds(mine, n, all->v, at, counts, displs);
        goto out;
    }
    for (int r = 0; r < g_size; r++) {   /* total <= g_round <= INT_MAX: every count fits */
        counts[r] = (int)(at[r + 1] - at[r]);
        displs[r] = (int)at[r];
    }
    MPI_Allgatherv(mine, (int)n, MPI_BYTE, all->v, counts, displs, MPI_BYTE, MPI_COMM_WORLD);
out:
    free(hdrs);
    free(counts);
    free(displs);
    return rc;
#else
    return FW_ERR_INTERNAL;
#endif
}

void fw_mpi_barrier(void)
{
#ifdef FW_HAVE_MPI
    if (g_started && g_size > 1)
        MPI_Barrier(MPI_COMM_WORLD);
#endif
}

#ifdef FW_HAVE_MPI
/* v[0..n) of es-byte integers of type t summed over the ranks in place, in rounds of at most
 * INT_MAX values (MPI's counts are ints; a per-user array may be longer). */
static void sum_in_place(void *v, size_t n, size_t es, MPI_Datatype t)
{
    if (!g_started || g_size <= 1)
        return;
    for (size_t at = 0; at < n;) {
        size_t k = n - at < (size_t)INT_MAX ? n - at : (size_t)INT_MAX;
        MPI_Allreduce(MPI_IN_PLACE, (char *)v + at * es, (int)k, t, MPI_SUM, MPI_COMM_WORLD);
        at += k;
    }
}
#endif

fw_err fw_mpi_sum_u64(uint64_t *v, size_t n)
{
#ifdef FW_HAVE_MPI
    sum_in_place(v, n, sizeof *v, MPI_UINT64_T);
#else
    (void)v;
    (void)n;
#endif
    return FW_OK;
}

fw_err fw_mpi_sum_u32(uint32_t *v, size_t n)
{
#ifdef FW_HAVE_MPI
    sum_in_place(v, n, sizeof *v, MPI_UINT32_T);
#else
    (void)v;
    (void)n;
#endif
    return FW_OK;
}
