// `helm lint` and `helm template` with the test bed's Helm: what the chart renders for default and non-default values.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { testbed } from '../../env/testbed.ts';
import { chartDir, helm, type Manifest, only, type Rendered, renderChart, repoRoot } from './render.ts';

type Rule = { apiGroups: string[]; resources: string[]; verbs: string[] };
type Container = {
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
  command: string[];
  args: string[];
  env: Array<{ name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }>;
  livenessProbe: { httpGet: { path: string; port: string } };
  readinessProbe: { httpGet: { path: string; port: string } };
  ports: Array<{ name: string; containerPort: number }>;
  securityContext: Record<string, unknown>;
  resources: { requests?: unknown; limits?: unknown };
};
type PodSpec = {
  volumes?: Array<{ name: string; secret?: { secretName: string } }>;
  serviceAccountName: string;
  containers: Container[];
  topologySpreadConstraints?: Array<{ topologyKey: string; labelSelector: { matchLabels: Record<string, string> } }>;
};

const deploymentOf = (r: Rendered) =>
  only(r.manifests, 'Deployment') as Manifest & {
    spec: { replicas: number; selector: { matchLabels: Record<string, string> }; template: { spec: PodSpec } };
  };
const containerOf = (r: Rendered) => deploymentOf(r).spec.template.spec.containers[0]!;
const envOf = (r: Rendered) => Object.fromEntries(containerOf(r).env.map((e) => [e.name, e]));
const rulesOf = (m: Manifest) => (m as Manifest & { rules: Rule[] }).rules;

/** Every (apiGroup, resource, verb) a rule list grants, as `group/resource:verb`. */
const grants = (rules: Rule[]) =>
  rules
    .flatMap((r) => r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.map((v) => `${g}/${res}:${v}`))))
    .sort();

let helmPath: string;
beforeAll(() => {
  helmPath = testbed().helmPath;
});

describe('helm lint', () => {
  it('passes with default values and with every option changed', async () => {
    await helm(helmPath, ['lint', '--strict', chartDir]);
    await helm(helmPath, [
      'lint',
      '--strict',
      chartDir,
      '--set',
      'watchNamespace=team-a,metrics.serviceMonitor.enabled=true,serviceAccount.roleArn=arn:aws:iam::123456789012:role/fo',
    ]);
  });

  it('rejects values that break values.schema.json', async () => {
    await expect(helm(helmPath, ['lint', chartDir, '--set', 'watchNamespace=Not_A_Namespace'])).rejects.toThrow(
      /watchNamespace/,
    );
    await expect(helm(helmPath, ['lint', chartDir, '--set', 'serviceAccount.roleArn=my-role'])).rejects.toThrow(
      /roleArn/,
    );
    await expect(helm(helmPath, ['lint', chartDir, '--set', 'replicas=3'])).rejects.toThrow(/replicas/);
    // More than the account's 5 Route 53 requests a second, or a fraction above 1 (2 in some seconds).
    for (const share of ['6', '1.5', '0']) {
      await expect(
        helm(helmPath, ['lint', chartDir, '--set', `controller.route53RequestsPerSecond=${share}`]),
      ).rejects.toThrow(/route53RequestsPerSecond/);
    }
  });
});

