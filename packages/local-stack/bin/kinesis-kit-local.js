#!/usr/bin/env node
import { runLocalStackCli } from '../dist/cli.js';

process.exitCode = await runLocalStackCli(process.argv.slice(2));
