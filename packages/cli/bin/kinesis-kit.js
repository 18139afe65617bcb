#!/usr/bin/env node
import { runFromProcess } from '../dist/index.js';

await runFromProcess();
