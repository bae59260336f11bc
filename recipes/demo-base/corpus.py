"""Read the Gutenberg shards: documents end with a blank line and a line `<|endoftext|>` (corpus README)."""

import gzip
import os
from typing import Iterator, Tuple

SEPARATOR = "\n\n<|endoftext|>\n"


def read_documents(corpus_dir: str) -> Iterator[Tuple[str, str]]:
    for name in sorted(os.listdir(corpus_dir)):
        if not name.endswith(".txt.gz"):
            continue
        with gzip.open(os.path.join(corpus_dir, name), "rt", encoding="utf-8") as f:
            text = f.read()
        for i, doc in enumerate(text.split(SEPARATOR)):
            doc = doc.strip()
            if doc:
                yield f"{name}#{i}", doc
