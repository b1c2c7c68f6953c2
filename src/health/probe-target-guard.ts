// Probes are not a weapon (#15): a probe opens connections from the operator's pod to whatever a policy names, so
// a policy could aim one at the node's instance metadata service and read credentials into status (an HTTP
// probe's detail quotes the status, and bodyMatch turns the body into a yes/no oracle). Link-local addresses
// (169.254.0.0/16, fe80::/10) and AWS's instance-local service addresses are therefore refused unless the probe opts
// in with `allowLinkLocal: true`.
//
// The check is on the address actually connected to, not on the text of the URL: the connection's DNS lookup is
// replaced by one that resolves, checks every answer and hands the socket only checked addresses, so a name that
// resolves to 169.254.169.254 — or starts to, between two lookups (DNS rebinding) — is refused at connect time. A
// literal IP never reaches a lookup, so it is checked before connecting; the WHATWG URL parser has already turned
// the decimal, hex and octal spellings (`http://2852039166/`) into dotted form by then, and a TCP probe's host in
// such a spelling goes through getaddrinfo, which answers with the dotted address the lookup checks.

import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/** Why an address is refused: what lives there, for the message a user reads in status. */
interface RefusedRange {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
  what: string;
}

/**
 * Most specific first: the first match names the service. AWS's addresses, from the EC2 (IMDS), ECS (task metadata
 * v3/v4) and EKS (Pod Identity agent) user guides; fd00:ec2::/64 holds IMDS, the Amazon DNS server, NTP and the Pod
 * Identity agent on IPv6 (Nitro instances).
 */
const REFUSED_RANGES: readonly RefusedRange[] = [
  { address: '169.254.169.254', prefix: 32, family: 'ipv4', what: 'the EC2 instance metadata service (IMDS)' },
  { address: 'fd00:ec2::254', prefix: 128, family: 'ipv6', what: 'the EC2 instance metadata service (IMDS, IPv6)' },
  { address: '169.254.170.2', prefix: 32, family: 'ipv4', what: 'the ECS task metadata and credentials endpoint' },
  { address: '169.254.170.23', prefix: 32, family: 'ipv4', what: 'the EKS Pod Identity agent' },
  { address: 'fd00:ec2::23', prefix: 128, family: 'ipv6', what: 'the EKS Pod Identity agent (IPv6)' },
  { address: 'fd00:ec2::', prefix: 64, family: 'ipv6', what: 'an AWS instance-local service address (fd00:ec2::/64)' },
  { address: '169.254.0.0', prefix: 16, family: 'ipv4', what: 'a link-local address (169.254.0.0/16)' },
  { address: 'fe80::', prefix: 10, family: 'ipv6', what: 'a link-local address (fe80::/10)' },
];

const BLOCK_LISTS: readonly { list: BlockList; what: string }[] = REFUSED_RANGES.map((range) => {
  const list = new BlockList();
  list.addSubnet(range.address, range.prefix, range.family);
  return { list, what: range.what };
});

/**
 * What a refused address is (e.g. "the EC2 instance metadata service (IMDS)"), or undefined for an address a probe
 * may reach. IPv4-mapped IPv6 (`::ffff:169.254.169.254`) counts as the IPv4 address it maps.
 */
export function refusedAddressKind(address: string): string | undefined {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const version = isIP(bare);
  if (version === 0) return undefined;
  const family = version === 4 ? 'ipv4' : 'ipv6';
  return BLOCK_LISTS.find(({ list }) => list.check(bare, family))?.what;
}

/** A probe target that resolved to (or is) an address the probe may not reach. Not retried: the policy must change. */
export class ProbeTargetRefusedError extends Error {
  readonly code = 'EPROBETARGETREFUSED';
  readonly address: string;
  readonly what: string;
  readonly optInField: string | undefined;
  constructor(address: string, what: string, optInField: string | undefined) {
    super(
      `refused to connect to ${address}, ${what}: probes may not reach link-local or instance-metadata addresses${optInField ? ` unless ${optInField} is true` : ''}`,
    );
    this.name = 'ProbeTargetRefusedError';
    this.address = address;
    this.what = what;
    this.optInField = optInField;
  }
}

/** The resolver the guard checks; `dns.lookup` (getaddrinfo, as every socket uses) unless a test injects one. */
export type Resolver = (hostname: string, options: { all: true; family?: number }) => Promise<LookupAddress[]>;

export const systemResolver: Resolver = (hostname, options) =>
  new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true, ...(options.family ? { family: options.family } : {}) }, (err, addresses) =>
      err ? reject(err) : resolve(addresses),
    );
  });

export interface ProbeTargetGuard {
  /** Throws ProbeTargetRefusedError for a literal IP the probe may not reach (a lookup never sees literals). */
  checkLiteral(host: string): void;
  /** A socket `lookup` that resolves, refuses the whole answer if any address is refused, and passes the rest on. */
  lookup: LookupFunction;
}

/**
 * The guard for one probe. `optInField` names the policy field that lifts the refusal, as the message shows it
 * (e.g. `probes[api].http.allowLinkLocal`). With `allowLinkLocal` the guard still resolves through `resolver` but
 * refuses nothing.
 */
export function createProbeTargetGuard(opts: {
  allowLinkLocal: boolean;
  /** Absent where nothing opts in (an RDS endpoint AWS reports is never link-local). */
  optInField?: string;
  resolver?: Resolver;
}): ProbeTargetGuard {
  const resolver = opts.resolver ?? systemResolver;
  const refusal = (address: string): ProbeTargetRefusedError | undefined => {
    if (opts.allowLinkLocal) return undefined;
    const what = refusedAddressKind(address);
    return what === undefined ? undefined : new ProbeTargetRefusedError(address, what, opts.optInField);
  };
  return {
    checkLiteral(host) {
      const err = refusal(host);
      if (err) throw err;
    },
    lookup: ((hostname: string, options: { all?: boolean; family?: number | string }, callback: LookupCallback) => {
      const family = options.family === 'IPv6' || options.family === 6 ? 6 : options.family === 4 ? 4 : undefined;
      resolver(hostname, { all: true, ...(family ? { family } : {}) }).then(
        (addresses) => {
          // One refused answer refuses the name: a resolver that mixes a public and a metadata address is trying
          // its luck with whichever the socket happens to pick.
          const refused = addresses.map((a) => refusal(a.address)).find((e) => e !== undefined);
          if (refused) return callback(refused, options.all ? [] : '', 4);
          if (addresses.length === 0) return callback(notFound(hostname), options.all ? [] : '', 4);
          if (options.all) return callback(null, addresses);
          const first = addresses[0] as LookupAddress;
          return callback(null, first.address, first.family);
        },
        (err: NodeJS.ErrnoException) => callback(err, options.all ? [] : '', 4),
      );
    }) as unknown as LookupFunction,
  };
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

function notFound(hostname: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname });
}
