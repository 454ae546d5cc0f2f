'use strict';
// @sendgrid/client as its README shows it, pointed at the mirror; runs the given requests in order.
// Input: {baseUrl, apiKey, requests: [{method, url, body?, qs?, headers?}]}.
// Output: {results: [{ok, statusCode, messageId, headers, body} | {ok: false, name, code, message, body, ...}]}.
const client = require('@sendgrid/client');
const { run, settle } = require('./harness');

run(async ({ baseUrl, apiKey, requests }) => {
  client.setApiKey(apiKey);
  client.setDefaultRequest('baseUrl', baseUrl + '/');

  const results = [];
  for (const request of requests) {
    results.push(await settle(client.request(request)));
  }
  return { results };
});
