/** A URL as it may appear in messages and logs: without its password (database and SMTP URLs alike). */
export function redact(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@/]*@/i, '$1:***@');
}
