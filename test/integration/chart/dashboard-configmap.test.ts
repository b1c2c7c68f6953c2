import { describe, expect, it } from 'vitest';
import { testbed } from '../../env/testbed.ts';
import { renderChart } from './render.ts';

describe('chart: Grafana dashboard ConfigMap', () => {
  it('is absent by default and, when enabled, carries the dashboard JSON with the sidecar label', async () => {
    const { helmPath } = testbed();
    const plain = await renderChart(helmPath, { release: 'fo', namespace: 'ops' });
    const dashboards = (r: typeof plain) =>
      r.manifests.filter((m) => m.kind === 'ConfigMap' && m.metadata.labels?.grafana_dashboard !== undefined);
    expect(dashboards(plain)).toEqual([]);

    const rendered = await renderChart(helmPath, {
      release: 'fo',
      namespace: 'ops',
      set: { 'grafana.dashboard.enabled': 'true', 'grafana.dashboard.namespace': 'monitoring' },
    });
    const cm = dashboards(rendered)[0]!;
    expect(dashboards(rendered)).toHaveLength(1);
    expect(cm.metadata.namespace).toBe('monitoring');
    expect(cm.metadata.labels?.grafana_dashboard).toBe('1');
    const json = JSON.parse((cm.data as Record<string, string>)['failover-operator.json']!) as {
      uid: string;
      panels: unknown[];
    };
    expect(json.uid).toBe('failover-operator');
    expect(json.panels.length).toBeGreaterThan(5);
  });
});
