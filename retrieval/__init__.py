"""qabot retrieval library: corpus loading, segmentation, BM25 index, search and answers."""
