'use strict';
// @sendgrid/mail as its README shows it, pointed at the mirror: sgMail.send(message, isMultiple).
// Input: {baseUrl, apiKey, message, isMultiple?}; `message` uses the SDK's camelCase fields.
// Output: {ok, statusCode, messageId, ...} or the ResponseError as {ok: false, code, message, body, ...}.
const sgMail = require('@sendgrid/mail');
const { run, settle } = require('./harness');

run(async ({ baseUrl, apiKey, message, isMultiple }) => {
  sgMail.setApiKey(apiKey);
  sgMail.client.setDefaultRequest('baseUrl', baseUrl + '/');

  return settle(sgMail.send(message, Boolean(isMultiple)));
});
