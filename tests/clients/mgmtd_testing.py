"""A small client of mgmtd's test harness (docs/testing.md) for Python test suites.

    harness = Harness("http://127.0.0.1:8080")
    t = harness.tenant(databases=[{"name": "mydb"}])
    with harness.faults({"path": "/*/databases", "status": 503, "times": 1}):
        ...                                  # the code under test, against t.url(...)
    harness.verify(2, route=Harness.DATABASES)
    t.delete()

Only `requests` (Debian's python3-requests); every call raises on an answer it did not
expect, with the harness's own message.
"""

import requests


class HarnessError(AssertionError):
    """The harness answered otherwise than the call expects (a 412 of verify, say)."""


class Tenant:
    """An account of one's own (POST /_test/tenants): ids, credentials, URLs."""

    def __init__(self, harness, answer):
        self.harness = harness
        self.account_id = answer["accountId"]
        self.cluster_id = answer["clusterId"]
        self.admin_id = answer["admin"]["id"]
        self.admin_email = answer["admin"]["email"]
        self.management_token = answer["managementToken"]["accessToken"]
        self.databases = answer["databases"]
        self.database_tokens = answer["databaseTokens"]

    def url(self, path=""):
        """The cluster's API URL, with path after it ("/databases")."""
        return "%s/api/v0/accounts/%s/clusters/%s%s" % (self.harness.url, self.account_id,
                                                        self.cluster_id, path)

    def account_url(self, path=""):
        return "%s/api/v0/accounts/%s%s" % (self.harness.url, self.account_id, path)

    def headers(self, credential=None):
        return {"Authorization": "Bearer " + (credential or self.management_token)}

    def admin_jwt(self):
        """A JWT for the tenant's admin from the dev identity provider ([dev_idp] on)."""
        return self.harness._call("POST", "/oauth/token",
                                  data={"email": self.admin_email})["access_token"]

    def delete(self):
        self.harness._call("DELETE", "/_test/tenants/" + self.account_id, expect=204)


class _Faults:
    def __init__(self, harness, rules):
        self.harness = harness
        self.rules = list(rules)

    def __enter__(self):
        self.harness._call("PUT", "/_test/faults", json={"rules": self.rules})
        return self

    def applied(self):
        return [r["applied"] for r in self.harness._call("GET", "/_test/faults")["rules"]]

    def __exit__(self, *exc):
        self.harness._call("DELETE", "/_test/faults", expect=204)
        return False


class Harness:
    """mgmtd's test harness at url ([testing] enabled)."""

    DATABASES = "/api/v0/accounts/{accountId}/clusters/{clusterId}/databases"
    TOKENS = "/api/v0/accounts/{accountId}/clusters/{clusterId}/tokens"
    AUTHORIZE = "/api/v0/accounts/{accountId}/clusters/{clusterId}/authorize"

    def __init__(self, url, timeout=10):
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()

    def _call(self, method, path, expect=200, **kw):
        r = self.session.request(method, self.url + path, timeout=self.timeout, **kw)
        if r.status_code != expect:
            try:
                why = r.json().get("message", r.text)
            except ValueError:
                why = r.text
            raise HarnessError("%s %s: %d %s" % (method, path, r.status_code, why))
        return r.json() if r.content else None

    def tenant(self, **body):
        """A new tenant; body as POST /_test/tenants takes it (databases, databaseTokens,
        name, adminEmail)."""
        return Tenant(self, self._call("POST", "/_test/tenants", json=body))

    def reset(self):
        self._call("POST", "/_test/reset", expect=204)

    def freeze(self, now):
        return self._call("PUT", "/_test/clock", json={"now": now})

    def run_clock_from(self, now):
        return self._call("PUT", "/_test/clock", json={"now": now, "running": True})

    def advance(self, by):
        """Moves the clock by a duration such as "36h" or "1h30m"."""
        return self._call("POST", "/_test/clock/advance", json={"by": by})

    def real_clock(self):
        self._call("DELETE", "/_test/clock", expect=204)

    def snapshot(self, name, tenant=None):
        """Saves the whole store, or one tenant's account (PUT /_test/snapshots/NAME)."""
        body = {"accountId": tenant.account_id} if tenant else None
        return self._call("PUT", "/_test/snapshots/" + name, json=body)

    def restore(self, name):
        """Puts the store (or the snapshot's tenant) back as it was saved, atomically."""
        self._call("POST", "/_test/snapshots/%s/restore" % name, expect=204)

    def export(self, name):
        """The snapshot as a seed file (a dict) that `mgmtd serve --seed FILE` loads."""
        return self._call("GET", "/_test/snapshots/" + name)

    def drop_snapshot(self, name):
        self._call("DELETE", "/_test/snapshots/" + name, expect=204)

    def faults(self, *rules):
        """A context in which the rules act (PUT /_test/faults); cleared on leaving."""
        return _Faults(self, rules)

    def requests(self, **filters):
        """The journal (GET /_test/requests): since, method, route, status, actor."""
        return self._call("GET", "/_test/requests", params=filters or None)

    def verify(self, count, **filters):
        """Raises HarnessError with what differed unless exactly count requests match."""
        return self._call("POST", "/_test/requests/verify",
                          json=dict(filters, count=count))["count"]

    def clear_requests(self):
        self._call("DELETE", "/_test/requests", expect=204)
