/**
 * Generates samples/support/requests.csv: customer-support requests for Brightleaf Home (a fictional home-goods
 * shop) with their intent and a house-style reply. Deterministic (seeded), so the committed CSV is exactly what
 * this script writes:
 *
 *   npx tsx samples/support/generate.ts            # rewrites requests.csv
 *   npx tsx samples/support/generate.ts --check    # exits 1 when requests.csv differs
 *
 * House style (what fine-tuning should teach and the base model cannot guess):
 *   "Hi {first name}, thanks for reaching out! {one concrete next step} — Brightleaf Support"
 * Each intent's next step contains a fixed key phrase (`phrase` in intents.json), so the intent can be
 * recovered from a reply: that is how the quickstart checks that a reply names the right next step.
 *
 * Planted problems, so every cleaning step visibly does something: exact duplicates, near duplicates, e-mail
 * addresses and phone numbers, a malformed line (wrong number of fields), stray whitespace and control
 * characters, and a row with an empty reply.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createRandom as prng } from "../../src/eval/stats/seeded-random.js";

const here = dirname(fileURLToPath(import.meta.url));
interface IntentSpec {
  phrase: string;
  steps: string[];
  requests: string[];
}
const SPEC = (JSON.parse(readFileSync(join(here, "intents.json"), "utf8")) as { intents: Record<string, IntentSpec> }).intents;
type Intent = string;
const INTENTS = Object.keys(SPEC);
const REQUESTS = Object.fromEntries(INTENTS.map((i) => [i, SPEC[i].requests]));
const REPLY_STEPS = Object.fromEntries(INTENTS.map((i) => [i, SPEC[i].steps]));

const SEED = 20240611;
const PER_INTENT = 48;

const FIRST = ["Sarah", "James", "Priya", "Tom", "Elena", "Marcus", "Aiko", "David", "Fatima", "Liam", "Grace", "Omar", "Chloe", "Noah", "Mia", "Lucas", "Zoe", "Ethan", "Nina", "Ben", "Hannah", "Carlos", "Ivy", "Sam", "Rosa", "Kevin", "Leila", "Jack", "Emma", "Raj", "Olivia", "Pete", "Ana", "Felix", "Julia", "Mateo", "Laura", "Yusuf", "Kate", "Dan"];
const LAST = ["Miller", "Okafor", "Patel", "Nguyen", "Garcia", "Brown", "Schmidt", "Kowalski", "Rossi", "Tanaka", "Smith", "Haddad", "Lopez", "Walsh", "Berg"];
const CHANNELS = ["email", "chat", "web_form", "email", "chat"];
const OPENERS = ["Hi,", "Hello,", "Hey there,", "Hi team,", "Good morning,", "", "", "Hello Brightleaf,"];
const SIGNOFFS = ["Thanks, {first}", "- {first}", "{first} {last}", "Regards, {first} {last}", "Cheers, {first}", "thx {first}", "Best, {first}"];

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)];
}

/** One typo now and then: a swapped pair of letters or a dropped letter, as people type. */
function typo(rand: () => number, text: string): string {
  const words = text.split(" ");
  const i = Math.floor(rand() * words.length);
  const w = words[i];
  if (w.length < 5 || !/^[a-z]+$/.test(w)) return text;
  const j = 1 + Math.floor(rand() * (w.length - 3));
  words[i] = rand() < 0.5 ? w.slice(0, j) + w[j + 1] + w[j] + w.slice(j + 2) : w.slice(0, j) + w.slice(j + 1);
  return words.join(" ");
}

interface Row {
  ticket_id: string;
  customer_id: string;
  channel: string;
  intent: Intent;
  request: string;
  reply: string;
}