describe('helm template with default values', () => {
  let r: Rendered;
  beforeAll(async () => {
    r = await renderChart(helmPath, { release: 'fo', namespace: 'failover-system' });
  });

  it('renders the expected objects, CRDs included', () => {
    expect(r.manifests.map((m) => m.kind).sort()).toEqual([
      'ClusterRole',
      'ClusterRole',
      'ClusterRole',
      'ClusterRoleBinding',
      'ClusterRoleBinding',
      'ConfigMap',
      'CustomResourceDefinition',
      'CustomResourceDefinition',
      'Deployment',
      'PodDisruptionBudget',
      'Role',
      'RoleBinding',
      'Service',
      'ServiceAccount',
      'ValidatingAdmissionPolicy',
      'ValidatingAdmissionPolicy',
      'ValidatingAdmissionPolicyBinding',
      'ValidatingAdmissionPolicyBinding',
    ]);
    const clusterScoped = (kind: string) =>
      kind === 'CustomResourceDefinition' || kind.startsWith('Cluster') || kind.startsWith('ValidatingAdmission');
    for (const m of r.manifests.filter((m) => !clusterScoped(m.kind))) {
      expect(m.metadata.namespace, `${m.kind} ${m.metadata.name}`).toBe('failover-system');
    }
  });

  it('runs two replicas of `node --max-semi-space-size=2 dist/cli/failover-operator.js run`, matching the Dockerfile', () => {
    const deployment = deploymentOf(r);
    expect(deployment.spec.replicas).toBe(2);
    const container = containerOf(r);
    const dockerfile = readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8');
    const entrypoint = JSON.parse(/^ENTRYPOINT\s+(\[.*\])$/m.exec(dockerfile)![1]!) as string[];
    const cmd = JSON.parse(/^CMD\s+(\[.*\])$/m.exec(dockerfile)![1]!) as string[];
    expect(container.command).toEqual(entrypoint);
    expect(container.args).toEqual(cmd);
    expect([...container.command, ...container.args]).toEqual([
      'node',
      '--max-semi-space-size=2',
      'dist/cli/failover-operator.js',
      'run',
    ]);
  });

  it('configures the operator through the environment main.ts reads', () => {
    const env = envOf(r);
    expect(env.FO_LEADER_ELECTION_NAMESPACE?.value).toBe('failover-system');
    expect(env.POD_NAME?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.name');
    expect(env.FO_METRICS_PORT?.value).toBe('8443');
    expect(env.FO_METRICS_SECURE?.value).toBe('true');
    expect(env.FO_HEALTH_PORT?.value).toBe('8081');
    expect(env).not.toHaveProperty('FO_METRICS_CERT_DIR');
    expect(env.FO_DRILL_NAMESPACE_LIMIT?.value).toBe('2');
    expect(env.FO_MAX_CONCURRENT_RECONCILES?.value).toBe('16');
    expect(env.FO_MAX_CONCURRENT_URGENT_RECONCILES?.value).toBe('128');
    expect(env.FO_ROUTE53_REQUESTS_PER_SECOND?.value).toBe('4');
    expect(env.FO_LOG_LEVEL?.value).toBe('info');
    expect(env).not.toHaveProperty('FO_WATCH_NAMESPACE');
    const main = readFileSync(path.join(repoRoot, 'src/main.ts'), 'utf8');
    for (const name of Object.keys(env)) expect(main, `main.ts reads ${name}`).toContain(`env.${name}`);
  });

  it('probes /healthz and /readyz on the health port, with resources and a locked-down container', () => {
    const container = containerOf(r);
    expect(container.ports).toEqual([
      { name: 'metrics', containerPort: 8443, protocol: 'TCP' },
      { name: 'health', containerPort: 8081, protocol: 'TCP' },
    ]);
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'health' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'health' });
    expect(container.resources.requests).toBeDefined();
    expect(container.resources.limits).toBeDefined();
    expect(container.securityContext).toEqual({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
  });

  it('spreads replicas across zones and keeps one through disruptions', () => {
    const deployment = deploymentOf(r);
    const [spread] = deployment.spec.template.spec.topologySpreadConstraints ?? [];
    expect(spread?.topologyKey).toBe('topology.kubernetes.io/zone');
    expect(spread?.labelSelector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
    const pdb = only(r.manifests, 'PodDisruptionBudget') as Manifest & {
      spec: { minAvailable: number; selector: { matchLabels: Record<string, string> } };
    };
    expect(pdb.spec.minAvailable).toBe(1);
    expect(pdb.spec.selector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
  });

  it('keeps the spec read-only for the operator with a ValidatingAdmissionPolicy bound to Deny', () => {
    const policy = only(
      r.manifests,
      'ValidatingAdmissionPolicy',
      'fo-failover-operator-policy-spec-read-only',
    ) as Manifest & {
      spec: {
        failurePolicy: string;
        matchConstraints: { resourceRules: Array<{ resources: string[]; operations: string[] }> };
        matchConditions: Array<{ expression: string }>;
        validations: Array<{ expression: string }>;
      };
    };
    expect(policy.spec.failurePolicy).toBe('Fail');
    expect(policy.spec.matchConstraints.resourceRules).toEqual([
      expect.objectContaining({ resources: ['failoverpolicies', 'failoverdrills'], operations: ['UPDATE'] }),
    ]);
    const sa = only(r.manifests, 'ServiceAccount');
    expect(policy.spec.matchConditions[0]?.expression).toBe(
      `request.userInfo.username == 'system:serviceaccount:failover-system:${sa.metadata.name}'`,
    );
    expect(policy.spec.validations.map((v) => v.expression)).toEqual(['object.spec == oldObject.spec']);
    const binding = only(
      r.manifests,
      'ValidatingAdmissionPolicyBinding',
      'fo-failover-operator-policy-spec-read-only',
    ) as Manifest & {
      spec: { policyName: string; validationActions: string[] };
    };
    expect(binding.spec).toEqual({ policyName: policy.metadata.name, validationActions: ['Deny'] });
  });

  it('grants exactly the verbs the code uses, cluster-wide, and Leases only in the release namespace', () => {
    const clusterRole = (suffix: string) =>
      r.manifests.find((m) => m.kind === 'ClusterRole' && m.metadata.name === `fo-failover-operator${suffix}`)!;
    expect(grants(rulesOf(clusterRole('')))).toEqual(
      [
        '/events:create',
        '/events:patch',
        'events.k8s.io/events:create',
        'events.k8s.io/events:patch',
        'failover.io/failoverdrills/status:get',
        'failover.io/failoverdrills/status:patch',
        'failover.io/failoverdrills/status:update',
        'failover.io/failoverdrills:get',
        'failover.io/failoverdrills:list',
        'failover.io/failoverdrills:patch',
        'failover.io/failoverdrills:watch',
        'failover.io/failoverpolicies/status:get',
        'failover.io/failoverpolicies/status:patch',
        'failover.io/failoverpolicies/status:update',
        'failover.io/failoverpolicies:get',
        'failover.io/failoverpolicies:list',
        'failover.io/failoverpolicies:patch', // metadata.finalizers only, enforced by the admission policy below
        'failover.io/failoverpolicies:watch',
      ].sort(),
    );
    const leaseRole = only(r.manifests, 'Role');
    expect(leaseRole.metadata.namespace).toBe('failover-system');
    expect(grants(rulesOf(leaseRole))).toEqual([
      'coordination.k8s.io/leases:create',
      'coordination.k8s.io/leases:get',
      'coordination.k8s.io/leases:update',
    ]);
    // The secure metrics port: the operator reviews tokens; metrics-reader is for scrapers, bound by the user.
    expect(grants(rulesOf(clusterRole('-metrics-auth')))).toEqual([
      'authentication.k8s.io/tokenreviews:create',
      'authorization.k8s.io/subjectaccessreviews:create',
    ]);
    expect(rulesOf(clusterRole('-metrics-reader'))).toEqual([{ nonResourceURLs: ['/metrics'], verbs: ['get'] }]);
    const sa = only(r.manifests, 'ServiceAccount');
    const bindings = r.manifests.filter((m) => m.kind === 'ClusterRoleBinding' || m.kind === 'RoleBinding');
    expect(bindings.map((b) => (b as Manifest & { roleRef: { name: string } }).roleRef.name).sort()).toEqual([
      'fo-failover-operator',
      'fo-failover-operator-leader-election',
      'fo-failover-operator-metrics-auth',
    ]);
    for (const binding of bindings as Array<Manifest & { subjects: unknown[] }>) {
      expect(binding.subjects).toEqual([
        { kind: 'ServiceAccount', name: sa.metadata.name, namespace: 'failover-system' },
      ]);
    }
    expect(sa.metadata.annotations?.['eks.amazonaws.com/role-arn']).toBeUndefined();
  });

  it('exposes metrics through a Service selecting the pods, and no ServiceMonitor', () => {
    const service = only(r.manifests, 'Service') as Manifest & {
      spec: { selector: Record<string, string>; ports: Array<{ port: number; targetPort: string }> };
    };
    expect(service.spec.selector).toEqual(deploymentOf(r).spec.selector.matchLabels);
    expect(service.spec.ports).toEqual([{ name: 'metrics', port: 8443, targetPort: 'metrics', protocol: 'TCP' }]);
    expect(r.manifests.some((m) => m.kind === 'ServiceMonitor')).toBe(false);
    expect(r.manifests.some((m) => m.kind === 'NetworkPolicy')).toBe(false);
  });
});

describe('helm template with non-default values', () => {
  const roleArn = 'arn:aws:iam::123456789012:role/failover-operator';
  let r: Rendered;
  beforeAll(async () => {
    r = await renderChart(helmPath, {
      release: 'fo',
      namespace: 'failover-system',
      set: {
        watchNamespace: 'team-a',
        'metrics.serviceMonitor.enabled': 'true',
        'serviceAccount.roleArn': roleArn,
        'metrics.port': '9090',
        'metrics.secure': 'false',
        'drills.perNamespaceLimit': '5',
        'controller.maxConcurrentReconciles': '64',
        'controller.maxConcurrentUrgentReconciles': '0',
        'controller.route53RequestsPerSecond': '1',
        logLevel: 'debug',
      },
    });
  });

  it('binds a Role in the watched namespace instead of a ClusterRole, and sets FO_WATCH_NAMESPACE', () => {
    expect(r.manifests.some((m) => m.kind === 'ClusterRole' || m.kind === 'ClusterRoleBinding')).toBe(false);
    const roles = r.manifests.filter((m) => m.kind === 'Role');
    expect(roles.map((m) => m.metadata.namespace).sort()).toEqual(['failover-system', 'team-a']);
    const watched = roles.find((m) => m.metadata.namespace === 'team-a')!;
    expect(grants(rulesOf(watched))).toContain('failover.io/failoverpolicies:watch');
    const binding = r.manifests.find(
      (m) => m.kind === 'RoleBinding' && m.metadata.namespace === 'team-a',
    ) as Manifest & {
      roleRef: { kind: string; name: string };
      subjects: Array<{ namespace: string }>;
    };
    expect(binding.roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'Role',
      name: watched.metadata.name,
    });
    expect(binding.subjects[0]?.namespace).toBe('failover-system');
    expect(envOf(r).FO_WATCH_NAMESPACE?.value).toBe('team-a');
    expect(envOf(r).FO_LOG_LEVEL?.value).toBe('debug');
  });

  it('annotates the ServiceAccount for IRSA', () => {
    expect(only(r.manifests, 'ServiceAccount').metadata.annotations).toEqual({ 'eks.amazonaws.com/role-arn': roleArn });
  });

  it('renders a ServiceMonitor scraping the metrics port, which moves with metrics.port', () => {
    const monitor = only(r.manifests, 'ServiceMonitor') as Manifest & {
      spec: { endpoints: Array<{ port: string; path: string }>; namespaceSelector: { matchNames: string[] } };
    };
    expect(monitor.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(monitor.spec.endpoints).toEqual([expect.objectContaining({ port: 'metrics', path: '/metrics' })]);
    // metrics.secure false: plain HTTP, no token, no review permissions.
    expect(monitor.spec.endpoints[0]).not.toHaveProperty('scheme');
    expect(envOf(r).FO_METRICS_SECURE?.value).toBe('false');
    expect(envOf(r).FO_DRILL_NAMESPACE_LIMIT?.value).toBe('5');
    expect(envOf(r).FO_MAX_CONCURRENT_RECONCILES?.value).toBe('64');
    expect(envOf(r).FO_MAX_CONCURRENT_URGENT_RECONCILES?.value).toBe('0');
    expect(envOf(r).FO_ROUTE53_REQUESTS_PER_SECOND?.value).toBe('1');
    expect(monitor.spec.namespaceSelector.matchNames).toEqual(['failover-system']);
    expect(envOf(r).FO_METRICS_PORT?.value).toBe('9090');
    expect(containerOf(r).ports[0]?.containerPort).toBe(9090);
  });
});

describe('helm template: tenancy (docs/tenancy.md)', () => {
  type Deployment = Manifest & {
    spec: {
      template: {
        spec: PodSpec & {
          volumes: Array<{ name: string; configMap?: { name: string } }>;
          containers: Array<Container & { volumeMounts: Array<{ name: string; mountPath: string; subPath?: string }> }>;
        };
      };
    };
  };

  it('by default enforces with nothing granted: grants ConfigMap mounted as a directory, admission policy bound', async () => {
    const r = await renderChart(helmPath, { release: 'fo', namespace: 'failover-system' });
    const cm = only(r.manifests, 'ConfigMap', 'fo-failover-operator-tenancy-grants');
    expect((cm.data as Record<string, string>)['grants.yaml']?.trim()).toBe('{}');
    const pod = (only(r.manifests, 'Deployment') as Deployment).spec.template.spec;
    expect(pod.volumes).toContainEqual({ name: 'tenancy-grants', configMap: { name: cm.metadata.name } });
    // A subPath mount would never see the ConfigMap change.
    expect(pod.containers[0]!.volumeMounts).toContainEqual({
      name: 'tenancy-grants',
      mountPath: '/etc/failover-operator/tenancy',
      readOnly: true,
    });
    expect(envOf(r).FO_TENANCY_GRANTS_FILE?.value).toBe('/etc/failover-operator/tenancy/grants.yaml');
    expect(envOf(r)).not.toHaveProperty('FO_TENANCY');
    const vap = only(r.manifests, 'ValidatingAdmissionPolicy', 'fo-failover-operator-tenancy-grants') as Manifest & {
      spec: { variables: Array<{ name: string; expression: string }> };
    };
    expect(vap.spec.variables[0]).toEqual({ name: 'grants', expression: '{}' });
    expect(only(r.manifests, 'ValidatingAdmissionPolicyBinding', 'fo-failover-operator-tenancy-grants').spec).toEqual({
      policyName: 'fo-failover-operator-tenancy-grants',
      validationActions: ['Deny'],
    });
  });

  it('carries the grants normalised into the admission policy CEL and as written into the ConfigMap', async () => {
    const grants = {
      'team-a': {
        route53: [{ hostedZoneId: 'ZAAAA', recordNames: ['API.a.example.com', '\\052.a.example.com.'] }],
        rds: [{ region: 'us-east-1', dbInstanceIdentifier: 'Orders' }],
        launchTemplates: [{ launchTemplateName: 'orders-lt', region: 'us-east-1' }],
      },
      'team-b': {},
    };
    const r = await renderChart(helmPath, {
      release: 'fo',
      namespace: 'failover-system',
      values: { tenancy: { grants } },
    });
    const vap = only(r.manifests, 'ValidatingAdmissionPolicy', 'fo-failover-operator-tenancy-grants') as Manifest & {
      spec: { variables: Array<{ name: string; expression: string }> };
    };
    expect(JSON.parse(vap.spec.variables[0]!.expression)).toEqual({
      'team-a': {
        route53: ['ZAAAA api.a.example.com.', 'ZAAAA *.a.example.com.'],
        rds: ['us-east-1/orders'],
        launchTemplates: ['us-east-1/orders-lt'],
      },
      'team-b': { route53: [], rds: [], launchTemplates: [] },
    });
    const cm = only(r.manifests, 'ConfigMap', 'fo-failover-operator-tenancy-grants');
    expect(parse((cm.data as Record<string, string>)['grants.yaml']!)).toEqual(grants);
  });

  it('refuses grants values.schema.json does not know (a misspelt key, a bad hosted zone ID)', async () => {
    await expect(
      renderChart(helmPath, {
        release: 'fo',
        namespace: 'x',
        values: { tenancy: { grants: { 'team-a': { route53: [{ hostedZoneId: 'ZA', recordName: ['a.b.'] }] } } } },
      }),
    ).rejects.toThrow(/recordName/);
    await expect(
      renderChart(helmPath, {
        release: 'fo',
        namespace: 'x',
        values: {
          tenancy: { grants: { 'team-a': { route53: [{ hostedZoneId: '/hostedzone/ZA', recordNames: ['a.b.'] }] } } },
        },
      }),
    ).rejects.toThrow(/hostedZoneId/);
  });

  it('tenancy.enforce=false: no admission policy, no ConfigMap, and the operator runs Unrestricted', async () => {
    const r = await renderChart(helmPath, { release: 'fo', namespace: 'x', set: { 'tenancy.enforce': 'false' } });
    expect(r.manifests.filter((m) => m.metadata.name.endsWith('-tenancy-grants'))).toEqual([]);
    expect(envOf(r).FO_TENANCY?.value).toBe('Unrestricted');
    expect(envOf(r)).not.toHaveProperty('FO_TENANCY_GRANTS_FILE');
  });
});

describe('helm template with the secure metrics port, a mounted certificate and the NetworkPolicy', () => {
  let r: Rendered;
  beforeAll(async () => {
    r = await renderChart(helmPath, {
      release: 'fo',
      namespace: 'failover-system',
      set: {
        'metrics.serviceMonitor.enabled': 'true',
        'metrics.certSecret': 'fo-metrics-cert',
        'networkPolicy.enabled': 'true',
        'networkPolicy.apiServer.cidrs[0]': '10.0.0.1/32',
        'networkPolicy.apiServer.except': 'null',
        'networkPolicy.extraEgress[0].to[0].ipBlock.cidr': '10.20.0.0/16',
        'networkPolicy.extraEgress[0].ports[0].port': '8080',
        'networkPolicy.metricsFrom[0].namespaceSelector.matchLabels.name': 'monitoring',
      },
    });
  });

  it('mounts the certificate Secret and points FO_METRICS_CERT_DIR at it', () => {
    expect(envOf(r).FO_METRICS_CERT_DIR?.value).toBe('/etc/failover-operator/metrics-certs');
    expect(containerOf(r).volumeMounts).toContainEqual({
      name: 'metrics-certs',
      mountPath: '/etc/failover-operator/metrics-certs',
      readOnly: true,
    });
    expect(deploymentOf(r).spec.template.spec.volumes).toContainEqual(
      expect.objectContaining({
        name: 'metrics-certs',
        secret: expect.objectContaining({ secretName: 'fo-metrics-cert' }),
      }),
    );
  });

  it('scrapes over HTTPS with the ServiceAccount token, verifying the certificate against the Secret CA', () => {
    const monitor = only(r.manifests, 'ServiceMonitor') as Manifest & { spec: { endpoints: unknown[] } };
    expect(monitor.spec.endpoints).toEqual([
      expect.objectContaining({
        port: 'metrics',
        scheme: 'https',
        bearerTokenFile: '/var/run/secrets/kubernetes.io/serviceaccount/token',
        tlsConfig: {
          serverName: 'fo-failover-operator-metrics.failover-system.svc',
          ca: { secret: { name: 'fo-metrics-cert', key: 'ca.crt' } },
        },
      }),
    ]);
  });

  it('a NetworkPolicy: egress to the apiserver, DNS, AWS over HTTPS without link-local, the extra rules; ingress to metrics and health only', () => {
    const policy = only(r.manifests, 'NetworkPolicy') as Manifest & {
      spec: {
        podSelector: { matchLabels: Record<string, string> };
        policyTypes: string[];
        ingress: Array<{ ports: Array<{ port: string }>; from?: unknown[] }>;
        egress: Array<{ to: unknown[]; ports: Array<{ port: number; protocol: string }> }>;
      };
    };
    expect(policy.spec.podSelector.matchLabels).toEqual(deploymentOf(r).spec.selector.matchLabels);
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy.spec.ingress).toEqual([
      {
        ports: [{ port: 'metrics', protocol: 'TCP' }],
        from: [{ namespaceSelector: { matchLabels: { name: 'monitoring' } } }],
      },
      { ports: [{ port: 'health', protocol: 'TCP' }] },
    ]);
    expect(policy.spec.egress).toEqual([
      {
        to: [{ ipBlock: { cidr: '10.0.0.1/32' } }],
        ports: [
          { port: 443, protocol: 'TCP' },
          { port: 6443, protocol: 'TCP' },
        ],
      },
      {
        to: [
          {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
            podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
          },
        ],
        ports: [
          { port: 53, protocol: 'UDP' },
          { port: 53, protocol: 'TCP' },
        ],
      },
      { to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['169.254.0.0/16'] } }], ports: [{ port: 443, protocol: 'TCP' }] },
      { to: [{ ipBlock: { cidr: '10.20.0.0/16' } }], ports: [{ port: 8080 }] },
    ]);
  });

  it('with default networkPolicy values, the apiserver rule also keeps link-local out', async () => {
    const d = await renderChart(helmPath, {
      release: 'fo',
      namespace: 'failover-system',
      set: { 'networkPolicy.enabled': 'true' },
    });
    const policy = only(d.manifests, 'NetworkPolicy') as Manifest & { spec: { egress: Array<{ to: unknown[] }> } };
    expect(policy.spec.egress[0]?.to).toEqual([{ ipBlock: { cidr: '0.0.0.0/0', except: ['169.254.0.0/16'] } }]);
    expect(policy.spec.egress).toHaveLength(3);
  });
});

