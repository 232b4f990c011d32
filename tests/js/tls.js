// TLS and credentials with the Node client (tests/e2e/test_clients_tls.py): mutual TLS
// with an API key lists the models; the same without the key is refused.
const { readFileSync } = require("node:fs");
const { Ollama, ResponseError } = require("../../clients/node/dist/src");

async function main() {
  const tls = {
    rootCerts: readFileSync(process.env.TW_CA),
    certChain: readFileSync(process.env.TW_CERT),
    privateKey: readFileSync(process.env.TW_KEY),
  };
  const host = process.env.TW_ADDR;
  const client = new Ollama({ host, tls, headers: { authorization: `Bearer ${process.env.TW_API_KEY}` } });
  console.log("listed", (await client.list()).models.length);
  client.close();
  const anonymous = new Ollama({ host, tls });
  try {
    await anonymous.list();
    console.log("not refused");
  } catch (e) {
    if (!(e instanceof ResponseError)) throw e;
    console.log("refused", e.status_code, e.codeName);
  }
  anonymous.close();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
