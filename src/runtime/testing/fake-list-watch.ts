import type { KubernetesObject } from '@kubernetes/client-node';
import type { ListFn, WatchFn } from '../informer.ts';

export interface Widget extends KubernetesObject {
  spec?: { size: number };
}

export function widget(namespace: string, name: string, resourceVersion: string, size = 1): Widget {
  return { apiVersion: 'x.io/v1', kind: 'Widget', metadata: { namespace, name, resourceVersion }, spec: { size } };
}

export interface WatchCall {
  path: string;
  query: Record<string, string | number | boolean | undefined>;
  emit: (type: string, object: unknown) => void;
  end: (err: unknown) => void;
  controller: AbortController;
}

/** An API server stand-in: a list backed by `objects`, and watches the test drives by hand. */
export function fakeListWatch<T extends KubernetesObject = Widget>() {
  const state = {
    objects: [] as T[],
    resourceVersion: '10',
    listCalls: 0,
    listFailures: 0,
    watches: [] as WatchCall[],
  };
  const list: ListFn<T> = async () => {
    state.listCalls++;
    if (state.listFailures > 0) {
      state.listFailures--;
      throw Object.assign(new Error('service unavailable'), { code: 503 });
    }
    return { items: [...state.objects], metadata: { resourceVersion: state.resourceVersion } };
  };
  const watch: WatchFn = async (path, query, onEvent, onDone) => {
    const controller = new AbortController();
    state.watches.push({ path, query, emit: onEvent, end: onDone, controller });
    return controller;
  };
  const lastWatch = () => {
    const call = state.watches.at(-1);
    if (!call) throw new Error('no watch started');
    return call;
  };
  return { state, list, watch, lastWatch };
}
