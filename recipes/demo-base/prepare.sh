#!/usr/bin/env bash
# Local step: put the corpus where a GPU-machine call can carry it (.gpu-carry/ is git-ignored).
# The corpus stays outside the repository; only the trained model comes back into it.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p .gpu-carry/corpus
cp ../shared/corpus/gutenberg-0*.txt.gz ../shared/corpus/MANIFEST.tsv .gpu-carry/corpus/
du -sh .gpu-carry/corpus
