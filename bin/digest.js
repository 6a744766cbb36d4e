#!/usr/bin/env node
// The executable: runs the compiled CLI and nothing else.
import { main } from '../dist/cli/index.js';

main(process.argv).then((code) => {
  process.exitCode = code;
});
