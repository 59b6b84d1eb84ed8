#!/usr/bin/env node
// The `meterhub` command: a committed entry point (so npm can link it at install,
// before the first build) that runs the compiled CLI.
import '../dist/main.js';
