import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { TenancyGrantsSchema } from '../../../src/api/tenancy.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

describe('chart values.schema.json: tenancy.grants', () => {
  it('is the schema the operator checks its grants file with (src/api/tenancy.ts), so Helm refuses what it would', () => {
    const schema = JSON.parse(readFileSync(path.join(repoRoot, 'charts/failover-operator/values.schema.json'), 'utf8'));
    const { description: _description, ...grants } = schema.properties.tenancy.properties.grants;
    expect(grants).toEqual(JSON.parse(JSON.stringify(TenancyGrantsSchema)));
  });
});
