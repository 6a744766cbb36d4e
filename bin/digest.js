#!/usr/bin/env node
// The executable: runs the compiled CLI (one bundle, so start-up does not resolve hundreds of modules) and nothing else.
import { main } from '../dist/bundle/index.js';

main(process.argv).then((code) => {
  process.exitCode = code;
});
