// A web server for the preflight benchmark, in a process of its own so that it answers while the
// benchmark waits on the CLI: /page/N answers 200 with a small page after --delay ms (a distant
// site is slower; this keeps the figure about digest, not the network), /image/N.png a real PNG.
// Prints its port, and on the message "count" answers with the requests it has served.
import { createServer } from 'node:http';
import { deflateSync } from 'node:zlib';

const delayAt = process.argv.indexOf('--delay');
const delay = delayAt === -1 ? 0 : Number(process.argv[delayAt + 1]);
let requests = 0;

/** A real 320×200 PNG (one grey colour), so that the image check reads true dimensions. */
function png(width, height) {
  const crc = (buffer) => {
    let c = ~0;
    for (const byte of buffer) {
      c ^= byte;
      for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
    }
    return ~c >>> 0;
  };
  const chunk = (type, data) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type), data]);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(body));
    return Buffer.concat([length, body, sum]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 0, 0, 0, 0], 8);
  const rows = Buffer.alloc((width + 1) * height, 0x80);
  for (let y = 0; y < height; y++) rows[y * (width + 1)] = 0;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}
const image = png(320, 200);
const page = Buffer.from(`<!doctype html><title>A story</title><p>${'Words of a story. '.repeat(200)}</p>`);

const server = createServer((request, response) => {
  requests++;
  const answer = () => {
    if (request.url?.startsWith('/image/')) {
      response.writeHead(200, { 'content-type': 'image/png', 'content-length': image.length });
      response.end(request.method === 'HEAD' ? undefined : image);
    } else {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': page.length });
      response.end(request.method === 'HEAD' ? undefined : page);
    }
  };
  if (delay) setTimeout(answer, delay);
  else answer();
});
server.keepAliveTimeout = 5000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
process.on('message', (message) => {
  if (message === 'count') process.send({ requests });
  if (message === 'stop') server.close(() => process.exit(0));
});
