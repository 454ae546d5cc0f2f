'use strict';
// @sendgrid/eventwebhook as its README shows it: a receiver checking a signed Event Webhook POST.
// Input: {publicKey, payload, signature, timestamp}; `payload` is the raw request body as text.
// Output: {verified: true|false}.
const { EventWebhook } = require('@sendgrid/eventwebhook');
const { run } = require('./harness');

run(async ({ publicKey, payload, signature, timestamp }) => {
  const eventWebhook = new EventWebhook();
  const key = eventWebhook.convertPublicKeyToECDSA(publicKey);
  return { verified: eventWebhook.verifySignature(key, payload, signature, timestamp) };
});
