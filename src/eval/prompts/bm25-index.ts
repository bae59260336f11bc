import MiniSearch from "minisearch";

/**
 * Okapi BM25 retrieval over a document collection through MiniSearch (BM25+ scoring, k1 = 1.2, b = 0.7,
 * d = 0.5 by default). Passages are whole documents or fixed windows of words when `passageWords` is set.
 */
export interface Passage {
  id: string;
  source: string;
  text: string;
}

export interface RetrievedPassage extends Passage {
  score: number;
}

export interface Bm25Options {
  k1?: number;
  b?: number;
  d?: number;
}

export function splitPassages(source: string, text: string, passageWords?: number): Passage[] {
  if (!passageWords) return [{ id: source, source, text }];
  const words = text.split(/\s+/).filter(Boolean);
  const out: Passage[] = [];
  for (let i = 0; i < words.length; i += passageWords) out.push({ id: `${source}#${out.length}`, source, text: words.slice(i, i + passageWords).join(" ") });
  return out;
}

export class Bm25Index {
  private readonly search: MiniSearch<Passage>;
  readonly size: number;

  constructor(passages: readonly Passage[], private readonly options: Bm25Options = {}) {
    this.search = new MiniSearch<Passage>({ fields: ["text"], storeFields: ["source", "text"], idField: "id" });
    this.search.addAll([...passages]);
    this.size = passages.length;
  }

  query(text: string, k: number): RetrievedPassage[] {
    const results = this.search.search(text, {
      combineWith: "OR",
      prefix: false,
      fuzzy: false,
      bm25: { k: this.options.k1 ?? 1.2, b: this.options.b ?? 0.7, d: this.options.d ?? 0.5 },
    });
    return results.slice(0, k).map((r) => ({ id: String(r.id), source: r.source as string, text: r.text as string, score: r.score }));
  }
}
