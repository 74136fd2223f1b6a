// A real OpenID Connect provider (npm `oidc-provider`) for Rampart's trusted-issuer tests.
//
// Serves HTTPS on 127.0.0.1 with a certificate from the test CA, and issues
// client_credentials access tokens as JWTs (ES256) for any resource indicator,
// carrying a `groups` claim and the claims of OIDC_EXTRA_CLAIMS (a JSON object,
// such as `amr` and `acr`). Its signing key is generated at start; the
// PKCS#8 form is written to OIDC_KEY_OUT so that a test can forge a token
// with this provider's key but another issuer. Prints "ready" once listening.
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const env = (name) => {
  const value = process.env[name];
  if (!value) {
    console.error(`missing environment variable ${name}`);
    process.exit(2);
  }
  return value;
};

const moduleDir = env('OIDC_PROVIDER_DIR');
const port = Number(env('OIDC_PORT'));
const issuer = `https://127.0.0.1:${port}`;
const entry = path.join(moduleDir, 'node_modules', 'oidc-provider', 'lib', 'index.js');
const { default: Provider } = await import(pathToFileURL(entry).href);

const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'test-es256', alg: 'ES256', use: 'sig' };
fs.writeFileSync(env('OIDC_KEY_OUT'), privateKey.export({ type: 'pkcs8', format: 'der' }), { mode: 0o600 });

const provider = new Provider(issuer, {
  clients: [{
    client_id: env('OIDC_CLIENT_ID'),
    client_secret: env('OIDC_CLIENT_SECRET'),
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'ES256',
  }],
  jwks: { keys: [jwk] },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      async getResourceServerInfo(_ctx, resourceIndicator) {
        return {
          scope: 'api:read',
          audience: resourceIndicator,
          accessTokenFormat: 'jwt',
          accessTokenTTL: 300,
          jwt: { sign: { alg: 'ES256' } },
        };
      },
    },
  },
  async extraTokenClaims() {
    const extra = JSON.parse(process.env.OIDC_EXTRA_CLAIMS || '{}');
    return { ...extra, groups: (process.env.OIDC_GROUPS || 'desk-auditors').split(',') };
  },
});

const server = https.createServer(
  { cert: fs.readFileSync(env('OIDC_CERT')), key: fs.readFileSync(env('OIDC_KEY')) },
  provider.callback(),
);
server.listen(port, '127.0.0.1', () => console.log('ready'));
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
