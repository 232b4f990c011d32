// The TypeScript runner of clients/conformance/cases.json (format: its README.md):
// each step calls the Ollama client, turns the answer into Ollama's JSON shape and
// checks it.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { resolve as resolvePath } from "node:path";
import { isDeepStrictEqual } from "node:util";

import { Ollama, ResponseError } from "../src";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Doc = { [key: string]: Json };

export interface Step {
  call: string;
  args?: Doc;
  timeout_s?: number;
  leave_after?: number;
  expect?: Doc[];
  expect_error?: Doc;
  save?: Record<string, string>;
}

export interface Spec {
  vars: Doc;
  cases: { name: string; steps: Step[] }[];
}

export function loadCases(): Spec {
  return JSON.parse(readFileSync(resolvePath(__dirname, "../../../conformance/cases.json"), "utf8")) as Spec;
}

const VAR = /\$\{(\w+)\}/g;

export function substitute(v: Json | undefined, names: Doc): Json {
  if (v === undefined) return null;
  if (typeof v === "string") {
    const whole = /^\$\{(\w+)\}$/.exec(v);
    if (whole) return names[whole[1]] ?? null;
    return v.replace(VAR, (_, name: string) => String(names[name]));
  }
  if (Array.isArray(v)) return v.map((x) => substitute(x, names));
  if (v !== null && typeof v === "object") {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, substitute(x, names)]));
  }
  return v;
}

const MISSING = Symbol("missing");

/** RFC 6901 JSON Pointer. */
export function resolve(doc: Json, pointer: string): Json | typeof MISSING {
  if (pointer === "") return doc;
  let at: Json = doc;
  for (const raw of pointer.slice(1).split("/")) {
    const token = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(at)) {
      const i = /^\d+$/.test(token) ? Number(token) : -1;
      if (i < 0 || i >= at.length) return MISSING;
      at = at[i];
    } else if (at !== null && typeof at === "object" && token in at) {
      at = at[token];
    } else {
      return MISSING;
    }
  }
  return at;
}

function jsonType(v: Json): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v;
}

function size(v: Json): number | undefined {
  if (typeof v === "string") return [...v].length;
  if (Array.isArray(v)) return v.length;
  return undefined;
}

function allHold(doc: Json, expectations: Json): boolean {
  return Array.isArray(expectations) && expectations.every((e) => holds(doc, e as Doc) === "");
}

/** "" when the expectation holds, else why not. */
export function holds(doc: Json, e: Doc): string {
  const at = String(e.at);
  const value = resolve(doc, at);
  if (value === MISSING) return `${at}: missing`;
  for (const [op, want] of Object.entries(e)) {
    if (op === "at") continue;
    let ok: boolean;
    switch (op) {
      case "equals":
        ok = isDeepStrictEqual(value, want);
        break;
      case "one_of":
        ok = Array.isArray(want) && want.some((w) => isDeepStrictEqual(value, w));
        break;
      case "at_most":
        ok = typeof value === "number" && value <= Number(want);
        break;
      case "at_least":
        ok = typeof value === "number" && value >= Number(want);
        break;
      case "length":
        ok = size(value) === Number(want);
        break;
      case "min_length":
        ok = (size(value) ?? -1) >= Number(want);
        break;
      case "type":
        ok = jsonType(value) === want;
        break;
      case "matches":
        ok = typeof value === "string" && new RegExp(String(want)).test(value);
        break;
      case "contains":
        ok = Array.isArray(value) && value.some((x) => isDeepStrictEqual(x, want));
        break;
      case "has_item":
        ok = Array.isArray(value) && value.some((x) => allHold(x, want));
        break;
      case "has_no_item":
        ok = Array.isArray(value) && !value.some((x) => allHold(x, want));
        break;
      case "each":
        ok = Array.isArray(value) && value.every((x) => allHold(x, want));
        break;
      default:
        return `unknown op ${op}`;
    }
    if (!ok) return `${at}: ${JSON.stringify(value).slice(0, 300)} does not satisfy ${op} ${JSON.stringify(want)}`;
  }
  return "";
}

/** The answer as Ollama's JSON shapes it (Dates as RFC 3339 text). */
function document(v: unknown): Json {
  return JSON.parse(JSON.stringify(v)) as Json;
}

function streamDocument(chunks: Json[]): Doc {
  let text = "";
  for (const c of chunks) {
    const m = c as Doc;
    if (typeof m.response === "string") text += m.response;
    else if (m.message !== null && typeof m.message === "object") text += String((m.message as Doc).content ?? "");
  }
  return {
    chunks,
    last: chunks.length ? chunks[chunks.length - 1] : null,
    before_last: chunks.slice(0, -1),
    count: chunks.length,
    text,
  };
}

async function answer(result: unknown, leaveAfter: number | undefined): Promise<Json> {
  if (result === null || typeof result !== "object" || !(Symbol.asyncIterator in result)) return document(result);
  const chunks: Json[] = [];
  for await (const chunk of result as AsyncIterable<unknown>) {
    chunks.push(document(chunk));
    if (leaveAfter && chunks.length === leaveAfter) break; // leaving cancels the RPC
  }
  return streamDocument(chunks);
}

// The step's args are Ollama's JSON, which is exactly what ollama-js's methods take.
/* eslint-disable @typescript-eslint/no-explicit-any */
async function call(c: Ollama, s: Step, args: any): Promise<unknown> {
  switch (s.call) {
    case "version":
      return c.version();
    case "list":
      return c.list();
    case "ps":
      return c.ps();
    case "show":
      return c.show(args);
    case "generate":
      return c.generate(args);
    case "chat":
      return c.chat(args);
    case "embed":
      return c.embed(args);
    case "embeddings":
      return c.embeddings(args);
    case "create":
      return c.create(args);
    case "copy":
      return c.copy(args);
    case "delete":
      return c.delete(args);
    case "pull":
      return c.pull(args);
    case "push":
      return c.push(args);
  }
  throw new Error(`unknown call ${s.call}`);
}

export async function runStep(host: string, s: Step, names: Doc): Promise<void> {
  const args = substitute(s.args ?? {}, names);
  const client = new Ollama({ host, ...(s.timeout_s ? { timeout: s.timeout_s * 1000 } : {}) });
  try {
    let doc: Json;
    try {
      doc = await answer(await call(client, s, args), s.leave_after);
    } catch (e) {
      if (!s.expect_error) throw new Error(`${s.call}: unexpected error ${String(e)}`);
      if (!(e instanceof ResponseError)) throw new Error(`${s.call}: ${String(e)} is not a ResponseError`);
      const got: Doc = { code: e.codeName, status_code: e.status_code, message: e.error };
      const want = substitute(s.expect_error, names) as Doc;
      for (const [k, v] of Object.entries(want)) {
        if (!isDeepStrictEqual(got[k], v)) {
          throw new Error(`${s.call}: error ${JSON.stringify(got)} is not ${JSON.stringify(want)}`);
        }
      }
      return;
    }
    if (s.expect_error) throw new Error(`${s.call}: expected ${JSON.stringify(s.expect_error)}, got an answer`);
    for (const e of s.expect ?? []) {
      const why = holds(doc, substitute(e, names) as Doc);
      if (why) throw new Error(`${s.call}: ${why}`);
    }
    for (const [name, pointer] of Object.entries(s.save ?? {})) {
      const v = resolve(doc, pointer);
      names[name] = v === MISSING ? null : v;
    }
  } finally {
    client.close();
  }
}

export function freshNames(spec: Spec): Doc {
  return { ...spec.vars, run: randomBytes(4).toString("hex") };
}
