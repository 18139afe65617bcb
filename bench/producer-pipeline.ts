/**
 * The producer's in-process pipeline benchmark on its own, run by bench/producer.ts in a child process so
 * it can be measured under other Node flags (a larger young generation). Arguments: the settings as JSON
 * and a suffix for the input label; prints the results as JSON.
 */
import { measurePipeline } from './producer.js';
import type { BenchmarkSettings } from './suite.js';

const [settingsJson = '{}', suffix = ''] = process.argv.slice(2);
const settings = JSON.parse(settingsJson) as BenchmarkSettings;
console.log(JSON.stringify(await measurePipeline(settings, suffix)));
