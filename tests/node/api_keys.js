'use strict';
// An API key's life through @sendgrid/client: create, list, read, delete, read again (404).
// Input: {baseUrl, apiKey, name, scopes}. Output: one entry per step, keyed by the step's name.
const client = require('@sendgrid/client');
const { run, settle } = require('./harness');

run(async ({ baseUrl, apiKey, name, scopes }) => {
  client.setApiKey(apiKey);
  client.setDefaultRequest('baseUrl', baseUrl + '/');

  const created = await settle(client.request({ method: 'POST', url: '/v3/api_keys', body: { name, scopes } }));
  if (!created.ok) {
    return { created };
  }
  const id = created.body.api_key_id;
  const listed = await settle(client.request({ method: 'GET', url: '/v3/api_keys', qs: { limit: 50 } }));
  const fetched = await settle(client.request({ method: 'GET', url: `/v3/api_keys/${id}` }));
  const deleted = await settle(client.request({ method: 'DELETE', url: `/v3/api_keys/${id}` }));
  const gone = await settle(client.request({ method: 'GET', url: `/v3/api_keys/${id}` }));
  return { created, listed, fetched, deleted, gone };
});
