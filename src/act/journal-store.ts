// Where the journal is persisted. The controller's implementation writes it to the policy's status subresource
// (the lead owns it); this interface is all the executor needs. `save` must be durable before it resolves: the
// executor calls AWS only after the intent is saved.

import type { JournalEntry } from './journal.ts';

export interface JournalStore {
  load(policyKey: string): Promise<JournalEntry[]>;
  save(policyKey: string, journal: JournalEntry[]): Promise<void>;
}

export interface InMemoryJournalStore extends JournalStore {
  /** The stored journal (a copy), or [] when none. */
  peek(policyKey: string): JournalEntry[];
}

/** For tests and the simulation. Copies on the way in and out, as a real store would. */
export function createInMemoryJournalStore(
  initial: Record<string, JournalEntry[]> = {},
  hooks: { onSave?(policyKey: string, journal: JournalEntry[]): void | Promise<void> } = {},
): InMemoryJournalStore {
  const journals = new Map<string, JournalEntry[]>(Object.entries(structuredClone(initial)));
  return {
    async load(policyKey) {
      return structuredClone(journals.get(policyKey) ?? []);
    },
    async save(policyKey, journal) {
      await hooks.onSave?.(policyKey, structuredClone(journal));
      journals.set(policyKey, structuredClone(journal));
    },
    peek(policyKey) {
      return structuredClone(journals.get(policyKey) ?? []);
    },
  };
}
