/**
 * YAML read the way kubectl reads it, for every file we accept from people (manifests, scenario files).
 *
 * kubectl turns YAML into JSON with sigs.k8s.io/yaml, which decodes with its fork of go-yaml v2 (YAML 1.1 scalars)
 * into interface{} — for a custom resource there is no Go struct to steer it — so a plain (unquoted) y, Y, yes, Yes,
 * YES, on, On, ON, n, N, no, No, NO, off, Off, OFF becomes a JSON boolean, whatever the field (goyaml.v2
 * resolve.go, resolveMapList). `dryRun: yes` is therefore `true`, and `zoneState: on` is the boolean true, which
 * the apiserver refuses for a string field: we report it the same way ("must be a string, got boolean true",
 * fix: quote it). Keys too: `on:` becomes the key "true".
 *
 * Integers too: go-yaml v2 drops every '_' from a plain scalar and reads it with Go's strconv.ParseInt(s, 0, 64), so
 * `010` is 8 (octal), `0b101` is 5 and `1_000` is 1000 — where YAML 1.2 reads 10, and two strings.
 *
 * Nothing else is taken from YAML 1.1: go-yaml v2 keeps timestamps as strings when decoding into interface{} and
 * has no sexagesimal numbers, which the `yaml` package's own '1.1' schema would turn into Dates and 90 for `1:30`.
 * So: the YAML 1.2 core schema, with the 1.1 booleans and go-yaml's integers tried first.
 *
 * Aliases: go-yaml refuses documents whose aliases expand excessively ("billion laughs"); the `yaml` package does
 * the same when converting to JS with maxAliasCount. An undefined alias is an error in both.
 */
import type { Document, ParseOptions, ScalarTag, SchemaOptions, ToJSOptions } from 'yaml';

/** Most aliases one document may resolve (the yaml package's default too). */
export const MAX_ALIAS_COUNT = 100;

const YAML11_TRUE = ['y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON'];
const YAML11_FALSE = ['n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF'];

/** The YAML 1.1 booleans go-yaml v2 resolves, as a tag the core schema tries before reading a plain string. */
export const yaml11Boolean: ScalarTag = {
  identify: (value) => typeof value === 'boolean',
  default: true,
  tag: 'tag:yaml.org,2002:bool',
  test: new RegExp(`^(?:${[...YAML11_TRUE, ...YAML11_FALSE].join('|')})$`),
  resolve: (text) => YAML11_TRUE.includes(text),
};

/** The integers go-yaml v2 reads differently from YAML 1.2: a leading 0 (octal), 0b (binary), '_' anywhere. */
export const goYamlInteger: ScalarTag = {
  identify: (value) => typeof value === 'number' && Number.isInteger(value),
  default: true,
  tag: 'tag:yaml.org,2002:int',
  test: /^[-+]?(?:0[0-7_]+|0b[01_]+|[0-9][0-9_]*_[0-9_]*)$/,
  resolve(text) {
    const plain = text.replace(/_/g, '');
    const sign = plain.startsWith('-') ? -1 : 1;
    const digits = plain.replace(/^[-+]/, '');
    if (digits.startsWith('0b')) return sign * Number.parseInt(digits.slice(2), 2);
    if (digits.length > 1 && digits.startsWith('0')) return sign * Number.parseInt(digits, 8);
    return sign * Number.parseInt(digits, 10);
  },
};

export const KUBECTL_YAML_OPTIONS: ParseOptions & SchemaOptions = {
  schema: 'core',
  // Before the core schema's own tags, which would read `010` as 10 and `1_000` as a string.
  customTags: (tags) => [yaml11Boolean, goYamlInteger, ...tags],
  // go-yaml v2 merges `<<: *defaults` into a mapping, as YAML 1.1 did.
  merge: true,
  uniqueKeys: true,
  prettyErrors: false,
};

export type DocumentValue = { ok: true; value: unknown } | { ok: false; message: string; fix: string };

/** The document as plain data, or why it cannot be (an alias bomb, an alias to no anchor); never throws. */
export function documentToJS(document: Document, options: ToJSOptions = {}): DocumentValue {
  try {
    return { ok: true, value: document.toJS({ maxAliasCount: MAX_ALIAS_COUNT, ...options }) };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (/excessive alias count/i.test(message)) {
      return {
        ok: false,
        message: `its aliases expand to too many nodes (more than ${MAX_ALIAS_COUNT} alias resolutions): refused as a possible "billion laughs" attack`,
        fix: 'Write the values out instead of nesting aliases (*name) inside anchored (&name) lists or mappings.',
      };
    }
    if (/unresolved alias/i.test(message)) {
      return {
        ok: false,
        message: `an alias names no anchor defined before it (${message.replace(/^.*?:\s*/, '*')})`,
        fix: 'Define the anchor (&name) before its first use (*name), in the same document.',
      };
    }
    return {
      ok: false,
      message: `cannot be read: ${message}`,
      fix: 'Check the YAML around anchors, aliases and tags.',
    };
  }
}
