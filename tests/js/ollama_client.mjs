// Runs the official `ollama` npm client against OLLAMA_HOST and prints one JSON
// object with what it saw; tests/e2e/test_js_client.py asserts on it.
import { Ollama } from "ollama";

const model = process.env.TOKENWIRE_TEST_MODEL;
const client = new Ollama({ host: process.env.OLLAMA_HOST });
const options = { temperature: 0, num_predict: 16 };

const generated = await client.generate({ model, prompt: "Why is the sky blue?", options });
let streamed = "";
let last = null;
for await (const part of await client.generate({ model, prompt: "Why is the sky blue?", options, stream: true })) {
  streamed += part.response;
  last = part;
}
const history = [
  { role: "user", content: "Name a fruit." },
  { role: "assistant", content: "An apple." },
  { role: "user", content: "And a vegetable?" },
];
const chat = await client.chat({ model, messages: history, options });
let chatStreamed = "";
for await (const part of await client.chat({ model, messages: history, options, stream: true })) {
  chatStreamed += part.message.content;
}
const list = await client.list();
const version = await client.version();
let missing = null;
try {
  await client.generate({ model: "no-such-model", prompt: "x" });
} catch (e) {
  missing = { status: e.status_code, error: e.error };
}
console.log(
  JSON.stringify({
    generate: { response: generated.response, done: generated.done, eval_count: generated.eval_count },
    streamed: { response: streamed, done: last.done, done_reason: last.done_reason },
    chat: { role: chat.message.role, content: chat.message.content, done: chat.done },
    chatStreamed,
    models: list.models.map((m) => m.name),
    version: version.version,
    missing,
  }),
);
