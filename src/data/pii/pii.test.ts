import { describe, expect, it } from "vitest";
import { readTableRows } from "../import/table-rows.js";
import type { ChatRecord } from "../record.js";
import { BANKING77_CSV, BITEXT_CSV, collect } from "../testing/temp-workspace.js";
import { cardNetwork, detectPii, ibanValid, luhnValid, PiiScanner, ssnValid, type PiiFinding } from "./index.js";

const types = (text: string) => detectPii(text).map((f) => `${f.type}:${text.slice(f.start, f.end)}`);

describe("checksums", () => {
  it("Luhn, card prefixes, IBAN mod-97 and SSN rules", () => {
    expect([luhnValid("4111111111111111"), luhnValid("4111111111111112")]).toEqual([true, false]);
    expect([cardNetwork("4111111111111111"), cardNetwork("378282246310005"), cardNetwork("5555555555554444"), cardNetwork("113542617735902")]).toEqual(["visa", "amex", "mastercard", undefined]);
    expect([ibanValid("GB82WEST12345698765432"), ibanValid("GB82WEST12345698765433"), ibanValid("DE89370400440532013000"), ibanValid("XX89370400440532013000")]).toEqual([true, false, true, false]);
    expect([ssnValid("123", "45", "6789"), ssnValid("000", "45", "6789"), ssnValid("666", "45", "6789"), ssnValid("912", "45", "6789"), ssnValid("123", "00", "6789"), ssnValid("123", "45", "0000")]).toEqual([true, false, false, false, false, false]);
  });
});

describe("detectPii", () => {
  it("finds each type with its exact span", () => {
    expect(types("write to Jane.Doe+x@mail.example.com today")).toEqual(["EMAIL:Jane.Doe+x@mail.example.com"]);
    expect(types("call +44 20 7946 0958, (415) 555-2671 or 1-800-555-0199")).toEqual(["PHONE:+44 20 7946 0958", "PHONE:(415) 555-2671", "PHONE:1-800-555-0199"]);
    expect(types("card 4111 1111 1111 1111 or 378282246310005")).toEqual(["CREDIT_CARD:4111 1111 1111 1111", "CREDIT_CARD:378282246310005"]);
    expect(types("pay to GB82 WEST 1234 5698 7654 32")).toEqual(["IBAN:GB82 WEST 1234 5698 7654 32"]);
    expect(types("ssn 123-45-6789, my SSN is 078051120")).toEqual(["SSN:123-45-6789", "SSN:078051120"]);
    expect(types("from 192.168.1.20 and 2001:db8::8a2e:370:7334")).toEqual(["IP_ADDRESS:192.168.1.20", "IP_ADDRESS:2001:db8::8a2e:370:7334"]);
    expect(types("keys sk-proj-abcdEFGH1234ijklMNOP5678 AKIAIOSFODNN7EXAMPLE hf_abcdefghijklmnopqrstuvwxyzABCDEF12 xoxb-123456789012-abcdefABCDEF")).toEqual([
      "API_KEY:sk-proj-abcdEFGH1234ijklMNOP5678",
      "API_KEY:AKIAIOSFODNN7EXAMPLE",
      "API_KEY:hf_abcdefghijklmnopqrstuvwxyzABCDEF12",
      "API_KEY:xoxb-123456789012-abcdefABCDEF",
    ]);
    expect(types("token=Zx9fQ2LmP0aB7cD4eF6gH8iJ1kL3mN5")).toEqual(["SECRET:Zx9fQ2LmP0aB7cD4eF6gH8iJ1kL3mN5"]);
    expect(types("ship to 1600 Pennsylvania Avenue, Washington, DC 20500 please")).toEqual(["ADDRESS:1600 Pennsylvania Avenue, Washington, DC 20500"]);
  });

  it("does not flag invalid checksums, plain numbers, dates, times, versions, ids or placeholders", () => {
    expect(
      types(
        "order 113542617735902, card 4111 1111 1111 1112, IBAN GB82 WEST 1234 5698 7654 33, SSN 666-12-3456, on 2023-10-12 at 10:30:00, v1.2.3, " +
          "amount 1234567890, ref customer_support_training_v2, {{Order Number}} {{Customer Support Phone Number}} <EMAIL_1>",
      ),
    ).toEqual([]);
  });

  it("rejects bad options with DATA_PII_OPTIONS", () => {
    expect(() => detectPii("x", { types: ["NOPE" as "EMAIL"] })).toThrow(expect.objectContaining({ code: "DATA_PII_OPTIONS" }));
  });
});

