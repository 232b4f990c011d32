// A program written for ollama-js (npm "ollama"). tests/e2e/test_node_client.py runs it
// through the REST shim, then with only its import changed to "@tokenwire/client" over
// gRPC, and compares what it printed. Both builds pass tsc --strict.
import { Ollama } from "ollama";

const GREEDY = { temperature: 0, num_predict: 12, seed: 1 };

async function main(): Promise<void> {
  const model = process.argv[2] ?? "smollm2:135m";
  const ollama = new Ollama({ host: process.env.HOST });
  const seen: Record<string, unknown> = {};

  let streamed = "";
  const stream = await ollama.generate({ model, prompt: "Name a colour.", stream: true, options: GREEDY });
  for await (const part of stream) streamed += part.response;
  seen.generate_streamed = streamed;

  const once = await ollama.generate({ model, prompt: "Name a colour.", options: GREEDY });
  seen.generate = once.response;
  seen.generate_done_reason = once.done_reason;

  const chat = await ollama.chat({
    model,
    messages: [
      { role: "user", content: "My name is Ada." },
      { role: "assistant", content: "Hello Ada." },
      { role: "user", content: "What is my name?" },
    ],
    options: GREEDY,
  });
  seen.chat = chat.message.content;

  const embedded = await ollama.embed({ model, input: ["one", "two"] });
  seen.embed = [embedded.embeddings.length, embedded.embeddings[0]?.length];

  const list = await ollama.list();
  seen.list_has_model = list.models.some((m) => m.model === model);

  try {
    await ollama.show({ model: "does-not-exist" });
    seen.error = "none";
  } catch (e) {
    // ollama-js 0.6 does not export its ResponseError class; its fields are the API.
    const failed = e as { status_code?: number; error?: string };
    if (failed.status_code === undefined) throw e;
    seen.error = { status: failed.status_code, message: failed.error };
  }
  console.log(JSON.stringify(seen));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
