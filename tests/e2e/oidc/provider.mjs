// A real OAuth 2.1 authorization server on loopback for the end-to-end tests: panva's oidc-provider.
//
// Usage: node provider.mjs CONFIG.json
//
// CONFIG.json: {"resource": "http://127.0.0.1:PORT/mcp",           the MCP server's resource indicator
//               "scopes": ["lanying:read", ...],                   what that resource server accepts
//               "ttl": 600,                                        access-token lifetime, seconds
//               "format": "jwt",                                   or "opaque": tokens checked by introspection
//               "clients": [{"client_id", "client_secret", "scope", "email"?, "name"?,
//                            "auth": "client_secret_post"}, ...]}       or client_secret_basic
//
// Each client stands for one admin and gets tokens by the client-credentials grant, so a test drives it
// without a browser. A token request must name the resource (RFC 8707); the token is then a JWT access
// token (RFC 9068) with `aud` = that resource, `sub` = the client id, the granted scopes, and the admin's
// email and name where the config gives them. Any other resource is refused with invalid_target.
// With "format": "opaque" the tokens are opaque instead, and introspection (RFC 7662, at
// /token/introspection) answers with the same claims, `sub` included.
//
// The server listens on 127.0.0.1 on a port the system chooses, then prints one JSON line to stdout,
// {"issuer": "http://127.0.0.1:PORT", "port": PORT}, for the test fixture. Logs go to stderr. A fresh
// RSA signing key is made at each start; the JWKS is at /jwks, discovery at
// /.well-known/openid-configuration.
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

import Provider, { errors } from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const { resource, scopes, clients } = config;
const ttl = config.ttl ?? 600;
const format = config.format ?? 'jwt';
const people = new Map(clients.map((c) => [c.client_id, c]));

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'test-signing-key-1', use: 'sig', alg: 'RS256' };

const server = createServer();
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: clients.map((c) => ({
      client_id: c.client_id,
      client_secret: c.client_secret,
      scope: c.scope,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: c.auth ?? 'client_secret_post',
    })),
    jwks: { keys: [signingKey] },
    scopes,
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => resource,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, indicator) => {
          if (indicator !== resource) {
            throw new errors.InvalidTarget(`this server issues tokens for ${resource} only`);
          }
          return {
            scope: scopes.join(' '),
            audience: resource,
            accessTokenTTL: ttl,
            accessTokenFormat: format,
            ...(format === 'jwt' ? { jwt: { sign: { alg: 'RS256' } } } : {}),
          };
        },
      },
    },
    extraTokenClaims: (_ctx, token) => {
      const who = people.get(token.clientId);
      if (!who) return undefined;
      // A client-credentials token has no account: its subject is the client. A JWT says so itself;
      // an opaque token's introspection answer shows it only as an extra claim.
      const claims = format === 'opaque' ? { sub: token.clientId } : {};
      if (who.email) claims.email = who.email;
      if (who.name) claims.name = who.name;
      return claims;
    },
  });
  provider.proxy = false;
  provider.on('server_error', (_ctx, err) => console.error('server_error', err));
  provider.on('grant.error', (_ctx, err) => console.error('grant.error', err.message, err.error_description ?? ''));
  server.on('request', provider.callback());
  process.stdout.write(`${JSON.stringify({ issuer, port })}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => process.exit(0));
}
