/* The resume checkpoint (issue 21): RESULT.h5.ckpt beside RESULT.h5.partial, rewritten at
 * every day's end after the partial file, removed when the run completes.
 * Owns: the strings and arrays of a decoded checkpoint (fw_ckpt_fini frees them).
 * Borrows: nothing.  Never touches: the simulation; it is handed finished numbers.
 *
 * What it holds: how the run was started (flywheel version and revision, the scenario's
 * path, text and --set overrides, the seed, the hash of the resolved scenario, days planned,
 * --replicates) and one digest per finished day of what that day recorded (every arm's day
 * counters and every engine day series). A resumed run re-simulates the finished days
 * without writing anything -- keyed RNG and the barrier model make that bit-identical for
 * any thread count -- checks each day against its digest, and continues from the first
 * unfinished day (docs/ARCHITECTURE.md, "Resuming a run", argues this design against
 * per-module state snapshots).
 *
 * The file is untrusted input. Layout, every integer little-endian:
 *   "FWCKPT\r\n"  magic (8 bytes)
 *   u32 format (FW_CKPT_FORMAT), u32 n_sections, u64 seed, u64 scenario_hash,
 *   u32 days_done, u32 days_planned, u32 replicates, u32 0 (40 bytes), u64 FNV-1a of those
 *   40 bytes, u64 0
 *   n_sections x { u32 tag, u32 0, u64 len, u64 FNV-1a of the payload, payload[len] }
 * and nothing after. The reader checks every length against what is left before reading,
 * every checksum, and that the sections are format 1's five in their order (VERS version and
 * revision, SPTH scenario path, STXT scenario text, SOVR overrides, DAYD u64 digest per day),
 * so a checkpoint has one encoding; a section's strings must be NUL-terminated inside it. */
#ifndef FLYWHEEL_CKPT_H
#define FLYWHEEL_CKPT_H

#include <stddef.h>
#include <stdint.h>

#include "flywheel/engine.h"
#include "flywheel/snap.h"   /* fw_fnv64 */

#define FW_CKPT_FORMAT 1u
/* The largest checkpoint the reader accepts (a scenario text is at most a few MB). */
#define FW_CKPT_MAX_BYTES (256u * 1024u * 1024u)

typedef struct fw_ckpt {
    uint64_t seed, scenario_hash;
    uint32_t days_done, days_planned, replicates;
    char *version, *git_revision;       /* of the flywheel that wrote it */
    char *scenario_path, *scenario_text;
    char **overrides;                   /* --set assignments, in order */
    uint32_t n_overrides;
    uint64_t *day_digest;               /* [days_done] */
} fw_ckpt;


/* c as bytes in a new buffer (*out, *len); FW_ERR_NOMEM. */
fw_err fw_ckpt_encode(const fw_ckpt *c, unsigned char **out, size_t *len);

/* Decodes len bytes into *c (zeroed first; fw_ckpt_fini frees it also on failure).
 * FW_ERR_PARSE with why filled (what was wrong, and where) on any malformed input. */
fw_err fw_ckpt_decode(const void *buf, size_t len, fw_ckpt *c, char *why, size_t why_len);

/* Writes c to path atomically: path.tmp, fsync, rename over path. *bytes: the size written.
 * FW_ERR_IO / FW_ERR_NOMEM with err filled. */
fw_err fw_ckpt_write(const char *path, const fw_ckpt *c, size_t *bytes, char *err, size_t err_len);

/* Reads and decodes path. FW_ERR_IO when it cannot be read (errno's text in why),
 * FW_ERR_PARSE when it is not a valid checkpoint. */
fw_err fw_ckpt_read(const char *path, fw_ckpt *c, char *why, size_t why_len);

void fw_ckpt_fini(fw_ckpt *c);

#endif
