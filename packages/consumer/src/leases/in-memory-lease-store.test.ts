import { describeLeaseStoreBehaviour } from '../../test/support/lease-store-behaviour.js';
import { describeWorkerHeartbeatStoreBehaviour } from '../../test/support/worker-heartbeat-store-behaviour.js';
import { InMemoryLeaseStore } from './in-memory-lease-store.js';

describeLeaseStoreBehaviour('in-memory', async () => new InMemoryLeaseStore());

describeWorkerHeartbeatStoreBehaviour('in-memory', async () => new InMemoryLeaseStore().workerHeartbeats);
