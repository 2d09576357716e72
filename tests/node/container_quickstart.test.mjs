// container_quickstart.test.mjs - mgmtd's image started by Testcontainers (npm
// `testcontainers`) the way an integration suite starts it: environment only, the dev
// seed copied in, an in-memory store, the test harness on ([testing], from the
// environment). Against it: the README's curl quickstart on the seeded account, and
// what a parallel suite does instead, each test taking a tenant of its own
// (POST /_test/tenants) and its management token.
//
//   MGMTD_IMAGE=localhost/mgmtd:test DOCKER_HOST=unix:///path/podman.sock \
//   TESTCONTAINERS_RYUK_DISABLED=true TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1 \
//     node --test tests/node/container_quickstart.test.mjs
//
// tests/container/test_image.py runs it with a `podman system service` socket of
// its own (docs/container.md). Ryuk, Testcontainers' reaper, is an image of its own
// that cannot be pulled here; the test stops its container itself.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { GenericContainer, Wait } from 'testcontainers';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const IMAGE = process.env.MGMTD_IMAGE;

// The README's curl block ("The same over HTTP with curl") and the ACCOUNT its
// first block sets: a script that reads URL and ACCOUNT as the reader's shell has them.
function readmeCurlQuickstart() {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const account = /^ACCOUNT=(\S+)$/m.exec(readme);
  const [, after] = readme.split('The same over HTTP with curl');
  const block = after && /```sh\n([\s\S]*?)```/.exec(after);
  assert.ok(account && block, "README.md's quickstart has no ACCOUNT= line or curl block");
  assert.match(block[1], /^URL=http:\/\/127\.0\.0\.1:8080$/m,
    'the curl block no longer starts from URL=http://127.0.0.1:8080');
  return { account: account[1], script: block[1] };
}

let container;
let url;

before(async () => {
  assert.ok(IMAGE, 'MGMTD_IMAGE names the image to start (make container-test builds it)');
  container = await new GenericContainer(IMAGE)
    .withEnvironment({
      MGMTD_SERVER_DATA_DIR: ':memory:',
      MGMTD_SERVER_SEED_FILE: '/etc/mgmtd/seed.json',
      MGMTD_DEV_IDP_ENABLED: 'true',
      MGMTD_TESTING_ENABLED: 'true',
    })
    .withCopyFilesToContainer([{
      source: join(ROOT, 'config', 'dev-seed.json'), target: '/etc/mgmtd/seed.json', mode: 0o644,
    }])
    .withExposedPorts(8080)
    .withWaitStrategy(Wait.forHttp('/ready', 8080))
    .withStartupTimeout(60_000)
    .start();
  url = `http://${container.getHost()}:${container.getMappedPort(8080)}`;
});

after(async () => {
  await container?.stop();
});

test('the README curl quickstart runs against the image started by Testcontainers', async () => {
  const { account, script } = readmeCurlQuickstart();
  const out = execFileSync('bash', ['-euo', 'pipefail', '-c',
    script.replace(/^URL=.*$/m, `URL=${url}`)], {
    env: { ...process.env, ACCOUNT: account }, encoding: 'utf8', timeout: 60_000,
  });
  // The create answers the token with its secret, the list shows it without.
  const created = /"accessToken":\s*"(M\.V1\.[A-Za-z0-9_-]+)"/.exec(out);
  assert.ok(created, `no management token created:\n${out}`);
  assert.equal(out.split(created[1]).length, 2, 'the secret appears beyond the create answer');
  assert.equal(out.match(/"description":\s*"CI pipeline"/g)?.length, 2, out);

  // The token works against the container, and the test harness resets it away.
  const headers = { Authorization: `Bearer ${created[1]}` };
  const tokens = `${url}/api/v0/accounts/${account}/management/tokens`;
  assert.equal((await fetch(tokens, { headers })).status, 200);
  assert.equal((await fetch(`${url}/_test/reset`, { method: 'POST' })).ok, true);
  assert.equal((await fetch(tokens, { headers })).status, 401);
});

// What docs/container.md shows: a tenant per test, made and removed over HTTP.
async function takeTenant(body) {
  const r = await fetch(`${url}/_test/tenants`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  assert.equal(r.status, 200, await r.clone().text());
  const t = await r.json();
  return {
    ...t,
    headers: { Authorization: `Bearer ${t.managementToken.accessToken}` },
    databases: `${url}/api/v0/accounts/${t.accountId}/clusters/${t.clusterId}/databases`,
  };
}

test('tests in parallel each take a tenant and use its management token', async () => {
  const [a, b] = await Promise.all([takeTenant({ databases: [{ name: 'mydb' }] }),
    takeTenant({ databases: [{ name: 'mydb' }] })]);
  assert.notEqual(a.accountId, b.accountId);
  assert.match(a.managementToken.accessToken, /^M\.V1\./);
  const names = async (t) => (await (await fetch(t.databases, { headers: t.headers })).json())
    .map((db) => db.name).sort();

  // A tenant's token manages its own cluster ...
  const created = await fetch(a.databases, {
    method: 'POST', headers: { ...a.headers, 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: 'only-in-a' }),
  });
  assert.equal(created.status, 200, await created.text());
  assert.deepEqual(await names(a), ['mydb', 'only-in-a']);
  assert.deepEqual(await names(b), ['mydb']);
  // ... and no other tenant's.
  const across = await fetch(b.databases, { headers: a.headers });
  assert.ok([403, 404].includes(across.status), `a's token on b's cluster: ${across.status}`);

  // A tenant goes away whole, its token refused from the next request; the other stays.
  assert.equal((await fetch(`${url}/_test/tenants/${a.accountId}`, { method: 'DELETE' })).status,
    204);
  assert.equal((await fetch(a.databases, { headers: a.headers })).status, 401);
  assert.deepEqual(await names(b), ['mydb']);
  assert.equal((await fetch(`${url}/_test/tenants/${b.accountId}`, { method: 'DELETE' })).status,
    204);
});
