/* A state snapshot (issue 21): what a run's next day depends on, written at a day's end and
 * read back by `flywheel run --resume` so that a resumed run continues from its last finished
 * day instead of re-simulating every finished day.
 * Owns: the snapshot's file (writing) or its mapping (reading).  Borrows: the caller's state.
 * Never touches: the simulation; it moves bytes the caller points it at.
 *
 * One call does both directions. A hook is written once, as a list of transfers
 * (fw_snap_u32(s, &st->n), fw_snap_array(s, st->rows, st->n, sizeof *st->rows), ...): on a
 * writer each transfer appends the value, on a reader it overwrites the value with the one
 * read. Saving and loading therefore cannot disagree on order, types or sizes -- the failure
 * mode of hand-written save/load pairs -- and what a hook forgets is forgotten both ways, so
 * the resume tests (a killed run resumed from its snapshot, compared with h5diff to an
 * uninterrupted one) are what catch it.
 *
 * A reader is untrusted input (the file sits beside a result and can be anything): every
 * section's length and checksum are checked before its first byte is used, every counted
 * array's count must equal the count the loading state expects, or lie under the bound the
 * hook gives; indexes read with fw_snap_index(es) are checked against their bound. The first
 * failure makes the snapshot failed (fw_snap_why says what and in which section); every later
 * transfer then does nothing, so a hook needs no error checks of its own: its caller checks
 * fw_snap_failed once it returned. What a loaded state then means -- its own invariants -- is
 * checked by the modules' check hooks, as after any day.
 *
 * Layout, every integer little-endian (the host's order, checked by the magic's u32):
 *   "FWSNAP\r\n" (8 bytes), u32 0x01020304, u32 format, u64 0
 *   sections, each: char tag[16] (NUL-padded), u64 len, u64 CRC-32 of the payload (zlib's
 *                   crc32; the high 32 bits 0; format 1 had FNV-1a 64), payload[len]
 *   an "end" section with an empty payload, and nothing after it. */
#ifndef FLYWHEEL_SNAP_H
#define FLYWHEEL_SNAP_H

#include <stddef.h>
#include <stdint.h>

#include "flywheel/err.h"

#define FW_SNAP_FORMAT 2u
#define FW_SNAP_TAG 16

typedef struct fw_snap fw_snap;

/* A writer to path (created or truncated). NULL when out of memory; a file that cannot be
 * opened makes a failed writer (fw_snap_why says why). */
fw_snap *fw_snap_create(const char *path);
/* Ends the last section, writes the end mark, flushes (no fsync: see snap.c) and closes: FW_OK, or
 * FW_ERR_IO (and why) when any write failed. *bytes: the file's size. Frees s. */
fw_err fw_snap_finish(fw_snap *s, uint64_t *bytes, char *why, size_t why_len);

/* A reader of path: maps it and checks its header, every section's length and checksum, and
 * the end mark. NULL when out of memory; a failed reader when the file is not a snapshot. */
fw_snap *fw_snap_open(const char *path);
/* FW_OK when every section was read to its end and nothing failed, else FW_ERR_PARSE (or
 * the failure's code) with why. Frees s. */
fw_err fw_snap_close(fw_snap *s, char *why, size_t why_len);

/* Whether s reads (loads) rather than writes. */
int fw_snap_loading(const fw_snap *s);
/* Whether a transfer failed; its message (names the section). */
int fw_snap_failed(const fw_snap *s);
const char *fw_snap_why(const fw_snap *s);
/* Fails s with a message (a hook's own check of what it read: a count out of range). */
void fw_snap_fail(fw_snap *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A section: the writer starts one named tag (at most 15 characters; the previous one ends);
 * the reader moves to the next section, which must be named tag, after checking that the
 * previous one was read to its end. */
void fw_snap_section(fw_snap *s, const char *tag);

/* Scalars. */
void fw_snap_u8(fw_snap *s, uint8_t *v);
void fw_snap_u32(fw_snap *s, uint32_t *v);
void fw_snap_i32(fw_snap *s, int32_t *v);
void fw_snap_u64(fw_snap *s, uint64_t *v);
void fw_snap_i64(fw_snap *s, int64_t *v);
void fw_snap_f32(fw_snap *s, float *v);
void fw_snap_f64(fw_snap *s, double *v);
void fw_snap_size(fw_snap *s, size_t *v);
/* A value that must equal what the loading state already holds (a size fixed by the
 * scenario: users, arms, dimensions); the reader fails when it differs. */
void fw_snap_same_u32(fw_snap *s, uint32_t v, const char *what);
void fw_snap_same_u64(fw_snap *s, uint64_t v, const char *what);

/* A tick (or a day): |*v| <= FW_SNAP_TICK_BOUND, or INT32_MIN where never is 1 (the hook's
 * "never happened", which its code tests before any arithmetic), else the reader fails naming
 * what. Every tick a hook reads goes through here, so that a difference of two ticks -- a
 * note's age, the time since an event -- fits an int32 whatever the file says (FW_TICK_BOUND,
 * flywheel/engine.h). */
#define FW_SNAP_TICK_BOUND (INT32_C(1) << 30)
void fw_snap_tick(fw_snap *s, int32_t *v, int never, const char *what);
/* n ticks, an array known to both sides (fw_snap_array), each as fw_snap_tick. */
void fw_snap_ticks(fw_snap *s, int32_t *v, size_t n, int never, const char *what);

/* An index: below bound, or equal to none (pass bound as none when no sentinel is allowed:
 * any value >= bound fails). */
void fw_snap_index(fw_snap *s, uint32_t *v, uint32_t bound, uint32_t none);
/* n indexes, each as fw_snap_index. */
void fw_snap_indexes(fw_snap *s, uint32_t *v, size_t n, uint32_t bound, uint32_t none);

/* n elements of size bytes at p, n known to both sides (the reader's state was sized for it):
 * the count is stored and must match. Plain data only: no pointers inside. */
void fw_snap_array(fw_snap *s, void *p, size_t n, size_t size);
/* A growable array *p of *n elements (capacity *cap, may be NULL): the reader reads the count
 * (at most max, else it fails), makes room with realloc -- growing *cap to at least the count,
 * never shrinking, zeroing nothing -- and reads the elements. */
void fw_snap_vec(fw_snap *s, void **p, size_t *n, size_t *cap, size_t size, size_t max);
/* As fw_snap_vec with 32-bit count and capacity. */
void fw_snap_vec32(fw_snap *s, void **p, uint32_t *n, uint32_t *cap, size_t size, uint32_t max);

/* FNV-1a 64 of n bytes, continuing from h (start with FW_FNV64_INIT): the checksum of
 * snapshots and of the resume checkpoint. */
#define FW_FNV64_INIT 0xcbf29ce484222325ull
uint64_t fw_fnv64(uint64_t h, const void *p, size_t n);

/* Bytes written so far (writer), or the file's size (reader). */
uint64_t fw_snap_bytes(const fw_snap *s);

#endif