function makeRow(rand: () => number, n: number, intent: Intent): Row {
  const first = pick(rand, FIRST);
  const last = pick(rand, LAST);
  const order = `BL-${10000 + Math.floor(rand() * 89999)}`;
  let body = pick(rand, REQUESTS[intent]).replaceAll("{order}", order);
  if (rand() < 0.25) body = typo(rand, body);
  if (rand() < 0.15) body = body.toLowerCase();
  const opener = pick(rand, OPENERS);
  const signoff = pick(rand, SIGNOFFS).replaceAll("{first}", first).replaceAll("{last}", last);
  const request = [opener, body, signoff].filter(Boolean).join(rand() < 0.5 ? " " : "\n");
  const reply = `Hi ${first}, thanks for reaching out! ${pick(rand, REPLY_STEPS[intent])} — Brightleaf Support`;
  return {
    ticket_id: `T-${String(n).padStart(5, "0")}`,
    customer_id: `C-${1000 + Math.floor(rand() * 8999)}`,
    channel: pick(rand, CHANNELS),
    intent,
    request,
    reply,
  };
}

function csvField(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

const COLUMNS = ["ticket_id", "customer_id", "channel", "intent", "request", "reply"] as const;

function toLine(row: Row): string {
  return COLUMNS.map((c) => csvField(row[c])).join(",");
}

export function generateCsv(): string {
  const rand = prng(SEED);
  const rows: Row[] = [];
  let n = 1;
  for (let k = 0; k < PER_INTENT; k++) for (const intent of INTENTS) rows.push(makeRow(rand, n++, intent));

  // Planted problems (positions are seeded too, and each is described in README.md).
  const lines = rows.map(toLine);
  const plant = (at: number, line: string) => lines.splice(at, 0, line);
  // Exact duplicates: the same ticket submitted twice (new ticket id, same text).
  for (const src of [3, 41, 97, 150, 222, 305]) plant(src + 7, toLine({ ...rows[src], ticket_id: `T-${String(n++).padStart(5, "0")}` }));
  // Near duplicates: a resubmission with a word added or punctuation changed.
  for (const [src, edit] of [[12, (s: string) => s.replace(/\.(\s|$)/, "!!$1")], [77, (s: string) => `${s} Please help.`], [190, (s: string) => s.replace(",", "")], [260, (s: string) => `URGENT: ${s}`]] as const) {
    plant(src + 11, toLine({ ...rows[src], ticket_id: `T-${String(n++).padStart(5, "0")}`, request: edit(rows[src].request) }));
  }
  // PII: e-mail addresses and phone numbers in messages (redacted to typed placeholders).
  const withPii = (i: number, extra: string) => (lines[i] = toLine({ ...rows[i], request: `${rows[i].request} ${extra}` }));
  withPii(30, "You can reach me at sarah.miller@example.com.");
  withPii(131, "Call me on (415) 555-0142 if easier.");
  withPii(208, "my email is tom.nguyen84@example.org");
  withPii(333, "Phone: +1 212 555 0199.");
  // Stray whitespace and control characters (cleaned).
  const messy = (i: number, f: (s: string) => string) => (lines[i] = toLine({ ...rows[i], request: f(rows[i].request) }));
  messy(55, (s) => `   ${s}   `);
  messy(118, (s) => s.replace(" ", "\u0007 "));
  messy(171, (s) => s.replaceAll(" ", "  "));
  messy(244, (s) => `${s}\u200B\t`);
  // A row with an empty reply (rejected at import with its line number).
  lines.splice(280, 0, toLine({ ...rows[280], ticket_id: `T-${String(n++).padStart(5, "0")}`, reply: "" }));
  // A malformed line: an unquoted comma gives it one field too many.
  lines.splice(350, 0, `T-${String(n++).padStart(5, "0")},C-4242,email,refund,I want a refund, the lamp arrived broken - Ana,Hi Ana, thanks for reaching out!`);
  return `${COLUMNS.join(",")}\n${lines.join("\n")}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const target = join(here, "requests.csv");
  const csv = generateCsv();
  if (process.argv.includes("--check")) {
    if (readFileSync(target, "utf8") !== csv) {
      process.stderr.write("requests.csv differs from what generate.ts writes; run `npx tsx samples/support/generate.ts`\n");
      process.exit(1);
    }
  } else writeFileSync(target, csv);
}
