/* HDF5 helpers shared by the result and bench files: UTF-8 strings, scalar attributes, the
 * recorder's chunked and labelled datasets, plain datasets, and reading them back.
 * Owns: nothing that outlives a call. Every handle a helper opens is closed before it returns,
 * except the type, group or dataset that fw_h5_str_type, fw_h5_group and fw_h5_dataset return
 * (the caller closes it); strings and arrays that readers return are the caller's (free(),
 * string arrays fw_h5_strings_free).
 * Borrows: the files, groups and datasets it is handed (hid_t), and the names and data it
 * writes, for the length of a call.
 * Never touches: files themselves (creating, opening, closing, renaming), HDF5's error
 * printing (callers switch it off), or which object goes where in a file.
 *
 * Only code in sim/io/ includes hdf5.h (h5util, recorder, results, bench_file); this header
 * includes it for hid_t, so only that code includes this header. Writers return 0 (or an
 * open handle) on success and < 0 on failure. Readers return an fw_err and, on failure, a
 * one-line message naming WHERE/NAME in errbuf (when errbuf is not NULL); their
 * out-parameters are written only on success. Every helper is deterministic given the file's
 * contents and its arguments. */
#ifndef FLYWHEEL_H5UTIL_H
#define FLYWHEEL_H5UTIL_H

#include <stddef.h>
#include <stdint.h>

#include <hdf5.h>

#include "flywheel/err.h"

/* ---- closing ------------------------------------------------------------------------ */

/* Closes, in order, each handle of ids[0..n) that is open (>= 0; negative ones are skipped),
 * whatever it is: file, group, dataset, attribute, datatype, dataspace or property list.
 * Every handle is tried; returns < 0 when one of them could not be closed. */
int fw_h5_close(size_t n, const hid_t *ids);

/* fw_h5_close of the handles listed, e.g. FW_H5_CLOSE(sp, d, g): a cleanup path closes
 * whatever it got to open in one call, with no test per handle. */
#define FW_H5_CLOSE(...) \
    fw_h5_close(sizeof((hid_t[]){__VA_ARGS__}) / sizeof(hid_t), (const hid_t[]){__VA_ARGS__})

/* ---- writing ------------------------------------------------------------------------ */

/* Creates (or truncates) the HDF5 file path, in HDF5 1.8's file format or later, whose
 * metadata carries checksums, and returns it open (< 0 on failure). Every file we write
 * starts here: datasets get Fletcher-32 from fw_h5_dataset, metadata its checksums from this
 * format, and only strings' global heaps (checked by readers) carry none. */
hid_t fw_h5_create(const char *path);

/* A new variable-length UTF-8 string type (the one every string in our files has); close it
 * with H5Tclose. Returns < 0 on failure. */
hid_t fw_h5_str_type(void);

/* Writes a scalar attribute name of file type ftype on obj from *v, of memory type mtype. */
int fw_h5_attr_num(hid_t obj, const char *name, hid_t ftype, hid_t mtype, const void *v);

/* Writes a scalar variable-length UTF-8 string attribute name = value on obj. */
int fw_h5_attr_str(hid_t obj, const char *name, const char *value);

/* A 1-D variable-length UTF-8 string attribute name = v[0..n) on obj. */
int fw_h5_attr_strings(hid_t obj, const char *name, const char *const *v, hsize_t n);

/* Scalar attributes stored with the native type (as the result file has always had them). */
int fw_h5_attr_f64(hid_t obj, const char *name, double v);
int fw_h5_attr_u64(hid_t obj, const char *name, uint64_t v);
int fw_h5_attr_i64(hid_t obj, const char *name, int64_t v);

/* Creates group parent/name with a "description" attribute (none when doc is NULL) and
 * returns it open; opens it when it exists (a file written again: see "writing into a file
 * written before" in h5util.c, which every writer here follows). */
hid_t fw_h5_group(hid_t parent, const char *name, const char *doc);

