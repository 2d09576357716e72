// A suite's test with the Node client (tests/clients/mgmtd-testing.mjs): a client that
// retries once on 503 gets the tenant's database through one injected fault, and the
// journal shows both tries. MGMTD_URL names a server with [testing] enabled.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Harness, HarnessError } from "./mgmtd-testing.mjs";

const harness = new Harness(process.env.MGMTD_URL);

async function listWithOneRetry(t) {
  for (let tries = 0; ; tries++) {
    const r = await fetch(t.url("/databases"), { headers: t.headers() });
    if (r.status !== 503 || tries === 1) return r.json();
  }
}

test("a retry gets through one 503", async () => {
  const t = await harness.tenant({ databases: [{ name: "mydb" }] });
  const dbs = await harness.withFaults(
    [{ method: "GET", path: "/*/databases", status: 503, times: 1 }],
    () => listWithOneRetry(t));
  assert.deepEqual(dbs.map((d) => d.name), ["mydb"]);
  const mine = await harness.requests({ route: Harness.DATABASES });
  assert.deepEqual(mine.slice(-2).map((e) => e.status), [503, 200]);
  await assert.rejects(harness.verify(1, { route: Harness.DATABASES, status: 503, since: 0, method: "POST" }), HarnessError);
  await t.delete();
});

test("a snapshot takes the tenant back before each case", async () => {
  const t = await harness.tenant({ databases: [{ name: "mydb" }] });
  await harness.snapshot("ready", t);
  for (const scratch of ["one", "two"]) {
    await harness.restore("ready");
    const made = await fetch(t.url("/databases"), {
      method: "POST", headers: { ...t.headers(), "Content-Type": "application/json" },
      body: JSON.stringify({ name: scratch }) });
    assert.equal(made.status, 200);
    const dbs = await (await fetch(t.url("/databases"), { headers: t.headers() })).json();
    assert.deepEqual(dbs.map((d) => d.name).sort(), ["mydb", scratch]);
  }
  assert.ok((await harness.exportSnapshot("ready")).snapshot.tables.accounts);
  await harness.dropSnapshot("ready");
  await assert.rejects(harness.restore("ready"), /404 no snapshot named ready/);
  await t.delete();
});
