/* Reads a result file with the HDF5 C API alone (no Flywheel code) and checks shapes,
 * provenance and identities: what a C user of the results would do. Exit 0 when fine. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>

static int failures;
#define CHECK(cond, ...)                                                                      \
    do {                                                                                      \
        if (!(cond)) {                                                                        \
            fprintf(stderr, "FAIL: " __VA_ARGS__);                                            \
            fputc('\n', stderr);                                                              \
            failures++;                                                                       \
        }                                                                                     \
    } while (0)

static long long attr_int(hid_t f, const char *name)
{
    long long v = -1;
    hid_t a = H5Aopen(f, name, H5P_DEFAULT);
    if (a >= 0) {
        H5Aread(a, H5T_NATIVE_LLONG, &v);
        H5Aclose(a);
    }
    return v;
}

/* Reads a 1-D uint64 dataset of length n; NULL (and a failure) when it is not that. */
static unsigned long long *read_u64(hid_t g, const char *name, hsize_t n)
{
    hid_t d = H5Dopen2(g, name, H5P_DEFAULT);
    if (d < 0) {
        CHECK(0, "dataset %s missing", name);
        return NULL;
    }
    hid_t s = H5Dget_space(d);
    hsize_t dims[2] = {0, 0};
    int rank = H5Sget_simple_extent_dims(s, dims, NULL);
    CHECK(rank == 1 && dims[0] == n, "%s: rank %d len %llu, expected %llu", name, rank,
          (unsigned long long)dims[0], (unsigned long long)n);
    unsigned long long *v = calloc(n + 1, sizeof *v);
    if (rank == 1 && dims[0] == n && n > 0)
        H5Dread(d, H5T_NATIVE_ULLONG, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
    H5Sclose(s);
    H5Dclose(d);
    return v;
}

static herr_t check_arm(hid_t days, const char *arm, const H5L_info_t *info, void *op)
{
    (void)info;
    hsize_t n = *(hsize_t *)op;
    if (strcmp(arm, "day") == 0)
        return 0;
    hid_t g = H5Gopen2(days, arm, H5P_DEFAULT);
    unsigned long long *imp = read_u64(g, "impressions", n), *opens = read_u64(g, "opens", n),
                       *likes = read_u64(g, "likes", n), *act = read_u64(g, "active_users", n),
                       *ses = read_u64(g, "sessions", n);
    for (hsize_t d = 0; imp && opens && likes && act && ses && d < n; d++) {
        CHECK(opens[d] <= imp[d], "%s day %llu: opens > impressions", arm, (unsigned long long)d);
        CHECK(likes[d] <= opens[d], "%s day %llu: likes > opens", arm, (unsigned long long)d);
        CHECK(act[d] > 0 && ses[d] >= act[d], "%s day %llu: sessions/active", arm, (unsigned long long)d);
    }
    free(imp);
    free(opens);
    free(likes);
    free(act);
    free(ses);
    H5Gclose(g);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: read_result FILE.h5\n");
        return 2;
    }
    hid_t f = H5Fopen(argv[1], H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) {
        fprintf(stderr, "FAIL: cannot open %s\n", argv[1]);
        return 1;
    }
    long long days = attr_int(f, "days_completed");
    CHECK(days >= 1, "days_completed = %lld", days);
    CHECK(attr_int(f, "seed") >= 0, "seed attribute");
    CHECK(H5Aexists(f, "scenario_text") > 0, "scenario_text attribute");
    hsize_t n = days > 0 ? (hsize_t)days : 0;
    hid_t g = H5Gopen2(f, "days", H5P_DEFAULT);
    CHECK(g >= 0, "/days missing");
    if (g >= 0) {
        H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, NULL, check_arm, &n);
        H5Gclose(g);
    }
    H5Fclose(f);
    printf("%s: %s\n", argv[1], failures ? "FAILED" : "ok (C API)");
    return failures ? 1 : 0;
}
