// Lets unit tests see the real AWS SDK's wire format without a server: a request handler that records the
// signed HTTP request the SDK would send and answers with a canned response.
import { Readable } from 'node:stream';
import type { IncomingCall } from '../../fault-proxy/classify.ts';

interface SdkHttpRequest {
  method: string;
  path: string;
  query?: Record<string, string | string[] | null>;
  headers: Record<string, string>;
  body?: unknown;
}

export interface CannedResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface WireRecorder {
  /** Pass as the client's `requestHandler`. */
  handler: {
    handle(request: SdkHttpRequest): Promise<{ response: unknown }>;
  };
  calls: IncomingCall[];
}

function toUrl(request: SdkHttpRequest): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(request.query ?? {})) {
    for (const v of Array.isArray(value) ? value : [value]) params.append(key, v ?? '');
  }
  const qs = params.toString();
  return qs ? `${request.path}?${qs}` : request.path;
}

export function recordWire(answer: CannedResponse = { status: 200, headers: {}, body: '' }): WireRecorder {
  const calls: IncomingCall[] = [];
  return {
    calls,
    handler: {
      async handle(request) {
        const headers = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), v]));
        calls.push({
          method: request.method,
          url: toUrl(request),
          headers,
          body: typeof request.body === 'string' ? request.body : '',
        });
        // A plain object passes the SDK's duck-typed HttpResponse check.
        return {
          response: {
            statusCode: answer.status,
            headers: answer.headers,
            body: Readable.from([Buffer.from(answer.body)]),
          },
        };
      },
    },
  };
}

export const fakeCredentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
