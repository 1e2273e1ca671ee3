// PgCatalogStore: the store contract against a real PostgreSQL server (a throw-away cluster, one
// schema per fixture), reopened too, plus what is PostgreSQL's own.
import { PgCatalogStore } from '../../../coordinator/catalog/pg-store.js';
import { startPostgres, type PostgresServer } from '../../helpers/postgres-server.js';
import { storeContract } from './store-contract.js';

describe('PgCatalogStore', function () {
  this.timeout(60_000);
  let server: PostgresServer;
  let contractDb: string;

  before(async () => {
    server = await startPostgres();
    contractDb = await server.createDatabase('contract');
  });
  after(async () => {
    await server?.stop();
  });

  describe('store contract', () =>
    storeContract(async () => {
      const url = await server.createSchema(contractDb);
      let store = new PgCatalogStore(url);
      return {
        store,
        reopen: async () => {
          await store.close();
          return (store = new PgCatalogStore(url));
        },
        cleanup: () => store.close(),
      };
    }));
});
