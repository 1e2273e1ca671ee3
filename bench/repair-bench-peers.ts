// Child process of the repair bench: the peers' Stripes services (one per site, insecure, on
// loopback), so the repairing agent's process does only what an executor does (in production
// the sources are other machines). Started by startCluster() with fork(); the parent sends
// { root, count } and gets { addresses } back; 'stop' ends it.
import { getCodec } from '../shared/codec/index.js';
import { setLogLevel } from '../shared/logger.js';
import { startServers, type PeerRequest, type PeerReply } from './repair-bench-cluster.js';

setLogLevel('error');
process.once('message', (msg: PeerRequest) => {
  startServers(msg.root, msg.count, getCodec(), msg.maxStreams).then(
    (s) => {
      process.send?.({ addresses: [...s.addresses] } satisfies PeerReply);
      process.on('message', (m) => {
        if (m === 'stop') void s.stop().then(() => process.exit(0));
      });
      process.on('disconnect', () => void s.stop().then(() => process.exit(0)));
    },
    (err: unknown) => {
      process.send?.({ error: String(err) } satisfies PeerReply);
      process.exit(1);
    },
  );
});
