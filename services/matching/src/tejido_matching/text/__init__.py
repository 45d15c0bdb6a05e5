"""Text similarity: multilingual sentence embeddings (Spanish and English in one space) and BM25."""
