#!/usr/bin/env node
'use strict';
// The command's entry point is this committed file rather than the compiled dist/bench/cli.js:
// git keeps this file's executable bit, whereas tsc writes its output without one and npm only
// fixes bin permissions before `prepare` has compiled anything, so a fresh clone's
// `npx recon-kernels` would find a file it may not execute.
require('../dist/bench/cli.js');
