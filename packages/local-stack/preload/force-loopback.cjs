// Preloaded into emulators that hard-code their listen address (kinesis-mock binds 0.0.0.0, kinesalite's CLI
// has no --host): every TCP server the process opens is moved onto 127.0.0.1, so nothing is reachable from
// outside this machine. Pipes (string paths) are left alone.
'use strict';
const net = require('node:net');

const listen = net.Server.prototype.listen;
const isPort = (value) => typeof value === 'number' || (typeof value === 'string' && /^\d+$/.test(value));

net.Server.prototype.listen = function listenOnLoopback(...args) {
  const [first] = args;
  if (first !== null && typeof first === 'object' && !Array.isArray(first) && first.path === undefined) {
    args[0] = { ...first, host: '127.0.0.1' };
  } else if (isPort(first)) {
    const second = args[1];
    if (typeof second === 'string' || second === undefined || second === null) args[1] = '127.0.0.1';
    else args.splice(1, 0, '127.0.0.1');
  }
  return listen.apply(this, args);
};