describe("PiiScanner", () => {
  const record: ChatRecord = {
    messages: [
      { role: "user", content: "I'm bob@x.io, call 415-555-2671. Again: BOB@x.io" },
      { role: "assistant", content: "Thanks bob@x.io, we will email ann@y.org too." },
    ],
    metadata: { id: "c1", contact: "bob@x.io" },
  };

  it("redacts with typed placeholders consistent within a conversation", () => {
    const s = new PiiScanner({ mode: "redact" });
    const { record: out, findings } = s.process(record);
    expect(out).toEqual({
      messages: [
        { role: "user", content: "I'm <EMAIL_1>, call <PHONE_1>. Again: <EMAIL_1>" },
        { role: "assistant", content: "Thanks <EMAIL_1>, we will email <EMAIL_2> too." },
      ],
      metadata: { id: "c1", contact: "<EMAIL_1>" },
    });
    expect(findings[0]).toEqual({ record: 0, id: "c1", path: "messages[0].content", message: 0, type: "EMAIL", start: 4, end: 12, placeholder: "<EMAIL_1>" });
    expect(s.process(record).record).toEqual(out); // numbering restarts per conversation
  });

  it("audit lines and the report carry no raw values", async () => {
    const s = new PiiScanner({ mode: "detect" });
    const audit: PiiFinding[] = [];
    const kept = await collect(s.run([record], (f) => void audit.push(...f)));
    expect(kept).toEqual([record]);
    const serialized = JSON.stringify({ audit, report: s.report });
    for (const raw of ["bob@x.io", "BOB@x.io", "ann@y.org", "415-555-2671"]) expect(serialized).not.toContain(raw);
    expect(audit.map((f) => [f.path, f.type, f.start, f.end])).toEqual([
      ["messages[0].content", "EMAIL", 4, 12],
      ["messages[0].content", "PHONE", 19, 31],
      ["messages[0].content", "EMAIL", 40, 48],
      ["messages[1].content", "EMAIL", 7, 15],
      ["messages[1].content", "EMAIL", 31, 40],
      ["metadata.contact", "EMAIL", 0, 8],
    ]);
    expect(s.report.byType.EMAIL).toBe(5);
  });

  it("drops records with findings in drop mode", async () => {
    const s = new PiiScanner({ mode: "drop" });
    const clean: ChatRecord = { messages: [{ role: "user", content: "hello" }] };
    expect(await collect(s.run([record, clean]))).toEqual([clean]);
    expect(s.report).toMatchObject({ records: 2, recordsWithFindings: 1, dropped: 1 });
  });

  it("flags nothing in banking77 and only real shapes in bitext (real data)", async () => {
    const scan = async (path: string, cols: string[]) => {
      const s = new PiiScanner();
      for await (const row of readTableRows({ kind: "csv", path })) {
        if (row.values) s.process({ messages: cols.map((c, i) => ({ role: i ? "assistant" : "user", content: row.values![c] })) } as ChatRecord);
      }
      return s.report;
    };
    const banking = await scan(BANKING77_CSV, ["text"]);
    expect(banking.findings).toBe(0);
    const bitext = await scan(BITEXT_CSV, ["instruction", "response"]);
    // Order numbers like 113542617735902 and {{…}} placeholders are not PII; two support emails and one
    // 64-char hash-like token (twice) are real shapes.
    expect(bitext.byType.CREDIT_CARD + bitext.byType.PHONE + bitext.byType.SSN + bitext.byType.IBAN).toBe(0);
    expect(bitext.byType).toMatchObject({ EMAIL: 2, SECRET: 2 });
  });
});
