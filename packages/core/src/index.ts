export * from './backoff.js';
export * from './clock.js';
export * from './error-classifier.js';
export * from './errors.js';
export * from './events.js';
export * from './hash-key.js';
export * from './limits.js';
export * from './retry.js';
