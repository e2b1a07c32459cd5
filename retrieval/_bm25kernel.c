/* BM25 top-k over the postings of an index's segments, with rank-bm25's BM25Okapi arithmetic.
 *
 * Called from retrieval/kernel.py through the Python functions at the end of this file. Built
 * with -ffp-contract=off: a fused multiply-add would round differently from rank-bm25's numpy
 * expressions.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>

/* Units scored together: 8192 doubles of acc are 64 KiB. */
#ifndef BLOCK
#define BLOCK 8192
#endif

/* One segment's postings as the kernel reads them (see bm25_top). */
typedef struct {
    const int32_t *p_terms; /* term ids present, ascending */
    int64_t n_p_terms;
    const int64_t *p_offsets; /* postings of p_terms[i]: [p_offsets[i], p_offsets[i + 1]) */
    const int32_t *units;     /* ascending per term */
    const int32_t *tfs;
    const double *weights; /* NULL, or each posting's tf * (k1 + 1) / (tf + norms[unit]) */
    const double *norms;   /* k1 * (1 - b + b * length / avgdl) of each unit */
    const uint8_t *live;   /* NULL: every unit is live */
    int64_t offset;        /* global id of the segment's unit 0 */
    const double *bounds;  /* NULL, or the largest tf * (k1 + 1) / (tf + norm) of each p_terms[i] */
} Part;

/* idf * (tf * (k1 + 1) / (tf + norm)), rank-bm25's expression operation for operation (the
 * precomputed weight is the same number). */
static inline double contribution(const Part *q, int64_t p, double idf, double k1_plus_1)
{
    if (q->weights)
        return idf * q->weights[p];
    const double tf = (double)q->tfs[p];
    return idf * (tf * k1_plus_1 / (tf + q->norms[q->units[p]]));
}

/* Whether unit a (score sa) ranks before unit b (score sb): higher score, then lower id. */
static inline int ranks_before(double sa, int64_t a, double sb, int64_t b)
{
    return sa > sb || (sa == sb && a < b);
}

/* Inserts unit u (score s) into the k best so far (out_ids/out_scores, found of them, best
 * first) if it ranks before the last; returns how many there are now. */
static int keep_best(int64_t u, double s, int k, int found, int64_t *out_ids, double *out_scores)
{
    if (found == k) {
        if (!ranks_before(s, u, out_scores[k - 1], out_ids[k - 1]))
            return found;
        found--;
    }
    int pos = found;
    while (pos > 0 && ranks_before(s, u, out_scores[pos - 1], out_ids[pos - 1])) {
        out_scores[pos] = out_scores[pos - 1];
        out_ids[pos] = out_ids[pos - 1];
        pos--;
    }
    out_scores[pos] = s;
    out_ids[pos] = u;
    return found + 1;
}

/* The largest tf * (k1 + 1) / (tf + norm) of each term's postings (rank-bm25's expression, as
 * contribution() computes it): out[i] for part->p_terms[i]. */
void bm25_bounds(const Part *part, double k1, double *out)
{
    const double k1_plus_1 = k1 + 1.0;
    for (int64_t i = 0; i < part->n_p_terms; i++) {
        double most = 0.0;
        for (int64_t p = part->p_offsets[i]; p < part->p_offsets[i + 1]; p++) {
            const double w = contribution(part, p, 1.0, k1_plus_1);
            if (w > most)
                most = w;
        }
        out[i] = most;
    }
}

/* Slack on a sum of bounds before it is compared with a score: the bounds are summed in another
 * order than a unit's contributions, which rounds differently by a few ulps. */
#define BOUND_SLACK 1e-9

