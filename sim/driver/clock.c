#include "driver/clock.h"

#ifdef FW_HAVE_OPENMP
#include <omp.h>
#endif

int fw_par_threads(void)
{
#ifdef FW_HAVE_OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

void fw_par_set_threads(int n)
{
#ifdef FW_HAVE_OPENMP
    if (n >= 1)
        omp_set_num_threads(n);
#else
    (void)n;
#endif
}

static int forked;   /* fw_par_forked: this process may not start threads */

void fw_par_forked(void)
{
    forked = 1;
}

void fw_par_for(size_t n, size_t grain, fw_par_kernel kernel, void *arg)
{
    if (grain == 0)
        grain = 1;
    size_t chunks = (n + grain - 1) / grain;
#ifdef FW_HAVE_OPENMP
    if (!forked) {
#pragma omp parallel for schedule(dynamic, 1)
        for (size_t c = 0; c < chunks; c++) {
            size_t b = c * grain, e = b + grain < n ? b + grain : n;
            kernel(arg, b, e, omp_get_thread_num());
        }
        return;
    }
#else
    (void)forked;
#endif
    for (size_t c = 0; c < chunks; c++) {
        size_t b = c * grain, e = b + grain < n ? b + grain : n;
        kernel(arg, b, e, 0);
    }
}
