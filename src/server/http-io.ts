/**
 * The request/response plumbing of the signalling server (http-server.ts): JSON replies, bounded body reads
 * counted against the listener's body budget, the Content-Type check and CORS. No routing here.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

import { errorCode } from '../errors.js';
import { parsePeerJson } from '../validation.js';
import type { BodyLease } from './admission.js';
import { HttpError } from './http-error.js';

export const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.wav': 'audio/wav',
  '.txt': 'text/plain; charset=utf-8',
};

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(text)),
    'Cache-Control': 'no-store',
  });
  res.end(text);
}

export function isJsonContentType(value: string | undefined): boolean {
  if (value === undefined) return true; // lenient: clients that omit it still send JSON
  const mime = value.split(';')[0]!.trim().toLowerCase();
  return mime === 'application/json' || (mime.startsWith('application/') && mime.endsWith('+json'));
}

/**
 * Reads the body up to `limit` bytes; over the limit -> HttpError 413 (the rest is drained, not stored). Each
 * chunk is counted on `lease` first; when the listener's body budget is full -> HttpError 503.
 */
export function readBody(req: IncomingMessage, limit: number, lease?: BodyLease): Promise<Buffer> {
  // express.json() or similar may have consumed the stream already.
  const pre = (req as IncomingMessage & { body?: unknown }).body;
  if (pre !== undefined && (req.readableEnded || req.complete)) {
    if (Buffer.isBuffer(pre)) return Promise.resolve(pre);
    if (typeof pre === 'string') return Promise.resolve(Buffer.from(pre));
    return Promise.resolve(Buffer.from(JSON.stringify(pre)));
  }
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume(); // drain without storing so the client can read our 413
    return Promise.reject(new HttpError(413, `Request body too large (max ${limit} bytes)`));
  }
  return new Promise((resolvePromise, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    let busy = false;
    req.on('data', (chunk: Buffer) => {
      if (busy) return; // drained, not stored
      if (lease && !tooLarge && !lease.take(chunk.length)) {
        busy = true;
        chunks.length = 0;
        reject(new HttpError(503, 'Server busy, retry later', { 'Retry-After': '1', Connection: 'close' }));
        return;
      }
      size += chunk.length;
      if (size > limit) {
        tooLarge = true;
        chunks.length = 0;
        // A client streaming far beyond the limit is cut off instead of drained forever.
        if (size > limit * 16) req.destroy();
        return;
      }
      if (!tooLarge) chunks.push(chunk);
    });
    req.on('end', () => {
      if (tooLarge) reject(new HttpError(413, `Request body too large (max ${limit} bytes)`));
      else resolvePromise(Buffer.concat(chunks));
    });
    req.on('error', () => reject(new HttpError(400, 'Request body could not be read')));
    req.on('close', () => {
      if (!req.complete) reject(new HttpError(400, 'Request body incomplete'));
    });
  });
}

export async function readJson(req: IncomingMessage, limit: number, lease?: BodyLease): Promise<unknown> {
  if (!isJsonContentType(req.headers['content-type'])) {
    req.resume();
    throw new HttpError(415, 'Content-Type must be application/json');
  }
  const raw = await readBody(req, limit, lease);
  if (raw.length === 0) throw new HttpError(400, 'Request body is empty');
  try {
    return parsePeerJson(raw.toString('utf8'));
  } catch (err) {
    if (errorCode(err) === 'ERR_MESSAGE_TOO_DEEP') throw new HttpError(400, (err as Error).message);
    throw new HttpError(400, 'Request body is not valid JSON');
  }
}

/** Whether `origin` (an `Origin` header) names the host the request was sent to. */
export function isSameOrigin(origin: string, req: IncomingMessage): boolean {
  try {
    return new URL(origin).host === (req.headers.host ?? '').toLowerCase();
  } catch {
    return false; // "null" (sandboxed frames, file://) and garbage
  }
}

/**
 * Origin check and CORS headers. `preflightHandled` when a preflight was answered or refused; `allowed`
 * false when the request carries an `Origin` that is not allowed.
 */
export function applyCors(
  req: IncomingMessage,
  res: ServerResponse,
  allowed: '*' | 'same-origin' | ReadonlySet<string>,
): { preflightHandled: boolean; allowed: boolean } {
  const origin = req.headers.origin;
  const preflight = req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
  if (origin === undefined) return { preflightHandled: false, allowed: true };
  const ok = allowed === '*' || (allowed === 'same-origin' ? isSameOrigin(origin, req) : allowed.has(origin));
  res.setHeader('Vary', 'Origin');
  if (!ok) {
    if (preflight) {
      sendJson(res, 400, { detail: 'Disallowed CORS origin' });
      return { preflightHandled: true, allowed: false };
    }
    return { preflightHandled: false, allowed: false }; // no CORS headers: the browser blocks the response
  }
  // Echo the origin (not '*') so credentialed requests work, as Starlette's CORSMiddleware does.
  res.setHeader('Access-Control-Allow-Origin', origin);
  res.setHeader('Access-Control-Allow-Credentials', 'true');
  if (preflight) {
    const reqHeaders = req.headers['access-control-request-headers'];
    res.writeHead(204, {
      'Access-Control-Allow-Methods': 'GET, POST, PATCH, PUT, DELETE, OPTIONS',
      'Access-Control-Allow-Headers':
        typeof reqHeaders === 'string' ? reqHeaders : 'Content-Type, Authorization',
      'Access-Control-Max-Age': '600',
      'Content-Length': '0',
    });
    res.end();
    return { preflightHandled: true, allowed: true };
  }
  return { preflightHandled: false, allowed: true };
}
