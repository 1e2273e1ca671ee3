// The CatalogStore contract, written once and run against every implementation (DESIGN.md §4):
// each store test file calls storeContract with a factory for a fresh, empty store.
import type { CatalogStore } from '../../../coordinator/catalog/catalog-store.js';
import type { ContractContext, MakeStore, StoreFixture } from './contract-context.js';
import { archiveContract } from './contract-archives.js';
import { archiveStatesContract } from './contract-archive-states.js';
import { filesContract } from './contract-files.js';
import { inventoryContract } from './contract-inventory.js';
import { miscContract } from './contract-misc.js';
import { serversContract } from './contract-servers.js';
import { repairTaskContract } from './contract-repair-tasks.js';

export type { ContractContext, MakeStore, StoreFixture };

/** `persistent`: the store keeps data across reopen (in-memory stores get no reopen tests at all). */
export function storeContract(makeStore: MakeStore, o: { persistent: boolean } = { persistent: true }): void {
  let fixture: StoreFixture | undefined;
  let current: CatalogStore | undefined;
  const ctx: ContractContext = {
    persistent: o.persistent,
    store: () => {
      if (current === undefined) throw new Error('no store: the contract runs inside beforeEach');
      return current;
    },
    get reopen() {
      const f = fixture;
      if (f?.reopen === undefined) return undefined;
      return async () => (current = await f.reopen!());
    },
  };
  beforeEach(async () => {
    fixture = await makeStore();
    current = fixture.store;
  });
  afterEach(async () => {
    await fixture?.cleanup();
    fixture = undefined;
    current = undefined;
  });
  describe('servers and disks', () => serversContract(ctx));
  describe('archives', () => archiveContract(ctx));
  describe('archive states and role updates (reclassification)', () => archiveStatesContract(ctx));
  describe('full inventories (mark and sweep)', () => inventoryContract(ctx));
  describe('repair tasks', () => repairTaskContract(ctx));
  describe('files, counts and roles', () => filesContract(ctx));
  describe('tombstones, meta, clearAgentData, reopen', () => miscContract(ctx));
}
