// Starts oauth2-mock-server on 127.0.0.1 (a free port) and prints one JSON line with its
// issuer URL. PKCE is mandatory here: a token request without a code_verifier, or with one
// that does not match the authorization request's S256 challenge, is refused (the library
// itself checks the match; this wrapper refuses a missing verifier and counts exchanges).
import { OAuth2Server } from 'oauth2-mock-server';

const server = new OAuth2Server();
await server.issuer.keys.generate('RS256');
let exchanges = 0;
server.service.on('beforeResponse', (response, req) => {
  if (req.body && req.body.grant_type === 'authorization_code') {
    exchanges += 1;
    if (!req.body.code_verifier) {
      response.statusCode = 400;
      response.body = { error: 'invalid_request', error_description: 'PKCE code_verifier required' };
    }
  }
});
server.service.on('beforeAuthorizeRedirect', (redirect, req) => {
  const method = req.query.code_challenge_method;
  if (method !== 'S256') {
    redirect.url.searchParams.delete('code');
    redirect.url.searchParams.set('error', 'invalid_request');
  }
});
await server.start(0, '127.0.0.1');
const { port } = server.address();
console.log(JSON.stringify({ issuer: `http://127.0.0.1:${port}` }));
process.on('SIGTERM', async () => {
  console.error(`oauth2-mock-server: ${exchanges} code exchanges`);
  await server.stop();
  process.exit(0);
});
