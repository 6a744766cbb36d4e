import { deflateSync } from 'node:zlib';

/**
 * Small real images made in the test, so no binary fixture is committed: a PNG (RGB, any size,
 * pixels random when `noise` so that it does not compress and weighs what it should) and a baseline
 * JPEG of flat grey that any decoder reads.
 */

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const byte of bytes) c = crcTable[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

export function png(width: number, height: number, options: { noise?: boolean } = {}): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // RGB
  const row = width * 3 + 1;
  const pixels = Buffer.alloc(row * height, 0x80);
  let seed = 12345;
  for (let y = 0; y < height; y++) {
    pixels[y * row] = 0; // filter: none
    if (options.noise) {
      for (let x = 1; x < row; x++) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        pixels[y * row + x] = seed >>> 24;
      }
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(pixels, { level: options.noise ? 0 : 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function segment(marker: number, data: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head[0] = 0xff;
  head[1] = marker;
  head.writeUInt16BE(data.length + 2, 2);
  return Buffer.concat([head, data]);
}

/**
 * A grayscale baseline JPEG, every block flat mid-grey: one-symbol Huffman tables whose only code is
 * `0`, so each 8×8 block is two bits (DC difference 0, end of block). `padding` bytes of comments go
 * before the frame header, pushing the dimensions past the first chunks a reader gets.
 */
export function jpeg(width: number, height: number, options: { padding?: number } = {}): Buffer {
  const parts: Buffer[] = [Buffer.from([0xff, 0xd8])];
  parts.push(segment(0xe0, Buffer.from([0x4a, 0x46, 0x49, 0x46, 0x00, 1, 1, 0, 0, 1, 0, 1, 0, 0]))); // JFIF
  let padding = options.padding ?? 0;
  while (padding > 0) {
    const size = Math.min(padding, 65_000);
    parts.push(segment(0xfe, Buffer.alloc(size, 0x20)));
    padding -= size;
  }
  parts.push(segment(0xdb, Buffer.concat([Buffer.from([0x00]), Buffer.alloc(64, 1)]))); // quantisation table 0
  const frame = Buffer.alloc(9);
  frame[0] = 8;
  frame.writeUInt16BE(height, 1);
  frame.writeUInt16BE(width, 3);
  frame[5] = 1; // one component
  frame[6] = 1; // id
  frame[7] = 0x11; // sampling
  frame[8] = 0; // quantisation table
  parts.push(segment(0xc0, frame));
  const table = (tableClass: number) => Buffer.concat([Buffer.from([tableClass << 4]), Buffer.from([1, ...new Array(15).fill(0)]), Buffer.from([0])]);
  parts.push(segment(0xc4, table(0)), segment(0xc4, table(1)));
  parts.push(segment(0xda, Buffer.from([1, 1, 0x00, 0, 63, 0])));
  const blocks = Math.ceil(width / 8) * Math.ceil(height / 8);
  const bits = blocks * 2;
  const data = Buffer.alloc(Math.ceil(bits / 8), 0);
  if (bits % 8) data[data.length - 1] = 0xff >> (bits % 8); // pad the last byte with 1-bits
  parts.push(data, Buffer.from([0xff, 0xd9]));
  return Buffer.concat(parts);
}
