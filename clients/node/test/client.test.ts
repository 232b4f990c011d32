// The Node client's suite: the shared conformance cases, then this client's own
// behaviour, against one live server started here.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { AbortError, Ollama, ResponseError, parseGoDuration } from "../src";
import { freshNames, holds, loadCases, runStep } from "./conformance";
import { startServer, type Server } from "./server";

let server: Server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server.stop();
});

const COUNTING = "1, 2, 3, 4, 5, 6, 7, 8, 9, 10,";

describe("conformance", () => {
  const spec = loadCases();
  let passed = 0;
  for (const c of spec.cases) {
    test(c.name, async () => {
      const names = freshNames(spec);
      for (const s of c.steps) await runStep(server.addr, s, names);
      passed += 1;
    });
  }
  after(() => {
    const n = spec.cases.length;
    console.log(
      `conformance (clients/conformance/cases.json, TypeScript): ${n} cases run, ${passed} passed, ${n - passed} failed`,
    );
  });
});

describe("the runner", () => {
  test("rejects a wrong answer", () => {
    const doc = { models: [{ model: "a:latest" }], done_reason: "stop", eval_count: 9 };
    const wrong: Parameters<typeof holds>[1][] = [
      { at: "/eval_count", at_most: 8 },
      { at: "/done_reason", one_of: ["length"] },
      { at: "/models", has_item: [{ at: "/model", equals: "b" }] },
      { at: "/missing", equals: 1 },
    ];
    for (const e of wrong) {
      assert.notEqual(holds(doc, e), "", JSON.stringify(e));
    }
    assert.equal(holds(doc, { at: "/models/0/model", equals: "a:latest" }), "");
  });
});

describe("keep_alive", () => {
  test("reads Go's duration syntax as Ollama does", () => {
    assert.equal(parseGoDuration("5m"), 300e9);
    assert.equal(parseGoDuration("1h30m"), 5400e9);
    assert.equal(parseGoDuration("-1s"), -1e9);
    assert.equal(parseGoDuration("1.5s"), 1.5e9);
    assert.throws(() => parseGoDuration("5"), /missing unit in duration "5"/);
    assert.throws(() => parseGoDuration("5 minutes"), /invalid duration/);
  });
});

describe("the client", () => {
  test("abort() cancels every stream in flight and frees the slot", async () => {
    const client = new Ollama({ host: server.addr });
    try {
      const options = { num_predict: 100000, temperature: 0 };
      const stream = await client.generate({ model: "smollm2:135m", prompt: COUNTING, raw: true, stream: true, options });
      const seen: string[] = [];
      await assert.rejects(
        (async () => {
          for await (const chunk of stream) {
            seen.push(chunk.response);
            if (seen.length === 2) client.abort();
          }
        })(),
        AbortError,
      );
      assert.equal(seen.length, 2);
      // One slot: this finishes within its deadline only if the engine stopped the first.
      const timed = new Ollama({ host: server.addr, timeout: 30_000 });
      const reply = await timed.generate({ model: "smollm2:135m", prompt: "Say yes.", options: { num_predict: 4 } });
      timed.close();
      assert.equal(reply.done, true);
    } finally {
      client.close();
    }
  });

  test("gives plain JSON: numbers, objects and Dates, no Struct wrappers", async () => {
    const client = new Ollama({ host: server.addr });
    try {
      const show = await client.show({ model: "smollm2:135m" });
      assert.equal(typeof show.model_info["llama.embedding_length"], "number");
      assert.equal(show.model_info["general.architecture"], "llama");
      assert.ok(show.modified_at instanceof Date);
      const list = await client.list();
      assert.equal(typeof list.models[0]?.size, "number");
      assert.ok((list.models[0]?.size ?? 0) > 1_000_000);
      const reply = await client.chat({
        model: "smollm2:135m",
        messages: [{ role: "user", content: "hi" }],
        format: { type: "object", properties: { answer: { type: "string" } }, required: ["answer"] },
        options: { num_predict: 24, temperature: 0 },
      });
      assert.equal(reply.message.role, "assistant");
      assert.ok(reply.created_at instanceof Date);
      assert.equal(typeof reply.total_duration, "number");
    } finally {
      client.close();
    }
  });

  test("fails with a ResponseError that keeps the gRPC code", async () => {
    const client = new Ollama({ host: server.addr });
    try {
      await assert.rejects(client.show({ model: "missing-model" }), (e: unknown) => {
        assert.ok(e instanceof ResponseError);
        assert.equal(e.status_code, 404);
        assert.equal(e.codeName, "NOT_FOUND");
        assert.equal(e.error, "model 'missing-model:latest' not found");
        return true;
      });
      await assert.rejects(
        client.generate({ model: "smollm2:135m", prompt: "x", format: ["no"] as unknown as string }),
        /invalid format/,
      );
    } finally {
      client.close();
    }
  });
});
