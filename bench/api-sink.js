// A counting HTTP API sink for the benchmarks, in its own process (as bench/sink.js is for SMTP):
// takes any POST as an accepted message (reads the whole body, answers 200 with a message id, as
// an email API does) and any GET as a successful account check. Prints its port.
import { createServer } from 'node:http';

let count = 0;
let first = 0;
let last = 0;
const server = createServer((request, response) => {
  if (request.method !== 'POST') {
    response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    return;
  }
  request.on('data', () => {});
  request.on('end', () => {
    count++;
    last = performance.now();
    first ||= last;
    response.writeHead(200, { 'content-type': 'application/json' }).end(`{"id":"<${count}.bench@api.example>","message":"Queued. Thank you."}`);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
process.on('message', (message) => {
  if (message === 'window') {
    process.send({ count, seconds: (last - first) / 1000 });
    count = first = last = 0;
  }
  if (message === 'stop') server.close(() => process.exit(0));
});
process.on('disconnect', () => process.exit(0));
