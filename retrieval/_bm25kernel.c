/* BM25 top-k over one segment's postings, with rank-bm25's BM25Okapi arithmetic.
 *
 * Loaded through ctypes (retrieval/kernel.py); the module init only exists so that setuptools
 * builds and names the library like any extension. Built with -ffp-contract=off: a fused
 * multiply-add would round differently from rank-bm25's numpy expressions.
 */
#include <Python.h>
#include <stdint.h>

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
 * For term j (query order, repeats included) the postings are units[starts[j]:ends[j]] with
 * term frequencies tfs[...]. norms[u] is k1 * ((1 - b) + b * length[u] / avgdl), computed once
 * per index with the same operations. acc (doubles) and seen (bytes) have one slot per unit, are
 * zero on entry and are left zero. touched needs room for the summed posting lengths. live may be NULL.
 * Returns the number of results written to out_ids/out_scores, best first. */
int bm25_top(int n_terms, const int64_t *starts, const int64_t *ends, const double *idfs,
             const int32_t *units, const int32_t *tfs, const double *norms,
             const uint8_t *live, double k1, double *acc,
             uint8_t *seen, int32_t *touched, int k, int32_t *out_ids, double *out_scores)
{
    int64_t n_touched = 0;
    const double k1_plus_1 = k1 + 1.0;
    for (int j = 0; j < n_terms; j++) {
        const double idf = idfs[j];
        for (int64_t p = starts[j]; p < ends[j]; p++) {
            const int32_t u = units[p];
            if (live && !live[u])
                continue;
            const double tf = (double)tfs[p];
            acc[u] += idf * (tf * k1_plus_1 / (tf + norms[u]));
            if (!seen[u]) {
                seen[u] = 1;
                touched[n_touched++] = u;
            }
        }
    }
    return take_best(acc, seen, touched, n_touched, k, out_ids, out_scores);
}

/* bm25_top with each posting's tf * (k1 + 1) / (tf + norms[u]) computed beforehand (weights,
 * one double per posting, by the same operations): the contribution idf * weights[p] is the
 * same number, without a division or a look-up of the unit's norm per posting. */
int bm25_top_weighted(int n_terms, const int64_t *starts, const int64_t *ends,
                      const double *idfs, const int32_t *units, const double *weights,
                      const uint8_t *live, double *acc, uint8_t *seen, int32_t *touched, int k,
                      int32_t *out_ids, double *out_scores)
{
    int64_t n_touched = 0;
    for (int j = 0; j < n_terms; j++) {
        const double idf = idfs[j];
        for (int64_t p = starts[j]; p < ends[j]; p++) {
            const int32_t u = units[p];
            if (live && !live[u])
                continue;
            acc[u] += idf * weights[p];
            if (!seen[u]) {
                seen[u] = 1;
                touched[n_touched++] = u;
            }
        }
    }
    return take_best(acc, seen, touched, n_touched, k, out_ids, out_scores);
}

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_bm25kernel", NULL, -1, NULL};

PyMODINIT_FUNC PyInit__bm25kernel(void) { return PyModule_Create(&module); }
