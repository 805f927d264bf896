/* The simulator as a library (libflywheel): run a scenario file into a result file, as
 * `flywheel run` does, from a program of one's own.
 * Owns: nothing between calls.  Borrows: its arguments, during the call.
 * Never touches: signals, the environment, stdout (messages go to stderr, as the program's).
 *
 * libflywheel is the engine (flywheel/engine.h and the capability headers beside it, the
 * ranker plug-in ABI flywheel/policy.h) and this simulator entry point; pkg-config flywheel or
 * CMake's find_package(Flywheel) (target Flywheel::flywheel) give the flags. */
#ifndef FLYWHEEL_FLYWHEEL_H
#define FLYWHEEL_FLYWHEEL_H

#include <stddef.h>

#include "flywheel/engine.h"

/* The library's version and git revision, "0.1.0 (abc1234)". */
const char *fw_flywheel_version(void);

/* Loads the scenario at path, applies sets[0..n_sets) ("key.path=value", as --set), checks
 * it and its ranker plug-ins, and runs it into output (NULL: the scenario's output.file, else
 * output.dir/NAME.h5; its folder must exist) with threads threads (< 1: OpenMP's default).
 * Returns 0 when every day ran and the result is at its path; 1 when the run failed (the
 * partial file keeps the finished days, as with the program); 2 for bad input (the scenario,
 * an override, a plug-in, the output path, not enough memory), with why[0..cap) holding the
 * first message in every case but 0. Deterministic like the program: the same scenario and
 * seed give the same file for any thread count. One run at a time per process. */
int fw_flywheel_run(const char *path, const char *const *sets, size_t n_sets, const char *output, int threads,
                    char *why, size_t cap);

#endif
