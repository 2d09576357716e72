// oidc_idp.mjs - a real, certified OpenID provider (npm oidc-provider) for the
// integration tests, on a kernel-chosen loopback port.
//
//   node tests/node/oidc_idp.mjs AUDIENCE CLIENT_ID CLIENT_SECRET REDIRECT_URI
//
// Signing keys (RSA-2048 "rsa-1", P-256 "ec-1") are made at start. Access tokens
// are RFC 9068 JWTs ("typ": "at+jwt") for the audience, signed RS256 for the
// resource indicator https://mgmtd.test/rs256 and ES256 for .../es256. The
// client may use client_credentials and authorization_code (with the
// development sign-in pages, where any login is accepted as that account).
// Prints one JSON line {"issuer": ...} once it listens; stops on SIGTERM.
import http from 'node:http';
import { generateKeyPairSync } from 'node:crypto';

import Provider, { errors } from 'oidc-provider';

const [audience, clientId, clientSecret, redirectUri] = process.argv.slice(2);
if (!redirectUri) {
  process.stderr.write('usage: oidc_idp.mjs AUDIENCE CLIENT_ID CLIENT_SECRET REDIRECT_URI\n');
  process.exit(2);
}

function signingJwk(type, options, kid, alg) {
  const jwk = generateKeyPairSync(type, options).privateKey.export({ format: 'jwk' });
  return { ...jwk, kid, alg, use: 'sig' };
}

const RESOURCES = {
  'https://mgmtd.test/rs256': 'RS256',
  'https://mgmtd.test/es256': 'ES256',
};

const server = http.createServer();
await new Promise((resolve) => { server.listen(0, '127.0.0.1', resolve); });
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  jwks: {
    keys: [
      signingJwk('rsa', { modulusLength: 2048 }, 'rsa-1', 'RS256'),
      signingJwk('ec', { namedCurve: 'P-256' }, 'ec-1', 'ES256'),
    ],
  },
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    grant_types: ['authorization_code', 'client_credentials'],
    response_types: ['code'],
    redirect_uris: [redirectUri],
  }],
  scopes: ['openid', 'api'],
  features: {
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => 'https://mgmtd.test/rs256',
      useGrantedResource: () => true,
      getResourceServerInfo(ctx, indicator) {
        const alg = RESOURCES[indicator];
        if (!alg) throw new errors.InvalidTarget();
        return {
          scope: 'api',
          audience,
          accessTokenFormat: 'jwt',
          accessTokenTTL: 600,
          jwt: { sign: { alg } },
        };
      },
    },
  },
});

server.on('request', provider.callback());
process.on('SIGTERM', () => { server.close(() => process.exit(0)); });
process.stdout.write(`${JSON.stringify({ issuer })}\n`);
