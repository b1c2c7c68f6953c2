/**
 * metadata as the apiserver checks it for a custom resource (the CRDs declare `metadata: {type: object}` and leave it
 * to apimachinery's ValidateObjectMetaAccessor with NameIsDNSSubdomain, k8s.io/apimachinery/pkg/api/validation):
 *
 * - name (and generateName, its trailing '-' aside): a DNS-1123 subdomain of at most 253 characters;
 * - namespace: a DNS-1123 label of at most 63 characters;
 * - labels: qualified-name keys (an optional DNS-1123 subdomain prefix of at most 253 characters and '/', then a
 *   name part of at most 63 characters), values of at most 63 characters matching the label-value regex;
 * - annotations: keys as label keys (checked lower-cased, as the apiserver does), every key and value together at
 *   most 256 KiB.
 *
 * Pure: it returns FieldErrors naming the field (`metadata.labels["app/x"]`) and the rule broken.
 */
import type { FieldError } from './validate.ts';

export const DNS1123_SUBDOMAIN_MAX = 253;
export const DNS1123_LABEL_MAX = 63;
export const QUALIFIED_NAME_MAX = 63;
export const LABEL_VALUE_MAX = 63;
/** apimachinery TotalAnnotationSizeLimitB. */
export const ANNOTATIONS_TOTAL_MAX_BYTES = 256 * 1024;

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

const SUBDOMAIN_RULE =
  "must be a DNS-1123 subdomain: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit";
const LABEL_RULE =
  "must be a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit";
const NAME_PART_RULE =
  "name part must consist of letters, digits, '-', '_' or '.', and start and end with a letter or digit";
const LABEL_VALUE_RULE =
  "must be empty or consist of letters, digits, '-', '_' or '.', and start and end with a letter or digit";

/**
 * The metadata errors the apiserver reports, and whether one of them keeps it from running the CEL rules (a
 * TooLong error: the annotations' total size).
 */
export function validateObjectMeta(metadata: Record<string, unknown>): { errors: FieldError[]; blocking: boolean } {
  const errors: FieldError[] = [];
  let blocking = false;

  const name = metadata.name;
  if (name !== undefined && typeof name !== 'string') {
    errors.push({ path: 'metadata.name', value: name, message: 'must be a string', fix: 'Quote the name.' });
  } else if (typeof name === 'string') {
    for (const message of dns1123Subdomain(name)) {
      errors.push({
        path: 'metadata.name',
        value: name,
        message,
        fix: "Use lower-case letters, digits, '-' and '.', at most 253 characters, e.g. checkout.",
      });
    }
  }
  const generateName = metadata.generateName;
  if (typeof generateName === 'string' && name === undefined) {
    // The apiserver checks the prefix with a trailing '-' removed (it appends random characters).
    for (const message of dns1123Subdomain(generateName.replace(/-$/, ''))) {
      errors.push({
        path: 'metadata.generateName',
        value: generateName,
        message,
        fix: "Use lower-case letters, digits, '-' and '.', e.g. checkout-.",
      });
    }
  }

  const namespace = metadata.namespace;
  if (namespace !== undefined && (typeof namespace !== 'string' || namespace !== '')) {
    const problems =
      typeof namespace !== 'string'
        ? ['must be a string']
        : [
            ...(namespace.length > DNS1123_LABEL_MAX ? [`must be no more than ${DNS1123_LABEL_MAX} characters`] : []),
            ...(DNS1123_LABEL.test(namespace) ? [] : [LABEL_RULE]),
          ];
    for (const message of problems) {
      errors.push({
        path: 'metadata.namespace',
        value: namespace,
        message,
        fix: "Use the name of a namespace: lower-case letters, digits and '-', at most 63 characters.",
      });
    }
  }

  const labels = metadata.labels;
  if (labels !== undefined && labels !== null) {
    if (!isStringMap(labels)) {
      errors.push(notAStringMap('metadata.labels', labels));
    } else {
      for (const [key, value] of Object.entries(labels)) {
        const path = `metadata.labels[${JSON.stringify(key)}]`;
        for (const message of qualifiedName(key)) {
          errors.push({
            path,
            value: key,
            message: `key ${message}`,
            fix: "Use a key such as app.kubernetes.io/name: an optional DNS prefix and '/', then at most 63 characters.",
          });
        }
        for (const message of labelValue(value)) {
          errors.push({
            path,
            value,
            message: `value ${message}`,
            fix: "Shorten the value to 63 characters of letters, digits, '-', '_' and '.'; put longer text in an annotation.",
          });
        }
      }
    }
  }

  const annotations = metadata.annotations;
  if (annotations !== undefined && annotations !== null) {
    if (!isStringMap(annotations)) {
      errors.push(notAStringMap('metadata.annotations', annotations));
    } else {
      let total = 0;
      for (const [key, value] of Object.entries(annotations)) {
        total += Buffer.byteLength(key) + Buffer.byteLength(value);
        for (const message of qualifiedName(key.toLowerCase())) {
          errors.push({
            path: `metadata.annotations[${JSON.stringify(key)}]`,
            value: key,
            message: `key ${message}`,
            fix: "Use a key such as example.com/note: an optional DNS prefix and '/', then at most 63 characters.",
          });
        }
      }
      if (total > ANNOTATIONS_TOTAL_MAX_BYTES) {
        blocking = true;
        errors.push({
          path: 'metadata.annotations',
          message: `may not be more than ${ANNOTATIONS_TOTAL_MAX_BYTES} bytes in total (keys and values), it has ${total}`,
          fix: 'Move large content out of annotations, e.g. into a ConfigMap.',
        });
      }
    }
  }
  return { errors, blocking };
}