/* Creates parent/name of rank 1 or 2, chunked by chunk[], shuffled and deflated at level
 * deflate (neither when 0), checksummed (Fletcher-32: a flipped bit makes reading the chunk
 * fail), extendible along its first dimension (the second is fixed);
 * writes data of mem_type when dims[0] > 0 and data is not NULL; adds "units" and
 * "description" attributes (each unless NULL) and labels dimension i labels[i] (none when
 * labels is NULL). Returns the dataset open, for scales and further attributes. Where
 * parent/name exists with the same type, rank, chunks and second dimension, its extent is
 * set to dims and data written into it (its attributes and labels stay as created); any other
 * one is replaced, or the call fails where a dimension scale refers to it. */
hid_t fw_h5_dataset(hid_t parent, const char *name, hid_t file_type, hid_t mem_type, int rank,
                    const hsize_t *dims, const hsize_t *chunk, unsigned deflate, const void *data,
                    const char *unit, const char *doc, const char *const *labels);

/* Writes a 1-D fw_h5_dataset of n values in chunks of min(n, 65536) (256 when n is 0),
 * labelled label, and attaches the dimension scale `scale` to it unless scale < 0. (Chunks of
 * 256, as before issue 21's second round, made libhdf5 hold about 100 bytes a user while a
 * result with per-user columns was built in memory: a chunk's index entries and buffers.) */
int fw_h5_write_1d(hid_t parent, const char *name, hid_t ftype, hid_t mtype, hsize_t n,
                   const void *data, unsigned deflate, const char *unit, const char *doc,
                   hid_t scale, const char *label);

/* fw_h5_write_1d of a series that grows (a value a day, a row a look) towards cap values: its
 * chunk holds max(n, cap) values (at most 65536), so that a file written again as the series
 * grows extends the dataset in place instead of creating it again. */
int fw_h5_write_series(hid_t parent, const char *name, hid_t ftype, hid_t mtype, hsize_t n, hsize_t cap,
                       const void *data, unsigned deflate, const char *unit, const char *doc,
                       hid_t scale, const char *label);

/* Attaches the dimension scale `scale` to dimension idx of ds unless a scale is attached there
 * already (H5DSattach_scale rewrites the scale's whole list of references: attaching again to
 * a dataset written before would cost that for nothing). */
int fw_h5_attach(hid_t ds, hid_t scale, unsigned idx);

/* Makes ds the dimension scale called name, unless it is a scale already. */
int fw_h5_make_scale(hid_t ds, const char *name);

/* Writes parent/name as a dataset of fixed shape dims[rank], data of mtype written when
 * dims[0] > 0, with "units" and "description" attributes (each unless NULL). Chunked and
 * checksummed (Fletcher-32) unless empty or of a variable-length type (strings), which HDF5
 * allows no checksum on: those are contiguous, and readers check their references instead. */
int fw_h5_write_fixed(hid_t parent, const char *name, hid_t ftype, hid_t mtype, int rank,
                      const hsize_t *dims, const void *data, const char *unit, const char *doc);

/* fw_h5_write_fixed for n strings, stored as variable-length UTF-8. */
int fw_h5_write_strings(hid_t parent, const char *name, const char *const *v, hsize_t n,
                        const char *unit, const char *doc);

/* ---- parallel writes (issue 21: FW_MPI, several ranks) ---------------------------------
 * While a file opened with the MPI-IO driver is written, fw_h5_parallel(dxpl, writer) turns
 * the writers above collective: every rank makes the same calls (creating groups, datasets
 * and attributes is collective in HDF5 1.10), each dataset's data is written by one
 * H5Dwrite on every rank with dxpl (collective transfer: HDF5 1.10 compresses in parallel
 * only so), and a rank whose writer is 0 selects nothing. Variable-length strings cannot be
 * written through MPI-IO: fw_h5_write_fixed creates their dataset and keeps the data
 * (borrowed: it must outlive fw_h5_parallel_strings) for fw_h5_parallel_strings, which the
 * writer calls once the file is closed and reopened in one process. fw_h5_parallel(-1, 1)
 * ends the mode (and forgets what was kept). */
