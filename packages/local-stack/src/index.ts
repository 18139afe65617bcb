/**
 * Kinesis and DynamoDB emulators on 127.0.0.1 for tests, demos and local development.
 *
 * @packageDocumentation
 * @module @kinesis-kit/local-stack
 */
export * from './clients.js';
export * from './dynalite-server.js';
export * from './emulator-server.js';
export * from './fault-proxy/index.js';
export * from './kinesalite-server.js';
export * from './kinesis-mock-server.js';
export * from './local-stack.js';
export * from './local-stack-environment.js';
export * from './streams.js';
