// Renders an injected AWS error exactly as the real service would put it on the wire, so the SDK's own
// deserializer turns it into a typed exception (`err.name === 'Throttling'`, `$metadata.httpStatusCode`, ...).
// A wrong envelope would surface as an "UnknownError" and test nothing about how the operator handles faults.
import type { WireProtocol } from './classify.ts';

export interface InjectedError {
  status: number;
  code: string;
  message?: string;
}

export interface RenderedResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

function xmlEscape(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** AWS says who is at fault: the caller for 4xx, the service for 5xx. */
function faultType(status: number): 'Sender' | 'Receiver' {
  return status >= 500 ? 'Receiver' : 'Sender';
}

export function renderAwsError(
  protocol: WireProtocol,
  error: InjectedError,
  requestId: string,
  requestContentType = '',
): RenderedResponse {
  const message = error.message ?? `injected by the fault proxy: ${error.code}`;
  const code = xmlEscape(error.code);
  const text = xmlEscape(message);
  const type = faultType(error.status);
  switch (protocol) {
    case 'ec2':
      // EC2's query dialect has its own envelope and spells RequestID with a capital D.
      return {
        status: error.status,
        headers: { 'content-type': 'text/xml;charset=UTF-8', 'x-amzn-requestid': requestId },
        body:
          '<?xml version="1.0" encoding="UTF-8"?>\n' +
          `<Response><Errors><Error><Code>${code}</Code><Message>${text}</Message></Error></Errors>` +
          `<RequestID>${requestId}</RequestID></Response>`,
      };
    case 'json':
      // awsJson 1.0/1.1 (CloudWatch since 2025). CloudWatch is "awsQueryCompatible": the SDK takes the code from
      // x-amzn-query-error when present, so send both.
      return {
        status: error.status,
        headers: {
          'content-type': requestContentType.startsWith('application/x-amz-json')
            ? requestContentType
            : 'application/x-amz-json-1.0',
          'x-amzn-requestid': requestId,
          'x-amzn-query-error': `${error.code};${type}`,
        },
        body: JSON.stringify({ __type: error.code, message }),
      };
    case 'query':
    case 'rest-xml':
      // Route 53 (REST-XML) and the query protocol (RDS, CloudWatch before 2025) share this envelope.
      return {
        status: error.status,
        headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
        body:
          '<?xml version="1.0"?>\n' +
          `<ErrorResponse><Error><Type>${type}</Type><Code>${code}</Code><Message>${text}</Message></Error>` +
          `<RequestId>${requestId}</RequestId></ErrorResponse>`,
      };
  }
}
