// An adapter whose module (and so its AWS SDK package) is imported on its first call, not at start-up. The SDK
// packages of EC2, RDS, CloudWatch and DynamoDB cost 30–90 MiB of RSS each on import; most runs use a few of them,
// some none (index.ts). Every method of the adapter must be listed: a method the real adapter has and the lazy one
// lacks would change behaviour (the engine tests optional methods such as Compute.listVolumes for presence).

/** The adapter's methods (each returns a promise), each named once; `true` marks it as forwarded. */
export type MethodNames<T> = { [K in keyof T]-?: true };

/**
 * A stand-in for the adapter `load` makes: each listed method awaits the first load and forwards to it. A load that
 * failed is tried again on the next call (a transient import failure must not disable the adapter for good).
 */
export function lazyAdapter<T extends object>(load: () => Promise<T>, methods: MethodNames<T>): T {
  let loading: Promise<T> | undefined;
  const adapter = () => {
    loading ??= load().catch((err: unknown) => {
      loading = undefined;
      throw err;
    });
    return loading;
  };
  const forwarded = Object.keys(methods).map((name) => [
    name,
    async (...args: unknown[]) => {
      const real = (await adapter()) as Record<string, (...a: unknown[]) => Promise<unknown>>;
      return real[name]!.apply(real, args);
    },
  ]);
  return Object.fromEntries(forwarded) as T;
}
