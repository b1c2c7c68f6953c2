// Works out which AWS call a request is, from the wire alone, so fault rules can target it.
//
// The proxy never sees the SDK's command objects, only HTTP. Every SDK v3 request is SigV4-signed, and the
// signature's credential scope (`<key>/<date>/<region>/<service>/aws4_request`) names the region and the signing
// service. The operation name travels differently per AWS protocol: `X-Amz-Target` for JSON protocols, `Action=`
// for the query protocols (EC2, RDS), and only the method and path for Route 53's REST-XML API.

/** How the service encodes requests and errors on the wire; decides how an injected error must look. */
export type WireProtocol = 'rest-xml' | 'query' | 'ec2' | 'json';

export interface IncomingCall {
  method: string;
  /** Path plus query string, as received (`/2013-04-01/hostedzone?maxitems=1`). */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface ClassifiedCall {
  /** SigV4 signing name: `route53`, `ec2`, `rds`, `monitoring` (CloudWatch); '' when unsigned. */
  service: string;
  region: string;
  action: string;
  protocol: WireProtocol;
}

const credentialScope = /Credential=[^/,\s]+\/\d{8}\/([^/,\s]+)\/([^/,\s]+)\/aws4_request/;

function header(headers: IncomingCall['headers'], name: string): string {
  const value = headers[name];
  return Array.isArray(value) ? (value[0] ?? '') : (value ?? '');
}

/** Region and service from the Authorization header, or from a presigned URL's X-Amz-Credential. */
export function parseCredentialScope(call: Pick<IncomingCall, 'url' | 'headers'>): {
  region: string;
  service: string;
} {
  const fromHeader = credentialScope.exec(header(call.headers, 'authorization'));
  if (fromHeader) return { region: fromHeader[1] ?? '', service: fromHeader[2] ?? '' };
  const presigned = new URL(call.url, 'http://proxy').searchParams.get('X-Amz-Credential');
  const parts = presigned?.split('/') ?? [];
  if (parts.length === 5 && parts[4] === 'aws4_request') return { region: parts[2] ?? '', service: parts[3] ?? '' };
  return { region: '', service: '' };
}

// Route 53's REST operations used by the operator and its tests, as (method, path under /2013-04-01, name).
// Ordered: the first match wins, so longer paths come before their prefixes.
const route53Operations: ReadonlyArray<readonly [string, RegExp, string]> = [
  ['POST', /^\/hostedzone\/[^/]+\/rrset\/?$/, 'ChangeResourceRecordSets'],
  ['GET', /^\/hostedzone\/[^/]+\/rrset\/?$/, 'ListResourceRecordSets'],
  ['GET', /^\/hostedzone\/[^/]+$/, 'GetHostedZone'],
  ['POST', /^\/hostedzone\/[^/]+$/, 'UpdateHostedZoneComment'],
  ['DELETE', /^\/hostedzone\/[^/]+$/, 'DeleteHostedZone'],
  ['POST', /^\/hostedzone\/?$/, 'CreateHostedZone'],
  ['GET', /^\/hostedzone\/?$/, 'ListHostedZones'],
  ['GET', /^\/hostedzonesbyname\/?$/, 'ListHostedZonesByName'],
  ['GET', /^\/hostedzonecount\/?$/, 'GetHostedZoneCount'],
  ['GET', /^\/change\/[^/]+$/, 'GetChange'],
  ['GET', /^\/healthcheck\/[^/]+\/status$/, 'GetHealthCheckStatus'],
  ['GET', /^\/healthcheck\/[^/]+$/, 'GetHealthCheck'],
  ['POST', /^\/healthcheck\/[^/]+$/, 'UpdateHealthCheck'],
  ['DELETE', /^\/healthcheck\/[^/]+$/, 'DeleteHealthCheck'],
  ['POST', /^\/healthcheck\/?$/, 'CreateHealthCheck'],
  ['GET', /^\/healthcheck\/?$/, 'ListHealthChecks'],
  ['GET', /^\/tags\/[^/]+\/[^/]+$/, 'ListTagsForResource'],
  ['POST', /^\/tags\/[^/]+\/[^/]+$/, 'ChangeTagsForResource'],
  ['POST', /^\/tags\/[^/]+\/?$/, 'ListTagsForResources'],
];

/** Route 53 operation name from method and path; `METHOD /path` when the operation is not in the table. */
export function route53Action(method: string, pathname: string): string {
  const rest = pathname.replace(/^\/\d{4}-\d{2}-\d{2}/, '');
  for (const [m, pattern, name] of route53Operations) {
    if (m === method && pattern.test(rest)) return name;
  }
  return `${method} ${pathname}`;
}

export function classifyCall(call: IncomingCall): ClassifiedCall {
  const { region, service } = parseCredentialScope(call);
  const url = new URL(call.url, 'http://proxy');

  const target = header(call.headers, 'x-amz-target');
  if (target) {
    // `GraniteServiceVersion20100801.PutMetricData` -> `PutMetricData`
    return { service, region, action: target.slice(target.lastIndexOf('.') + 1), protocol: 'json' };
  }

  let action = url.searchParams.get('Action') ?? '';
  if (!action && header(call.headers, 'content-type').startsWith('application/x-www-form-urlencoded')) {
    action = new URLSearchParams(call.body).get('Action') ?? '';
  }
  if (action) return { service, region, action, protocol: service === 'ec2' ? 'ec2' : 'query' };

  return { service, region, action: route53Action(call.method, url.pathname), protocol: 'rest-xml' };
}
