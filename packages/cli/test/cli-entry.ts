// The bin, run from source: what `kinesis-kit` does after `pnpm build`, without the build.
import { runFromProcess } from '../src/index.js';

await runFromProcess();
