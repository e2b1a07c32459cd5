/* BM25 top-k over one segment's postings, with rank-bm25's BM25Okapi arithmetic.
 *
 * Loaded through ctypes (retrieval/kernel.py); the module init only exists so that setuptools
 * builds and names the library like any extension. Built with -ffp-contract=off: a fused
 * multiply-add would round differently from rank-bm25's numpy expressions.
 */
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>

/* The k best of the touched units (higher score, then lower id) into out_ids/out_scores, best
 * first; clears their acc and seen slots. Returns how many were written. */
static int take_best(double *acc, uint8_t *seen, const int32_t *touched, int64_t n_touched, int k,
                     int32_t *out_ids, double *out_scores)
{
    int found = 0;
    for (int64_t i = 0; i < n_touched; i++) {
        const int32_t u = touched[i];
        const double s = acc[u];
        acc[u] = 0.0;
        seen[u] = 0;
        if (k <= 0)
            continue;
        if (found == k) {
            const double worst = out_scores[k - 1];
            if (s < worst || (s == worst && u > out_ids[k - 1]))
                continue;
            found--;
        }
        int pos = found;
        while (pos > 0 && (out_scores[pos - 1] < s ||
                           (out_scores[pos - 1] == s && out_ids[pos - 1] > u))) {
            out_scores[pos] = out_scores[pos - 1];
            out_ids[pos] = out_ids[pos - 1];
            pos--;
        }
        out_scores[pos] = s;
        out_ids[pos] = u;
        found++;
    }
    return found;
}

/* Score every unit holding a query term and keep the k best (higher score, then lower id).
 *
 * terms[j] (query order, repeats included) are vocabulary ids with idfs[j]; the segment holds
 * the postings of p_terms[i] (ascending, n_p_terms of them) at units[p_offsets[i]:
 * p_offsets[i + 1]], with term frequencies tfs[...]. norms[u] is k1 * ((1 - b) + b *
 * length[u] / avgdl), computed once per index with the same operations. weights, when not NULL,
 * holds every posting's tf * (k1 + 1) / (tf + norms[u]) computed beforehand by the same
 * operations: the contribution idf * weights[p] is then the same number without a division.
 * acc (doubles) and seen (bytes) have one slot per unit, are zero on entry and are left zero.
 * live may be NULL. Returns the number of results written to out_ids/out_scores, best first,
 * or -1 when memory ran out. */
int bm25_top(int n_terms, const int64_t *terms, const double *idfs, const int32_t *p_terms,
             int64_t n_p_terms, const int64_t *p_offsets, const int32_t *units,
             const int32_t *tfs, const double *weights, const double *norms,
             const uint8_t *live, double k1, double *acc, uint8_t *seen, int k,
             int32_t *out_ids, double *out_scores)
{
    int64_t *starts = malloc(sizeof(int64_t) * 2 * (n_terms > 0 ? n_terms : 1));
    if (!starts)
        return -1;
    int64_t *ends = starts + n_terms;
    int64_t total = 0;
    for (int j = 0; j < n_terms; j++) {
        int64_t lo = 0, hi = n_p_terms;
        while (lo < hi) {
            const int64_t mid = lo + (hi - lo) / 2;
            if (p_terms[mid] < terms[j])
                lo = mid + 1;
            else
                hi = mid;
        }
        const int found = lo < n_p_terms && p_terms[lo] == terms[j];
        starts[j] = found ? p_offsets[lo] : 0;
        ends[j] = found ? p_offsets[lo + 1] : 0;
        total += ends[j] - starts[j];
    }
    int32_t *touched = malloc(sizeof(int32_t) * (total > 0 ? total : 1));
    if (!touched) {
        free(starts);
        return -1;
    }
    int64_t n_touched = 0;
    const double k1_plus_1 = k1 + 1.0;
    for (int j = 0; j < n_terms; j++) {
        const double idf = idfs[j];
        for (int64_t p = starts[j]; p < ends[j]; p++) {
            const int32_t u = units[p];
            if (live && !live[u])
                continue;
            if (weights) {
                acc[u] += idf * weights[p];
            } else {
                const double tf = (double)tfs[p];
                acc[u] += idf * (tf * k1_plus_1 / (tf + norms[u]));
            }
            if (!seen[u]) {
                seen[u] = 1;
                touched[n_touched++] = u;
            }
        }
    }
    const int found = take_best(acc, seen, touched, n_touched, k, out_ids, out_scores);
    free(touched);
    free(starts);
    return found;
}

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_bm25kernel", NULL, -1, NULL};

PyMODINIT_FUNC PyInit__bm25kernel(void) { return PyModule_Create(&module); }
