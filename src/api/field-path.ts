/**
 * Field paths in the apiserver's notation: `spec.regions[1].zones[0]`, map keys as `status.weights.use1-a`.
 * Errors from the offline validator use the same notation as the apiserver's, so one can be checked against the
 * other and a user sees the same path from `failoverctl validate` and from `kubectl apply`.
 */

export type PathSegment = string | number;

/** Renders segments; numbers are list indexes, strings are field names (or map keys when `mapKeys` says so). */
export function formatPath(segments: readonly PathSegment[], mapKeys: ReadonlySet<number> = new Set()): string {
  let out = '';
  segments.forEach((segment, index) => {
    if (typeof segment === 'number' || mapKeys.has(index)) out += `[${segment}]`;
    else out += out === '' ? segment : `.${segment}`;
  });
  return out;
}

/** Turns a JSON pointer (`/spec/regions/0`) into segments, using the value to tell list indexes from keys. */
export function pointerToSegments(pointer: string, root: unknown): PathSegment[] {
  if (pointer === '' || pointer === '/') return [];
  const segments: PathSegment[] = [];
  let node: unknown = root;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node) && /^\d+$/.test(key)) {
      segments.push(Number(key));
      node = node[Number(key)];
    } else {
      segments.push(key);
      node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
    }
  }
  return segments;
}

/** Reads the value at `segments`, or undefined. */
export function valueAt(root: unknown, segments: readonly PathSegment[]): unknown {
  let node = root;
  for (const segment of segments) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, unknown>)[segment];
  }
  return node;
}

/** Parses a CEL rule's fieldPath (`.zones`, `.database.rds.primary.region`, `['key']`) into segments. */
export function parseFieldPath(fieldPath: string): PathSegment[] {
  const segments: PathSegment[] = [];
  const pattern = /\.([A-Za-z_][A-Za-z0-9_]*)|\['([^']*)'\]|\[(\d+)\]/g;
  for (const match of fieldPath.matchAll(pattern)) {
    if (match[1] !== undefined) segments.push(match[1]);
    else if (match[2] !== undefined) segments.push(match[2]);
    else if (match[3] !== undefined) segments.push(Number(match[3]));
  }
  return segments;
}
