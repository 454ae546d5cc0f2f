'use strict';
// Plumbing shared by the scripts (not SDK usage): read one JSON object from stdin, print one JSON line.
// tests/support/node.py runs a script with the payload on stdin and parses the last line of stdout.

function readInput() {
  return new Promise((resolve, reject) => {
    let text = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', chunk => { text += chunk; });
    process.stdin.on('end', () => {
      try {
        resolve(text.trim() ? JSON.parse(text) : {});
      } catch (error) {
        reject(error);
      }
    });
    process.stdin.on('error', reject);
  });
}

// A resolved SDK call: `[response, body]` from client.request() or sgMail.send().
function describeResponse([response, body]) {
  const headers = JSON.parse(JSON.stringify(response.headers || {}));
  return {
    ok: true,
    statusCode: response.statusCode,
    messageId: headers['x-message-id'] ?? null,
    headers,
    body: body === undefined ? null : body,
  };
}

// A rejected SDK call: a ResponseError for HTTP >= 400, otherwise whatever axios or the helpers threw.
function describeError(error) {
  const described = {
    ok: false,
    name: error && error.constructor ? error.constructor.name : typeof error,
    code: error && error.code !== undefined ? error.code : null,
    message: error && error.message !== undefined ? String(error.message) : String(error),
  };
  if (error && error.response && 'body' in error.response) {
    described.body = error.response.body === undefined ? null : error.response.body;
    described.headers = JSON.parse(JSON.stringify(error.response.headers || {}));
    described.text = error.toString();
  }
  return described;
}

async function settle(promise) {
  try {
    return describeResponse(await promise);
  } catch (error) {
    return describeError(error);
  }
}

function report(result) {
  process.stdout.write(JSON.stringify(result) + '\n');
}

// Runs `main(input)` and prints what it returns; a crash prints {"crash": ...} and exits 1.
function run(main) {
  readInput()
    .then(main)
    .then(report)
    .catch(error => {
      report({ crash: describeError(error), stack: error && error.stack ? String(error.stack) : null });
      process.exitCode = 1;
    });
}

module.exports = { run, settle };
