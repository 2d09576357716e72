// A small client of mgmtd's test harness (docs/testing.md) for Node.js test suites:
// Node 20's fetch, no package.
//
//   const harness = new Harness("http://127.0.0.1:8080");
//   const t = await harness.tenant({ databases: [{ name: "mydb" }] });
//   await harness.withFaults([{ path: "/*/databases", status: 503, times: 1 }], async () => {
//     /* the code under test, against t.url("/databases") */
//   });
//   await harness.verify(2, { route: Harness.DATABASES });
//   await t.delete();

export class HarnessError extends Error {}

export class Tenant {
  constructor(harness, answer) {
    this.harness = harness;
    this.accountId = answer.accountId;
    this.clusterId = answer.clusterId;
    this.adminId = answer.admin.id;
    this.adminEmail = answer.admin.email;
    this.managementToken = answer.managementToken.accessToken;
    this.databases = answer.databases;
    this.databaseTokens = answer.databaseTokens;
  }

  // The cluster's API URL, with path after it ("/databases").
  url(path = "") {
    return `${this.harness.url}/api/v0/accounts/${this.accountId}/clusters/${this.clusterId}${path}`;
  }

  headers(credential) {
    return { Authorization: `Bearer ${credential ?? this.managementToken}` };
  }

  async delete() {
    await this.harness.call("DELETE", `/_test/tenants/${this.accountId}`, undefined, 204);
  }
}

export class Harness {
  static DATABASES = "/api/v0/accounts/{accountId}/clusters/{clusterId}/databases";

  constructor(url) {
    this.url = url.replace(/\/+$/, "");
  }

  async call(method, path, body, expect = 200) {
    const init = { method, headers: {} };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const r = await fetch(this.url + path, init);
    const text = await r.text();
    if (r.status !== expect) {
      let why = text;
      try { why = JSON.parse(text).message ?? text; } catch { /* not JSON */ }
      throw new HarnessError(`${method} ${path}: ${r.status} ${why}`);
    }
    return text ? JSON.parse(text) : undefined;
  }

  async tenant(body = {}) {
    return new Tenant(this, await this.call("POST", "/_test/tenants", body));
  }

  async reset() { await this.call("POST", "/_test/reset", undefined, 204); }

  // Saves the whole store, or one tenant's account (PUT /_test/snapshots/NAME).
  async snapshot(name, tenant) {
    return this.call("PUT", `/_test/snapshots/${name}`,
      tenant ? { accountId: tenant.accountId } : undefined);
  }

  // Puts the store (or the snapshot's tenant) back as it was saved, atomically.
  async restore(name) {
    await this.call("POST", `/_test/snapshots/${name}/restore`, undefined, 204);
  }

  // The snapshot as a seed file that `mgmtd serve --seed FILE` loads.
  async exportSnapshot(name) { return this.call("GET", `/_test/snapshots/${name}`); }

  async dropSnapshot(name) {
    await this.call("DELETE", `/_test/snapshots/${name}`, undefined, 204);
  }

  async freeze(now) { return this.call("PUT", "/_test/clock", { now }); }

  async advance(by) { return this.call("POST", "/_test/clock/advance", { by }); }

  async realClock() { await this.call("DELETE", "/_test/clock", undefined, 204); }

  // Runs fn while the rules act; clears them however fn ends.
  async withFaults(rules, fn) {
    await this.call("PUT", "/_test/faults", { rules });
    try {
      return await fn();
    } finally {
      await this.call("DELETE", "/_test/faults", undefined, 204);
    }
  }

  async requests(filters = {}) {
    const q = new URLSearchParams(filters).toString();
    return this.call("GET", `/_test/requests${q ? `?${q}` : ""}`);
  }

  // Throws HarnessError with what differed unless exactly count requests match.
  async verify(count, filters = {}) {
    return (await this.call("POST", "/_test/requests/verify", { ...filters, count })).count;
  }
}
