// Stands in for acme-client's axios instance (src/axios.js) in padlock's bundle. padlock sends
// acme-client's requests through its own transport (src/acme/ca-transport.ts, plugged in by
// account.ts), so acme-client never calls axios; loading it cost a tenth of start-up.
"use strict";
function unused() {
  throw new Error("padlock bug: acme-client tried to send a request itself instead of through padlock's CA transport");
}
module.exports = { request: unused, get: unused, defaults: { acmeSettings: {} } };
