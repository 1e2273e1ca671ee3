// Types shared by the store contract and its parts (kept apart so the parts do not import the
// file that imports them).
import type { CatalogStore } from '../../../coordinator/catalog/catalog-store.js';

export interface StoreFixture {
  readonly store: CatalogStore;
  /** Closes the store and opens the same storage again; absent for stores that do not persist. */
  readonly reopen?: () => Promise<CatalogStore>;
  readonly cleanup: () => Promise<void>;
}

export type MakeStore = () => Promise<StoreFixture>;

/** What the contract parts see: `store()` is the current store (reopen replaces it). */
export interface ContractContext {
  store(): CatalogStore;
  /** Reopens persistent stores; undefined when the store does not persist. */
  readonly reopen: (() => Promise<CatalogStore>) | undefined;
  /** Known when the tests are defined: reopen tests exist only for stores that persist. */
  readonly persistent: boolean;
}