void fw_h5_parallel(hid_t dxpl, int writer);

/* Rows [lo, lo + n) of the open dataset ds (rank 1 or 2, rows along its first dimension) from
 * data (row lo's first value, of mem_type): in parallel mode collectively on every rank,
 * each with its own rows (n may be 0), and otherwise an ordinary write. */
int fw_h5_write_rows(hid_t ds, hid_t mem_type, hsize_t lo, hsize_t n, const void *data);

/* fw_h5_write_1d whose data this rank writes rows [lo, lo + cnt) of (data: all n values). */
int fw_h5_write_1d_rows(hid_t parent, const char *name, hid_t ftype, hid_t mtype, hsize_t n,
                        hsize_t lo, hsize_t cnt, const void *data, unsigned deflate,
                        const char *unit, const char *doc, const char *label);

/* Bytes of data (before compression) this rank has handed HDF5 since the mode began. */
uint64_t fw_h5_parallel_bytes(void);

/* The errno of this rank's first failed write in the mode when it says why (ENOSPC, EFBIG,
 * EDQUOT, EIO: MPI-IO's own errors do not), else 0. */
int fw_h5_parallel_errno(void);

/* Writes the string datasets kept in parallel mode into f (the same file, reopened by one
 * process). */
int fw_h5_parallel_strings(hid_t f);

/* ---- reading ------------------------------------------------------------------------- */

/* 1 when parent has a link called name, 0 when not or when HDF5 cannot tell. */
int fw_h5_has_link(hid_t parent, const char *name);

/* The longest fixed-length string attribute fw_h5_attr_text reads (a crafted type size must
 * not size an allocation). */
#define FW_H5_MAX_TEXT ((size_t)16 << 20)

/* The open scalar string attribute attr, fixed or variable length, in any character set, as a
 * new string; NULL when it is not one string (an array of strings included), is longer than
 * FW_H5_MAX_TEXT, cannot be read, or memory ran out. */
char *fw_h5_attr_text(hid_t attr);

/* fw_h5_attr_text of the attribute name of object path (relative to obj; "." for obj itself);
 * NULL also when there is no such attribute. */
char *fw_h5_read_str_attr(hid_t obj, const char *path, const char *name);

/* Reads the scalar attribute name of obj into *v as mtype. Returns < 0 when it is absent or
 * cannot be converted. */
int fw_h5_read_num_attr(hid_t obj, const char *name, hid_t mtype, void *v);

/* The names of g's links to objects of type want (H5I_GROUP or H5I_DATASET), in name order,
 * as *n new strings in *names; dangling soft and external links are skipped, while a hard
 * link to an object that cannot be opened (a corrupt header) is an error. where names g in
 * messages. Errors: FW_ERR_IO, FW_ERR_NOMEM, FW_ERR_PARSE (over FW_H5_MAX_LINKS links). */
fw_err fw_h5_list_names(hid_t g, const char *where, H5I_type_t want, uint32_t *n, char ***names,
                        char *errbuf, size_t errlen);

/* Reads dataset g/name of rank `rank`, converted to mem_type (elements of elem bytes), into a
 * new array *out (at least one element long, zeroed when empty); dims[rank] receives its
 * shape. Errors: FW_ERR_NOTFOUND (no such link; no message), FW_ERR_PARSE (another rank),
 * FW_ERR_IO, FW_ERR_NOMEM, FW_ERR_INVAL (rank outside 1..H5S_MAX_RANK). */
fw_err fw_h5_read_array(hid_t g, const char *where, const char *name, int rank, hid_t mem_type,
                        size_t elem, hsize_t *dims, void **out, char *errbuf, size_t errlen);