/* The first p in [lo, hi) with units[p] >= value (hi when none). */
static inline int64_t lower_bound(const int32_t *units, int64_t lo, int64_t hi, int64_t value)
{
    while (lo < hi) {
        const int64_t mid = lo + (hi - lo) / 2;
        if (units[mid] < value)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Term j's postings of one block, from p up to the first unit at or past limit (returned),
 * deleted units aside: each one's contribution is added to acc (unless acc is NULL) and each
 * unit not yet seen is recorded in touched (unless touched is NULL). Inlined, the NULLs of a
 * call fold away. */
static inline int64_t walk_block(const Part *part, int64_t p, int64_t end, int64_t limit,
                                 double idf, double k1_plus_1, double *acc, int32_t *touched,
                                 int64_t *n_touched, uint8_t *seen)
{
    const int32_t *units = part->units;
    for (; p < end && units[p] < limit; p++) {
        const int32_t u = units[p];
        if (part->live && !part->live[u])
            continue;
        if (acc)
            acc[u] += contribution(part, p, idf, k1_plus_1);
        if (touched) {
            /* Branch-free: whether u is new is not predictable. */
            touched[*n_touched] = u;
            *n_touched += !seen[u];
            seen[u] = 1;
        }
    }
    return p;
}

/* The k best units holding a query term, over all parts (higher score, then lower global id).
 *
 * terms[j] (query order, repeats included) are vocabulary ids with idfs[j]. acc (doubles) and
 * seen (bytes) have one slot per unit of the largest part, are zero on entry and are left zero.
 * Writes the global ids and scores, best first, to out_ids/out_scores and returns how many, or
 * -1 when memory ran out. Each unit's score is summed term by term in query order, as rank-bm25
 * sums it; the parts are scored one after the other (their units are accumulated in acc, small
 * enough to stay in cache) into one list of the k best.
 *
 * Once k units are found, terms whose bounds (idf times the part's largest posting weight) add
 * up to less than the k-th score cannot bring in a unit on their own (MaxScore): only units of
 * the other terms' postings are candidates, and those terms' postings are only searched for
 * them. Every candidate's score is still the full sum in query order: the results are those of
 * scoring every posting. */
int bm25_top(int n_parts, const Part *parts, int n_terms, const int64_t *terms,
             const double *idfs, double k1, double *acc, uint8_t *seen, int k, int64_t *out_ids,
             double *out_scores)
{
    if (k <= 0 || n_terms <= 0 || n_parts <= 0)
        return 0;
    const double k1_plus_1 = k1 + 1.0;
    int64_t *starts = malloc((sizeof(int64_t) * 2 + sizeof(double) + sizeof(int) + 1) * n_terms);
    if (!starts)
        return -1;
    int64_t *ends = starts + n_terms;
    double *bound = (double *)(ends + n_terms);
    int *by_bound = (int *)(bound + n_terms);
    uint8_t *optional = (uint8_t *)(by_bound + n_terms);
    /* A negative idf (rank-bm25's floor can be one on tiny corpora) makes a bound of a sum of
     * mixed signs: score everything then. */
    int prunable = 1;
    for (int j = 0; j < n_terms; j++)
        if (!(idfs[j] >= 0.0))
            prunable = 0;
    int32_t *touched = NULL;
    int64_t room = 0;
    int found = 0;
    for (int q = 0; q < n_parts; q++) {
        const Part *part = &parts[q];
        const int32_t *units = part->units;
        const int prune = prunable && part->bounds != NULL;
        int64_t total = 0;
        for (int j = 0; j < n_terms; j++) {
            int64_t lo = 0, hi = part->n_p_terms;
            while (lo < hi) {
                const int64_t mid = lo + (hi - lo) / 2;
                if (part->p_terms[mid] < terms[j])
                    lo = mid + 1;
                else
                    hi = mid;
            }
            const int present = lo < part->n_p_terms && part->p_terms[lo] == terms[j];
            starts[j] = present ? part->p_offsets[lo] : 0;
            ends[j] = present ? part->p_offsets[lo + 1] : 0;
            total += ends[j] - starts[j];
            bound[j] = !present ? 0.0 : prune ? idfs[j] * part->bounds[lo] : HUGE_VAL;
            /* Insertion sort by bound, ascending (a query has a few terms). */
            int at = j;
            while (at > 0 && bound[by_bound[at - 1]] > bound[j]) {
                by_bound[at] = by_bound[at - 1];
                at--;
            }
            by_bound[at] = j;
        }
        if (total > room) {
            free(touched);
            room = total;
            touched = malloc(sizeof(int32_t) * room);
            if (!touched) {
                free(starts);
                return -1;
            }
        }
        /* Units block by block (the postings of a term are ascending), so that the block's
         * slots of acc, seen and norms stay in the first-level cache. */
        int32_t last = 0;
        for (int j = 0; j < n_terms; j++)
            if (ends[j] > starts[j] && units[ends[j] - 1] > last)
                last = units[ends[j] - 1];
        for (int64_t block = 0; block <= last; block += BLOCK) {
            /* The terms that cannot bring in a unit alone: the smallest bounds while their sum
             * stays below the k-th score. */
            int n_optional = 0;
            if (prune && found == k) {
                const double kth = out_scores[k - 1];
                double sum = 0.0;
                while (n_optional < n_terms) {
                    const double next = sum + bound[by_bound[n_optional]];
                    if (!(next + next * BOUND_SLACK < kth))
                        break;
                    sum = next;
                    n_optional++;
                }
            }
            int64_t n_touched = 0;
            if (n_optional == 0) {
                const int64_t limit = block + BLOCK;
                /* starts[j] is this block's first posting: blocks are only jumped over while
                 * skipping, and within a part skipping never stops (the k-th score only
                 * rises, the bounds stay). */
                for (int j = 0; j < n_terms; j++)
                    starts[j] = walk_block(part, starts[j], ends[j], limit, idfs[j], k1_plus_1, acc,
                                           touched, &n_touched, seen);
            } else {
                for (int j = 0; j < n_terms; j++)
                    optional[j] = 0;
                for (int i = 0; i < n_optional; i++)
                    optional[by_bound[i]] = 1;
                /* Skip to the block of the next unit of a required term (none: no unit left
                 * can rank among the k best). */
                int64_t next = INT64_MAX;
                for (int j = 0; j < n_terms; j++)
                    if (!optional[j] && starts[j] < ends[j] && units[starts[j]] < next)
                        next = units[starts[j]];
                if (next == INT64_MAX)
                    break;
                if (next >= block + BLOCK)
                    block = next / BLOCK * BLOCK;
                const int64_t limit = block + BLOCK;
                for (int j = 0; j < n_terms; j++)
                    if (!optional[j])
                        walk_block(part, starts[j], ends[j], limit, 0.0, k1_plus_1, NULL, touched,
                                   &n_touched, seen);
                /* The candidates' scores, term by term in query order. */
                for (int j = 0; j < n_terms; j++) {
                    const double idf = idfs[j];
                    if (!optional[j]) {
                        starts[j] = walk_block(part, starts[j], ends[j], limit, idf, k1_plus_1, acc,
                                               NULL, &n_touched, seen);
                        continue;
                    }
                    /* Past the units of the blocks skipped since this term was last read. */
                    const int64_t low = lower_bound(units, starts[j], ends[j], block);
                    const int64_t high = lower_bound(units, low, ends[j], limit);
                    starts[j] = high;
                    if (high == low)
                        continue;
                    if (high - low <= 8 * n_touched) {
                        /* seen marks the candidates, all of them live. */
                        for (int64_t p = low; p < high; p++)
                            if (seen[units[p]])
                                acc[units[p]] += contribution(part, p, idf, k1_plus_1);
                    } else {
                        for (int64_t i = 0; i < n_touched; i++) {
                            const int32_t u = touched[i];
                            const int64_t p = lower_bound(units, low, high, u);
                            if (p < high && units[p] == u)
                                acc[u] += contribution(part, p, idf, k1_plus_1);
                        }
                    }
                }
            }
            for (int64_t i = 0; i < n_touched; i++) {
                const int32_t u = touched[i];
                const double s = acc[u];
                acc[u] = 0.0;
                seen[u] = 0;
                found = keep_best(part->offset + u, s, k, found, out_ids, out_scores);
            }
        }
    }
    free(touched);
    free(starts);
    return found;
}

/* Where one part's sentences (passage_first NULL) or passages find their tokens. */
typedef struct {
    int64_t offset; /* global id of the part's unit 0 */
    const int64_t *token_offsets;
    const int32_t *tokens;
    const int32_t *passage_first;
    const int32_t *passage_last;
} TokenPart;

/* Occurrences of the query's terms in the units ids[0:n_rows] (global ids; a unit belongs to the
 * last part whose offset is not above it), as retrieval/matching.py's numpy code finds them:
 * tf[row * width + column] (zero on entry) counts term column in row, lengths[row] is the row's
 * number of tokens, and every occurrence is written to out_row/out_position/out_column, part by
 * part, rows in the order asked for, tokens in text order. sorted_ids are the query's term ids,
 * ascending, order[i] the column of sorted_ids[i]. Returns the number of occurrences; only the
 * first capacity are written (call again with more room if it returns more). */
int64_t bm25_match(int n_parts, const TokenPart *parts, int64_t n_rows, const int64_t *ids,
                   int width, const int64_t *sorted_ids, const int64_t *order, double *tf,
                   int64_t *lengths, int64_t capacity, int64_t *out_row, int64_t *out_position,
                   int64_t *out_column)
{
    /* Bit (id mod 64) of every query term: most tokens are no query term, and one test of this
     * word tells most of them apart without searching sorted_ids. */
    uint64_t bits = 0;
    for (int c = 0; c < width; c++)
        bits |= (uint64_t)1 << ((uint64_t)sorted_ids[c] & 63);
    int64_t n = 0;
    for (int q = 0; q < n_parts; q++) {
        const TokenPart *part = &parts[q];
        for (int64_t r = 0; r < n_rows; r++) {
            const int64_t g = ids[r];
            int lo = 0, hi = n_parts - 1;
            while (lo < hi) {
                const int mid = (lo + hi + 1) / 2;
                if (parts[mid].offset <= g)
                    lo = mid;
                else
                    hi = mid - 1;
            }
            if (lo != q)
                continue;
            const int64_t local = g - part->offset;
            int64_t low, high;
            if (part->passage_first) {
                low = part->token_offsets[part->passage_first[local]];
                high = part->token_offsets[(int64_t)part->passage_last[local] + 1];
            } else {
                low = part->token_offsets[local];
                high = part->token_offsets[local + 1];
            }
            lengths[r] = high - low;
            if (width <= 0)
                continue;
            for (int64_t t = low; t < high; t++) {
                const int64_t token = part->tokens[t];
                if (!((bits >> ((uint64_t)token & 63)) & 1))
                    continue;
                int c = 0;
                while (c < width && sorted_ids[c] < token)
                    c++;
                if (c == width || sorted_ids[c] != token)
                    continue;
                const int64_t column = order[c];
                tf[r * width + column] += 1.0;
                if (n < capacity) {
                    out_row[n] = r;
                    out_position[n] = t - low;
                    out_column[n] = column;
                }
                n++;
            }
        }
    }
    return n;
}

/* Columns of some units: for each global id ids[r] (in the last part whose offsets[q] is not
 * above it, at local = ids[r] - offsets[q]), out[c * n_rows + r] = columns[q * n_cols + c][local]
 * + adds[q * n_cols + c], and out[n_cols * n_rows + r] = q. */
void bm25_gather(int n_parts, const int64_t *offsets, int n_cols, const int32_t *const *columns,
                 const int64_t *adds, int64_t n_rows, const int64_t *ids, int64_t *out)
{
    for (int64_t r = 0; r < n_rows; r++) {
        const int64_t g = ids[r];
        int lo = 0, hi = n_parts - 1;
        while (lo < hi) {
            const int mid = (lo + hi + 1) / 2;
            if (offsets[mid] <= g)
                lo = mid;
            else
                hi = mid - 1;
        }
        const int64_t local = g - offsets[lo];
        for (int c = 0; c < n_cols; c++)
            out[c * n_rows + r] =
                columns[(int64_t)lo * n_cols + c][local] + adds[(int64_t)lo * n_cols + c];
        out[n_cols * n_rows + r] = lo;
    }
}

/* The Python functions: the kernels above called with NumPy arrays (any C-contiguous buffer of
 * the element type named) and, for the parts, the address of their struct array. A call costs a
 * microsecond or two where ctypes spent tens (one ctypes object per array address); the kernels
 * run without the GIL, as they did under ctypes, so concurrent questions score in parallel. */

/* Whether buffer b holds at least count elements of size bytes; sets ValueError if not. */
static int holds(const Py_buffer *b, Py_ssize_t count, Py_ssize_t size, const char *name)
{
    if (b->len < count * size) {
        PyErr_Format(PyExc_ValueError, "%s holds fewer than %zd elements", name, count);
        return 0;
    }
    return 1;
}

static void release(Py_buffer **buffers, int n)
{
    for (int i = 0; i < n; i++)
        PyBuffer_Release(buffers[i]);
}

/* top(n_parts, parts, terms int64, idfs float64, k1, acc float64, seen uint8, out_ids int64,
 * out_scores float64) -> found: bm25_top with k the length of out_ids. */
static PyObject *py_top(PyObject *self, PyObject *args)
{
    int n_parts;
    unsigned long long parts;
    double k1;
    Py_buffer terms, idfs, acc, seen, ids, scores;
    if (!PyArg_ParseTuple(args, "iKy*y*dw*w*w*w*", &n_parts, &parts, &terms, &idfs, &k1, &acc,
                          &seen, &ids, &scores))
        return NULL;
    Py_buffer *all[] = {&terms, &idfs, &acc, &seen, &ids, &scores};
    const Py_ssize_t n_terms = terms.len / (Py_ssize_t)sizeof(int64_t);
    const Py_ssize_t k = ids.len / (Py_ssize_t)sizeof(int64_t);
    if (!holds(&idfs, n_terms, sizeof(double), "idfs") ||
        !holds(&scores, k, sizeof(double), "out_scores") ||
        !holds(&seen, acc.len / (Py_ssize_t)sizeof(double), 1, "seen")) {
        release(all, 6);
        return NULL;
    }
    int found;
    Py_BEGIN_ALLOW_THREADS
    found = bm25_top(n_parts, (const Part *)(uintptr_t)parts, (int)n_terms, terms.buf, idfs.buf,
                     k1, acc.buf, seen.buf, (int)k, ids.buf, scores.buf);
    Py_END_ALLOW_THREADS
    release(all, 6);
    return PyLong_FromLong(found);
}

/* match(n_parts, parts, ids int64, sorted_ids int64, order int64, tf float64, lengths int64,
 * out_row int64, out_position int64, out_column int64) -> occurrences: bm25_match with the rows
 * the length of ids, the width that of sorted_ids and the capacity that of out_row. */
static PyObject *py_match(PyObject *self, PyObject *args)
{
    int n_parts;
    unsigned long long parts;
    Py_buffer ids, sorted_ids, order, tf, lengths, row, position, column;
    if (!PyArg_ParseTuple(args, "iKy*y*y*w*w*w*w*w*", &n_parts, &parts, &ids, &sorted_ids,
                          &order, &tf, &lengths, &row, &position, &column))
        return NULL;
    Py_buffer *all[] = {&ids, &sorted_ids, &order, &tf, &lengths, &row, &position, &column};
    const Py_ssize_t n_rows = ids.len / (Py_ssize_t)sizeof(int64_t);
    const Py_ssize_t width = sorted_ids.len / (Py_ssize_t)sizeof(int64_t);
    const Py_ssize_t capacity = row.len / (Py_ssize_t)sizeof(int64_t);
    if (!holds(&order, width, sizeof(int64_t), "order") ||
        !holds(&tf, n_rows * width, sizeof(double), "tf") ||
        !holds(&lengths, n_rows, sizeof(int64_t), "lengths") ||
        !holds(&position, capacity, sizeof(int64_t), "out_position") ||
        !holds(&column, capacity, sizeof(int64_t), "out_column")) {
        release(all, 8);
        return NULL;
    }
    int64_t found;
    Py_BEGIN_ALLOW_THREADS
    found = bm25_match(n_parts, (const TokenPart *)(uintptr_t)parts, n_rows, ids.buf, (int)width,
                       sorted_ids.buf, order.buf, tf.buf, lengths.buf, capacity, row.buf,
                       position.buf, column.buf);
    Py_END_ALLOW_THREADS
    release(all, 8);
    return PyLong_FromLongLong(found);
}

/* gather(offsets int64, n_cols, columns uintp, adds int64, ids int64, out int64): bm25_gather
 * with a part per offset and a row per id. */
static PyObject *py_gather(PyObject *self, PyObject *args)
{
    int n_cols;
    Py_buffer offsets, columns, adds, ids, out;
    if (!PyArg_ParseTuple(args, "y*iy*y*y*w*", &offsets, &n_cols, &columns, &adds, &ids, &out))
        return NULL;
    Py_buffer *all[] = {&offsets, &columns, &adds, &ids, &out};
    const Py_ssize_t n_parts = offsets.len / (Py_ssize_t)sizeof(int64_t);
    const Py_ssize_t n_rows = ids.len / (Py_ssize_t)sizeof(int64_t);
    if (!holds(&columns, n_parts * n_cols, sizeof(void *), "columns") ||
        !holds(&adds, n_parts * n_cols, sizeof(int64_t), "adds") ||
        !holds(&out, (n_cols + 1) * n_rows, sizeof(int64_t), "out")) {
        release(all, 5);
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    bm25_gather((int)n_parts, offsets.buf, n_cols, columns.buf, adds.buf, n_rows, ids.buf, out.buf);
    Py_END_ALLOW_THREADS
    release(all, 5);
    Py_RETURN_NONE;
}

/* bounds(part, k1, out float64): bm25_bounds of the part struct at that address, one value per
 * term of its postings. */
static PyObject *py_bounds(PyObject *self, PyObject *args)
{
    unsigned long long part;
    double k1;
    Py_buffer out;
    if (!PyArg_ParseTuple(args, "Kdw*", &part, &k1, &out))
        return NULL;
    const Part *p = (const Part *)(uintptr_t)part;
    if (!holds(&out, (Py_ssize_t)p->n_p_terms, sizeof(double), "out")) {
        PyBuffer_Release(&out);
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    bm25_bounds(p, k1, out.buf);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&out);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"bounds", py_bounds, METH_VARARGS, "bm25_bounds of one part."},
    {"top", py_top, METH_VARARGS, "bm25_top over NumPy arrays."},
    {"match", py_match, METH_VARARGS, "bm25_match over NumPy arrays."},
    {"gather", py_gather, METH_VARARGS, "bm25_gather over NumPy arrays."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_bm25kernel", NULL, -1, methods};

PyMODINIT_FUNC PyInit__bm25kernel(void) { return PyModule_Create(&module); }
