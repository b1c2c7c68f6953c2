/**
 * Reads multi-document YAML (files given to `failoverctl validate`, `failover-operator simulate`, examples) and
 * dispatches each document on its kind. YAML syntax errors and validation errors come back as FieldErrors with
 * the line they point at; nothing here throws on bad input.
 */
import { type Document, LineCounter, parseAllDocuments } from 'yaml';
import type { FailoverDrill } from './drill-schema.ts';
import { type PathSegment, parseFieldPath } from './field-path.ts';
import { API_VERSION, DRILL_KIND, GROUP, POLICY_KIND } from './group.ts';
import { documentToJS, KUBECTL_YAML_OPTIONS } from './kubectl-yaml.ts';
import type { FailoverPolicy } from './policy-schema.ts';
import { type FieldError, type ValidationResult, validateDrill, validatePolicy } from './validate.ts';

export interface ManifestSource {
  /** The file name given to loadManifests, if any. */
  file?: string;
  /** 0-based index of the document in the stream. */
  index: number;
  /** 1-based line where the document starts. */
  line: number;
}

export type LoadedManifest =
  | { type: 'FailoverPolicy'; source: ManifestSource; name?: string; result: ValidationResult<FailoverPolicy> }
  | { type: 'FailoverDrill'; source: ManifestSource; name?: string; result: ValidationResult<FailoverDrill> }
  /** A document of another API (a Namespace, a Secret…): not ours to validate. */
  | { type: 'Other'; source: ManifestSource; apiVersion?: string; kind?: string; object: unknown }
  /** A document that cannot be read: YAML syntax error, not a mapping, or a failover.io kind we do not know. */
  | { type: 'Invalid'; source: ManifestSource; errors: FieldError[] };

/**
 * Parses every document in `yamlText`, reading scalars as kubectl does (kubectl-yaml.ts: `yes`, `on` … are
 * booleans). Empty documents (a trailing `---`) are skipped. A document that cannot be read — a syntax error, an
 * alias bomb, an alias to no anchor — is Invalid on its own; the other documents of the file are still reported.
 */
export function loadManifests(yamlText: string, file?: string): LoadedManifest[] {
  const lineCounter = new LineCounter();
  const documents = parseAllDocuments(yamlText, { ...KUBECTL_YAML_OPTIONS, lineCounter });
  const list = Array.isArray(documents) ? documents : [];
  const out: LoadedManifest[] = [];
  list.forEach((document, index) => {
    const start = document.contents?.range?.[0] ?? document.range?.[0] ?? 0;
    const source: ManifestSource = { ...(file === undefined ? {} : { file }), index, line: lineOf(lineCounter, start) };
    if (document.errors.length > 0) {
      out.push({ type: 'Invalid', source, errors: document.errors.map((error) => syntaxError(error, lineCounter)) });
      return;
    }
    const read = documentToJS(document);
    if (!read.ok) {
      const where = `document ${index + 1}${file === undefined ? '' : ` of ${file}`}`;
      out.push({
        type: 'Invalid',
        source,
        errors: [{ path: '', line: source.line, message: `${where}: ${read.message}`, fix: read.fix }],
      });
      return;
    }
    const object = read.value;
    if (object === null || object === undefined) return;
    out.push(dispatch(object, document, lineCounter, source));
  });
  return out;
}

function dispatch(object: unknown, document: Document, lines: LineCounter, source: ManifestSource): LoadedManifest {
  if (typeof object !== 'object' || Array.isArray(object) || object === null) {
    return {
      type: 'Invalid',
      source,
      errors: [
        {
          path: '',
          value: object,
          line: source.line,
          message: `document ${source.index + 1} is not a mapping of fields`,
          fix: `Start each document with apiVersion: ${API_VERSION} and a kind.`,
        },
      ],
    };
  }
  const { apiVersion, kind, metadata } = object as { apiVersion?: unknown; kind?: unknown; metadata?: unknown };
  const name =
    typeof (metadata as { name?: unknown } | undefined)?.name === 'string'
      ? (metadata as { name: string }).name
      : undefined;
  const withName = name === undefined ? {} : { name };
  const ours = typeof apiVersion === 'string' && apiVersion.split('/')[0] === GROUP;
  if (kind === POLICY_KIND && (ours || apiVersion === undefined)) {
    return { type: 'FailoverPolicy', source, ...withName, result: withLines(validatePolicy(object), document, lines) };
  }
  if (kind === DRILL_KIND && (ours || apiVersion === undefined)) {
    return { type: 'FailoverDrill', source, ...withName, result: withLines(validateDrill(object), document, lines) };
  }
  if (ours || kind === undefined) {
    return {
      type: 'Invalid',
      source,
      errors: [
        {
          path: 'kind',
          value: kind,
          line: source.line,
          message: kind === undefined ? 'is required' : `is not a kind of ${GROUP}`,
          fix: `Use kind: ${POLICY_KIND} or kind: ${DRILL_KIND} with apiVersion: ${API_VERSION}.`,
        },
      ],
    };
  }
  return {
    type: 'Other',
    source,
    ...(typeof apiVersion === 'string' ? { apiVersion } : {}),
    ...(typeof kind === 'string' ? { kind } : {}),
    object,
  };
}

/** Adds the source line of each error: the field's own line, or that of its closest existing ancestor. */
function withLines<T>(result: ValidationResult<T>, document: Document, lines: LineCounter): ValidationResult<T> {
  if (result.ok) return result;
  return {
    ok: false,
    errors: result.errors.map((error) => ({ ...error, line: lineOfPath(error.path, document, lines) })),
  };
}

function lineOfPath(path: string, document: Document, lines: LineCounter): number {
  const segments = splitPath(path);
  for (let length = segments.length; length >= 0; length--) {
    const node = document.getIn(segments.slice(0, length), true) as { range?: [number, number, number] } | undefined;
    if (node?.range) return lineOf(lines, node.range[0]);
    // A scalar's key is on the same line as the scalar; a missing field points at its parent.
  }
  return lineOf(lines, document.range?.[0] ?? 0);
}

/** `spec.regions[1].zones[0]` → ['spec', 'regions', 1, 'zones', 0]; a bracketed map key `[a.b]` stays whole. */
function splitPath(path: string): PathSegment[] {
  if (path === '') return [];
  const normalized = `.${path}`.replace(/\[(\d+)\]/g, '[$1]').replace(/\[([^\]\d][^\]]*)\]/g, "['$1']");
  return parseFieldPath(normalized);
}

function syntaxError(
  error: { message: string; pos: [number, number]; linePos?: [{ line: number; col: number }, ...unknown[]] },
  lines: LineCounter,
): FieldError {
  const position = error.linePos?.[0] ?? lines.linePos(error.pos[0]);
  const firstLine = error.message.split('\n')[0] ?? error.message;
  return {
    path: '',
    line: position.line,
    message: `YAML syntax error at line ${position.line}, column ${position.col}: ${firstLine.replace(/ at line \d+, column \d+:?$/, '')}`,
    fix: 'Check the indentation and quoting around that line (YAML indents with spaces, never tabs).',
  };
}

function lineOf(lines: LineCounter, offset: number): number {
  return lines.linePos(offset).line;
}
