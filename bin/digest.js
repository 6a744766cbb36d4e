#!/usr/bin/env node
// The executable: runs the compiled CLI (one bundle, so start-up does not resolve hundreds of modules) and nothing else.
// A command that compiles MJML has mjml start loading on another thread first, while the rest of the CLI loads
// (mjml's load is most of such a command's time); the command itself asks for it again, which costs nothing.
const command = process.argv.slice(2).find((argument) => !argument.startsWith('-'));
if (command === 'build' || command === 'check' || command === 'preview') (await import('../dist/bundle/compile.js')).prepareMjml();
const { main } = await import('../dist/bundle/index.js');

main(process.argv).then((code) => {
  process.exitCode = code;
});
