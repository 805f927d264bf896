/* Placement hints for the large tables of the engine and the world. */
#ifndef FLYWHEEL_MEM_H
#define FLYWHEEL_MEM_H

#include <stddef.h>

/* Asks the kernel to back the whole 2 MiB pages inside [p, p + bytes) with transparent huge
 * pages, for an array of 4 MiB or more that is read at random (note blocks, vectors, rows by
 * user, the follow graph). At a million users or notes such a table spans hundreds of
 * megabytes, 4 KiB pages make nearly every random read a TLB miss too, and the page walk
 * costs as much as the cache miss; one 2 MiB page covers 512 of them. Only where the bytes
 * live changes, never what they are: results are bit-identical. Advisory: on a kernel whose
 * THP setting is "never", or without THP, it does nothing. Smaller arrays are left alone
 * (nothing whole to advise, and no TLB pressure to relieve). */
void fw_mem_huge(void *p, size_t bytes);

#endif
