// A counting SMTP sink for the benchmarks, run as its own process so it does not share a core's
// event loop with the sender being measured. Prints its port, counts messages, discards them.
// --delay MS: answers each message that much later, as a distant or busy server does.
import { SMTPServer } from 'smtp-server';

let count = 0;
/** When the first and the last message came in: the sending phase, without the senders' start-up. */
let first = 0;
let last = 0;
const delayAt = process.argv.indexOf('--delay');
const delay = delayAt === -1 ? 0 : Number(process.argv[delayAt + 1]);
const server = new SMTPServer({
  disableReverseLookup: true,
  authOptional: true,
  disabledCommands: ['STARTTLS', 'AUTH'],
  logger: false,
  size: 50 * 1024 * 1024,
  onData(stream, _session, callback) {
    stream.on('end', () => {
      count++;
      last = performance.now();
      first ||= last;
      if (delay) setTimeout(() => callback(null, 'ok'), delay);
      else callback(null, 'ok');
    });
    stream.resume();
  },
});
server.on('error', () => {});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${server.server.address().port}\n`);
});
process.on('message', (message) => {
  if (message === 'count') process.send({ count });
  if (message === 'window') {
    process.send({ count, seconds: (last - first) / 1000 });
    count = first = last = 0;
  }
  if (message === 'stop') server.close(() => process.exit(0));
});
// Never outlive the benchmark that started it.
process.on('disconnect', () => process.exit(0));
