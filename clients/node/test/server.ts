// The one live server this suite shares: the real one, from the repository's venv,
// with the default model and one slot (clients/conformance/README.md).
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export interface Server {
  addr: string;
  stop(): Promise<void>;
}

const ROOT = resolve(__dirname, "../../../..");

export function startServer(): Promise<Server> {
  const models = mkdtempSync(join(tmpdir(), "tokenwire-node-"));
  const child: ChildProcess = spawn(join(ROOT, ".venv", "bin", "python"), ["-m", "server"], {
    cwd: ROOT,
    env: { ...process.env, OLLAMA_MODELS: models, TOKENWIRE_GRPC_ADDR: "127.0.0.1:0", OLLAMA_NUM_PARALLEL: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const stop = (): Promise<void> =>
    new Promise((done) => {
      const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
      child.once("exit", () => {
        clearTimeout(killer);
        rmSync(models, { recursive: true, force: true });
        done();
      });
      child.kill("SIGINT");
    });
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => void stop().then(() => fail(new Error("the server did not start"))), 120_000);
    let seen = "";
    const watch = (data: Buffer): void => {
      seen += data.toString();
      const m = /listening on (\S+):(\d+)/.exec(seen);
      if (m) {
        clearTimeout(timer);
        ok({ addr: `${m[1]}:${m[2]}`, stop });
      }
    };
    child.stdout?.on("data", watch);
    child.stderr?.on("data", watch);
    child.once("exit", (code) => fail(new Error(`the server exited (${String(code)}): ${seen.slice(-2000)}`)));
  });
}
