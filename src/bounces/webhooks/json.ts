/**
 * JSON.parse for webhook bodies, with one difference: an integer too large for a double keeps its
 * digits, as a string. Postmark's bounce IDs are 64-bit (its documented example is
 * 4323372036854775807); read as numbers, two different bounces could round to the same id, and the
 * second would be taken for a repeat of the first. Returns undefined for text that is not JSON.
 */
export function parseJson(body: Buffer | string): unknown {
  try {
    return JSON.parse(quoteLongIntegers(typeof body === 'string' ? body : body.toString('utf8')));
  } catch {
    return undefined;
  }
}

/** Wraps in quotes every integer literal outside strings that a double cannot hold exactly. */
function quoteLongIntegers(json: string): string {
  let out = '';
  let last = 0;
  for (let i = 0; i < json.length; i++) {
    const c = json[i]!;
    if (c === '"') {
      // Skip the string, escapes and all.
      for (i++; i < json.length && json[i] !== '"'; i++) if (json[i] === '\\') i++;
      continue;
    }
    if (c !== '-' && (c < '0' || c > '9')) continue;
    let end = c === '-' ? i + 1 : i;
    while (end < json.length && json[end]! >= '0' && json[end]! <= '9') end++;
    const integer = json[end] !== '.' && json[end] !== 'e' && json[end] !== 'E';
    if (integer && end > i && !Number.isSafeInteger(Number(json.slice(i, end)))) {
      out += `${json.slice(last, i)}"${json.slice(i, end)}"`;
      last = end;
    }
    i = end - 1;
  }
  return last ? out + json.slice(last) : json;
}
