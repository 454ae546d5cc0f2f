'use strict';
// nodemailer as SendGrid's SMTP tutorials show it (host smtp.sendgrid.net, port 587 or 465, user 'apikey',
// password = the API key), pointed at the mirror: only host, port and, for its self-signed certificate,
// tls.rejectUnauthorized differ. Input: {host, port, secure, user, pass, message}.
// Output: {ok: true, response, messageId, accepted, rejected} or {ok: false, code, responseCode, response}.
const nodemailer = require('nodemailer');
const { run } = require('./harness');

run(async ({ host, port, secure, user, pass, message }) => {
  const transporter = nodemailer.createTransport({
    host,
    port,
    secure, // true for 465, false for other ports (STARTTLS when offered)
    auth: { user, pass },
    tls: { rejectUnauthorized: false },
  });

  try {
    const info = await transporter.sendMail(message);
    return {
      ok: true,
      response: info.response,
      messageId: info.messageId,
      accepted: info.accepted,
      rejected: info.rejected,
    };
  } catch (error) {
    return {
      ok: false,
      code: error.code ?? null,
      responseCode: error.responseCode ?? null,
      response: error.response ?? String(error.message),
    };
  } finally {
    transporter.close();
  }
});
