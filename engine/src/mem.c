#include <stdint.h>
#include <sys/mman.h>

#include "flywheel/mem.h"

#define HUGE_PAGE ((uintptr_t)2 << 20)

void fw_mem_huge(void *p, size_t bytes)
{
#ifdef MADV_HUGEPAGE
    /* With THP in "madvise" mode (Debian's default) huge pages go only to advised ranges; the
     * first touch of each whole 2 MiB page inside then faults one in (where the kernel has
     * one free). glibc's malloc serves arrays this large from their own mmap, so the range
     * is ours alone, and an array grown with realloc keeps the advice (mremap moves the
     * mapping with its flags; the caller advises the grown range again) but not always its
     * huge pages: realloc out of the heap copies before the advice, and mremap splits those
     * it moves to an address aligned otherwise. Measured on bench_large (20,000 users, 1M
     * notes): 154 MiB on huge pages; an allocator that re-advised before copying put 324 MiB
     * there (the world's note vectors and terms, the engine's counts) with no change in the
     * run's time on this machine (3 alternated pairs, within 2%) and 7 MiB more at the peak:
     * not kept (README, "Not where the run holds huge pages"). */
    if (!p || bytes < 2 * HUGE_PAGE)
        return;
    uintptr_t lo = ((uintptr_t)p + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
    uintptr_t hi = ((uintptr_t)p + bytes) & ~(HUGE_PAGE - 1);
    if (hi > lo)
        (void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
#else
    (void)p;
    (void)bytes;
#endif
}
