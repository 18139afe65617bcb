export * from './clients.js';
export * from './dynalite-server.js';
export * from './emulator-server.js';
export * from './fault-proxy/index.js';
export * from './kinesalite-server.js';
export * from './kinesis-mock-server.js';
export * from './local-stack.js';
export * from './streams.js';
