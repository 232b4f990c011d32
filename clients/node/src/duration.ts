// keep_alive as Ollama reads it: a JSON number is seconds, a string is Go's
// time.ParseDuration syntax ("5m", "1h30m", "-1s"); negative means forever. The wire
// type is google.protobuf.Duration (tokenwire_common/duration.py is the server's side).

import type { Duration } from "./gen/google/protobuf/duration";
import type { KeepAlive } from "./interfaces";

const UNITS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  "µs": 1e3,
  "μs": 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};
const PART = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/;

/** Go's time.ParseDuration, in nanoseconds; errors carry Go's message. */
export function parseGoDuration(text: string): number {
  const invalid = new Error(`time: invalid duration "${text}"`);
  if (text === "0" || text === "+0" || text === "-0") return 0;
  let rest = text;
  let sign = 1;
  if (rest.startsWith("-") || rest.startsWith("+")) {
    sign = rest.startsWith("-") ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === "") throw invalid;
  let total = 0;
  while (rest !== "") {
    const m = PART.exec(rest);
    if (m === null) {
      if (/^[\d.]+$/.test(rest)) throw new Error(`time: missing unit in duration "${text}"`);
      throw invalid;
    }
    total += Number(m[1]) * (UNITS[m[2]] ?? 0);
    rest = rest.slice(m[0].length);
  }
  return sign * total;
}

export function keepAlive(value: KeepAlive | undefined): Duration | undefined {
  if (value === undefined) return undefined;
  const ns = typeof value === "number" ? value * 1e9 : parseGoDuration(value);
  if (!Number.isFinite(ns)) throw new Error(`Unsupported keep_alive: ${String(value)}`);
  const seconds = Math.trunc(ns / 1e9);
  return { seconds, nanos: Math.round(ns - seconds * 1e9) };
}