function dns1123Subdomain(value: string): string[] {
  const messages: string[] = [];
  if (value.length > DNS1123_SUBDOMAIN_MAX) messages.push(`must be no more than ${DNS1123_SUBDOMAIN_MAX} characters`);
  if (!DNS1123_SUBDOMAIN.test(value)) messages.push(SUBDOMAIN_RULE);
  return messages;
}

/** apimachinery IsQualifiedName. */
function qualifiedName(key: string): string[] {
  const parts = key.split('/');
  let name = key;
  const messages: string[] = [];
  if (parts.length === 2) {
    const [prefix, rest] = parts as [string, string];
    name = rest;
    if (prefix.length === 0) messages.push('prefix part must be non-empty');
    else messages.push(...dns1123Subdomain(prefix).map((m) => `prefix part ${m}`));
  } else if (parts.length > 2) {
    return [
      "must be a qualified name: a name part with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    ];
  }
  if (name.length === 0) messages.push('name part must be non-empty');
  else if (name.length > QUALIFIED_NAME_MAX)
    messages.push(`name part must be no more than ${QUALIFIED_NAME_MAX} characters`);
  if (name.length > 0 && !QUALIFIED_NAME_PART.test(name)) messages.push(NAME_PART_RULE);
  return messages;
}

function labelValue(value: string): string[] {
  const messages: string[] = [];
  if (value.length > LABEL_VALUE_MAX) messages.push(`must be no more than ${LABEL_VALUE_MAX} characters`);
  if (!LABEL_VALUE.test(value)) messages.push(LABEL_VALUE_RULE);
  return messages;
}

function isStringMap(value: unknown): value is Record<string, string> {
  return (
    value !== null &&
    typeof value === 'object' &&
    !Array.isArray(value) &&
    Object.values(value).every((v) => typeof v === 'string')
  );
}

function notAStringMap(path: string, value: unknown): FieldError {
  return {
    path,
    message: 'must be a mapping of strings to strings',
    fix: 'Quote values that YAML would read as numbers or booleans, e.g. "true" or "8080".',
    ...(typeof value === 'object' ? {} : { value }),
  };
}