describe('helm template: the promotion lock (docs/failover.md)', () => {
  it('passes the table and its regions to the operator, and nothing without a table', async () => {
    const withLock = await renderChart(helmPath, {
      release: 'fo',
      namespace: 'failover-system',
      values: { promotionLock: { table: 'failover-locks', regions: ['us-east-2', 'us-west-2', 'eu-west-1'] } },
    });
    expect(envOf(withLock).FO_PROMOTION_LOCK_TABLE?.value).toBe('failover-locks');
    expect(envOf(withLock).FO_PROMOTION_LOCK_REGIONS?.value).toBe('us-east-2,us-west-2,eu-west-1');
    const without = await renderChart(helmPath, { release: 'fo', namespace: 'failover-system' });
    expect(envOf(without)).not.toHaveProperty('FO_PROMOTION_LOCK_TABLE');
    expect(envOf(without)).not.toHaveProperty('FO_PROMOTION_LOCK_REGIONS');
  });

  it('refuses a table without regions and a table name DynamoDB would refuse', async () => {
    await expect(
      renderChart(helmPath, { release: 'fo', namespace: 'x', values: { promotionLock: { table: 'failover-locks' } } }),
    ).rejects.toThrow(/regions/);
    await expect(
      renderChart(helmPath, {
        release: 'fo',
        namespace: 'x',
        values: { promotionLock: { table: 'no spaces allowed', regions: ['us-east-2'] } },
      }),
    ).rejects.toThrow(/table/);
  });
});