/* fw_h5_read_array of the 1-D variable-length string dataset g/name, as *n new strings in
 * *out (a missing string reads as ""). Before HDF5 reads them, every reference is checked
 * against the global heap it names (the stored string exists and has the length the
 * reference says), so that corrupt files cannot make HDF5 write past its buffers. Errors:
 * FW_ERR_IO (absent or not variable-length strings), FW_ERR_PARSE (not 1-D, not contiguous,
 * a corrupt reference), FW_ERR_NOMEM. */
fw_err fw_h5_read_strings(hid_t g, const char *where, const char *name, uint32_t *n, char ***out,
                         char *errbuf, size_t errlen);

/* Limits on what a reader believes of a file. No array has more than FW_H5_MAX_ELEMENTS
 * elements, and one that declares more than FW_H5_SLACK_BYTES must store at least
 * 1/FW_H5_MAX_RATIO of them (deflate compresses at most about 1032:1): a small file cannot
 * make a reader allocate much more than its size. fw_h5_read_array (and so
 * fw_h5_read_strings) enforce both, with FW_ERR_PARSE. */
#define FW_H5_MAX_ELEMENTS ((size_t)1 << 34)
#define FW_H5_MAX_RATIO 1100u
#define FW_H5_SLACK_BYTES ((hsize_t)1 << 20)
/* The most links fw_h5_list_names lists in one group (FW_ERR_PARSE beyond). */
#define FW_H5_MAX_LINKS (1u << 20)

/* FW_OK when path names a regular file, checked without blocking (a FIFO is opened with
 * O_NONBLOCK, so this never waits for a writer); FW_ERR_NOTFOUND when it cannot be opened,
 * FW_ERR_PARSE when it is a FIFO, directory, device or socket, with the reason in errbuf.
 * Readers call it before handing path to HDF5, which would block on a FIFO. */
fw_err fw_h5_check_regular(const char *path, char *errbuf, size_t errlen);

/* Checks the structure of every global heap collection (where HDF5 keeps variable-length
 * strings) in the file at path, by reading the file itself: the collection fits in the file,
 * and its objects tile it exactly. HDF5 trusts these sizes and copies past its buffers when
 * they are corrupt, and checksums do not cover them, so readers call this before reading any
 * string. FW_ERR_PARSE (what is wrong and where), FW_ERR_IO, FW_ERR_NOMEM. Bytes that say
 * "GCOL" but are no collection of version 1 are skipped. Deterministic given the file. */
fw_err fw_h5_check_heaps(const char *path, char *errbuf, size_t errlen);

/* Runs check(path, errbuf, errlen) in a child process and returns what it returned, its
 * message copied into errbuf (check's messages, like this function's, begin "PATH: "). libhdf5 trusts more of a file's metadata than checksums cover
 * and can crash, or loop, inside its own code on a corrupt file; in the child, that becomes
 * FW_ERR_PARSE ("the HDF5 library crashed reading it ...") in the parent instead of the
 * reader's death. A child still running after timeout_s seconds is killed (FW_ERR_PARSE).
 * FW_ERR_IO when no child can be made. Readers call it before reading a file for real. */
typedef fw_err (*fw_h5_check_fn)(const char *path, char *errbuf, size_t errlen);
fw_err fw_h5_isolated(fw_h5_check_fn check, const char *path, unsigned timeout_s, char *errbuf,
                      size_t errlen);

/* Bob Jenkins' lookup3 hash ("hashlittle", initial value 0): the checksum HDF5 puts on
 * metadata of the 1.8 format and later. */
uint32_t fw_h5_checksum(const void *data, size_t len);

/* Rewrites the checksum of a version 2 or 3 superblock at the start of a file image of n
 * bytes (no user block). libhdf5 1.10's H5Fget_file_image clears the "open for writing" flag
 * in the image's superblock but leaves the checksum of the flagged one, so the image would not
 * open ("incorrect metadata checksum"). Other images are left alone. 0, or -1 when img is no
 * HDF5 image. */
int fw_h5_fix_image_superblock(unsigned char *img, size_t n);

/* Frees n strings of v and v itself; accepts NULL. */
void fw_h5_strings_free(char **v, uint32_t n);

#endif
