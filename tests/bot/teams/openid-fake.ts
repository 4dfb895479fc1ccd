// A loopback stand-in for the Bot Framework's token signing keys: an OpenID configuration whose
// jwks_uri lists RSA keys generated here, and a way to mint the JWTs the Bot Connector sends with
// each activity (RS256, issuer https://api.botframework.com, audience the bot's app id).
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export const BOT_FRAMEWORK_ISSUER = 'https://api.botframework.com';

export interface SigningKey {
  kid: string;
  privateKey: crypto.KeyObject;
  publicKey: crypto.KeyObject;
}

export interface OpenIdFake {
  /** For the adapter: the OpenID configuration document. */
  metadataUrl: string;
  /** The key the fake publishes (endorsed for msteams). */
  key: SigningKey;
  /** How many times the configuration was fetched. */
  fetches(): number;
  close(): Promise<void>;
}

export function newSigningKey(kid = `kid-${crypto.randomUUID()}`): SigningKey {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid, privateKey, publicKey };
}

const b64url = (v: Buffer | string): string => Buffer.from(v).toString('base64url');

export interface TokenClaims {
  aud: string;
  serviceurl: string;
  iss?: string;
  /** Seconds from now; negative for a token already expired. */
  expiresIn?: number;
  [claim: string]: unknown;
}

/** A JWT as the Bot Connector sends it, signed with `key` (its kid in the header). */
export function mintToken(key: SigningKey, claims: TokenClaims): string {
  const now = Math.floor(Date.now() / 1000);
  const { expiresIn = 3600, iss = BOT_FRAMEWORK_ISSUER, ...rest } = claims;
  const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: key.kid }));
  const payload = b64url(JSON.stringify({ iss, iat: now - 60, nbf: now - 60, exp: now + expiresIn, ...rest }));
  const signature = crypto.sign('RSA-SHA256', Buffer.from(`${header}.${payload}`), key.privateKey);
  return `${header}.${payload}.${b64url(signature)}`;
}

export async function startOpenIdFake(key: SigningKey = newSigningKey()): Promise<OpenIdFake> {
  let fetched = 0;
  let base = '';
  const jwk = key.publicKey.export({ format: 'jwk' });
  const server = http.createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.url === '/v1/.well-known/openidconfiguration') {
      fetched += 1;
      res.end(JSON.stringify({ issuer: BOT_FRAMEWORK_ISSUER, jwks_uri: `${base}/v1/keys`, id_token_signing_alg_values_supported: ['RS256'] }));
      return;
    }
    if (req.url === '/v1/keys') {
      res.end(JSON.stringify({ keys: [{ kty: 'RSA', use: 'sig', kid: key.kid, n: jwk.n, e: jwk.e, endorsements: ['msteams'] }] }));
      return;
    }
    res.statusCode = 404;
    res.end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    metadataUrl: `${base}/v1/.well-known/openidconfiguration`,
    key,
    fetches: () => fetched,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