describe('helm template: vantage points (docs/vantage-points.md)', () => {
  it('passes the vantage name and region to the operator, and nothing when they are empty', async () => {
    const vantage = await renderChart(helmPath, {
      release: 'fo',
      namespace: 'failover-system',
      values: { vantage: { name: 'euw1', region: 'eu-west-1' } },
    });
    expect(envOf(vantage).FO_VANTAGE).toEqual({ name: 'FO_VANTAGE', value: 'euw1' });
    expect(envOf(vantage).FO_VANTAGE_REGION).toEqual({ name: 'FO_VANTAGE_REGION', value: 'eu-west-1' });
    const without = await renderChart(helmPath, { release: 'fo', namespace: 'failover-system' });
    expect(envOf(without)).not.toHaveProperty('FO_VANTAGE');
    expect(envOf(without)).not.toHaveProperty('FO_VANTAGE_REGION');
    const empty = await renderChart(helmPath, {
      release: 'fo',
      namespace: 'failover-system',
      values: { vantage: { name: '', region: '' } },
    });
    expect(envOf(empty)).not.toHaveProperty('FO_VANTAGE');
    expect(envOf(empty)).not.toHaveProperty('FO_VANTAGE_REGION');
  });

  it('refuses a name that is not a DNS label and a region that is not a region name', async () => {
    for (const name of ['USE1', 'use_1', '-use1', 'use1-', 'a'.repeat(64)]) {
      await expect(
        renderChart(helmPath, { release: 'fo', namespace: 'x', values: { vantage: { name } } }),
        name,
      ).rejects.toThrow(/vantage\.name|vantage\/name/);
    }
    for (const region of ['us-east', 'US-EAST-1', 'useast1', 'us-east-1a']) {
      await expect(
        renderChart(helmPath, { release: 'fo', namespace: 'x', values: { vantage: { region } } }),
        region,
      ).rejects.toThrow(/vantage\.region|vantage\/region/);
    }
    await expect(
      renderChart(helmPath, { release: 'fo', namespace: 'x', values: { vantage: { zone: 'us-east-1a' } } }),
    ).rejects.toThrow(/zone/);
  });

  it('the per-cluster example values (examples/vantages/) render one vantage each, the rest identical', async () => {
    const dir = path.join(repoRoot, 'examples/vantages');
    const common = parse(readFileSync(path.join(dir, 'values-common.yaml'), 'utf8')) as object;
    const rendered: Record<string, ReturnType<typeof envOf>> = {};
    for (const [name, region] of [
      ['use1', 'us-east-1'],
      ['usw2', 'us-west-2'],
      ['euw1', 'eu-west-1'],
    ] as const) {
      const own = parse(readFileSync(path.join(dir, `values-${name}.yaml`), 'utf8')) as { vantage: object };
      expect(own.vantage).toEqual({ name, region });
      // Helm merges -f files key by key; these files share no key, so a spread is the same merge.
      const env = envOf(
        await renderChart(helmPath, {
          release: 'failover-operator',
          namespace: 'failover-system',
          values: { ...common, ...own },
        }),
      );
      expect(env.FO_VANTAGE?.value).toBe(name);
      expect(env.FO_VANTAGE_REGION?.value).toBe(region);
      expect(env.AWS_REGION?.value).toBe(region);
      rendered[name] = env;
    }
    // The lock is the same table in every cluster: that is what makes one promotion across the three.
    const locks = Object.values(rendered).map((env) => [
      env.FO_PROMOTION_LOCK_TABLE?.value,
      env.FO_PROMOTION_LOCK_REGIONS?.value,
    ]);
    expect(new Set(locks.map((l) => JSON.stringify(l))).size).toBe(1);
    expect(locks[0]?.[0]).toBeTruthy();
  });
});
