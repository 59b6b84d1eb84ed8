#!/usr/bin/env node
// The conformance kit a driver package's `npm test` runs: a committed entry point
// (so npm can link it at install, before the first build) over the compiled SDK.
import { runDriverTestCli } from '../dist/conformance/index.js';

process.exitCode = await runDriverTestCli(process.argv.slice(2));
